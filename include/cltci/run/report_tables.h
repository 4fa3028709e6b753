// The paper's tables as files: one table per metric (Dice; HD95 and ASSD when the evaluations
// carry them), rows = initialisation grouped by backbone, columns = M, cells mean(std) over
// folds x seeds, the best of each column within a backbone in bold; written as Markdown, CSV and
// LaTeX (booktabs), with the Dice-vs-M figure beside them.
#pragma once

#include "cltci/engine/fold_summary.h"

#include <opencv2/core/mat.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cltci::run {

enum class Better { kHigher, kLower };

struct TableRow {
  std::string initialisation;
  /// Per M, in the metric's own units (Dice as a fraction); n = 0 or no entry prints "–".
  std::map<std::int64_t, engine::MeanStd> cells;
};

struct TableGroup {
  std::string backbone;  ///< the evaluate summary's "arch"; "unknown" when it has none
  std::vector<TableRow> rows;
};

struct MetricTable {
  std::string stem;     ///< file names: "dice" -> dice.md, dice.csv, dice.tex
  std::string title;    ///< "Dice (%)", "HD95 (px)": before the caption
  std::string unit;     ///< "%", "px", "mm" or "" (not recorded): the CSV's unit column
  std::string caption;  ///< one sentence under the title (Markdown) or in \caption (LaTeX)
  Better better = Better::kHigher;
  double scale = 1.0;  ///< printed value = stored value x scale (Dice: 100)
  int decimals = 1;
  std::vector<TableGroup> groups;
};

/// The M of every cell of the table, increasing.
std::vector<std::int64_t> table_budgets(const MetricTable& table);

/// Whether the cell (group g, row r, M) is the best of its column within its group. Ties are
/// judged on the printed mean (what the reader compares), and every tied cell is best; cells
/// that print "–" never are.
bool is_best(const MetricTable& table, std::size_t g, std::size_t r, std::int64_t budget);

/// "| Backbone | Initialisation | M=10 | ... |" after the title and caption; best in **bold**.
std::string to_markdown(const MetricTable& table);
/// Long format, one line per (backbone, initialisation, M): the mean and std in the table's units
/// with 4 decimals, the number of cells, best 1/0; empty mean and std where the table prints "–".
std::string to_csv(const MetricTable& table);
/// A booktabs table (\toprule, \midrule, \bottomrule; needs \usepackage{booktabs}): a group row
/// per backbone, \midrule between backbones, \textbf for the best; names escaped for LaTeX.
std::string to_latex(const MetricTable& table);

/// The Dice-vs-M figure of a Dice table: one line per row (labelled "backbone: initialisation"
/// when there are several backbones), x = M on a log axis with a tick at each M of the table
/// (M values usually double: equal steps on the page), y = mean Dice (%) with error bars = std.
cv::Mat dice_vs_m_plot(const MetricTable& dice);

/// Every file write_tables() may write in a directory, whether or not this report has the
/// surface-distance tables: checked before anything is read.
std::vector<std::string> table_file_names();

/// Writes `<stem>.md`, `.csv`, `.tex` of each table into `directory` (created when missing), and
/// `dice_vs_m.png` from the table whose stem is "dice"; returns the files written.
std::vector<std::filesystem::path> write_tables(const std::vector<MetricTable>& tables,
                                                const std::filesystem::path& directory);

}  // namespace cltci::run
