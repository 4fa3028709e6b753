#include "cltci/run/report_tables.h"

#include "cltci/analysis/line_plot.h"
#include "cltci/common/atomic_file.h"
#include "cltci/data/csv.h"
#include "cltci/data/image_writers.h"

#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

constexpr const char* kDash = "\u2013";  // en dash: a cell without a value

const engine::MeanStd* cell_of(const TableRow& row, std::int64_t budget) {
  const auto found = row.cells.find(budget);
  return found == row.cells.end() || found->second.n == 0 ? nullptr : &found->second;
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

/// "93.1(0.8)", or nothing for a cell without a value.
std::optional<std::string> cell_text(const MetricTable& table,
                                     const TableRow& row,
                                     std::int64_t budget) {
  const engine::MeanStd* cell = cell_of(row, budget);
  if (!cell) return std::nullopt;
  return fixed(cell->mean * table.scale, table.decimals) + "(" +
         fixed(cell->std * table.scale, table.decimals) + ")";
}

/// The printed mean as a number: ties are ties on the page.
std::optional<double> printed_mean(const MetricTable& table,
                                   const TableRow& row,
                                   std::int64_t budget) {
  const engine::MeanStd* cell = cell_of(row, budget);
  if (!cell) return std::nullopt;
  return std::stod(fixed(cell->mean * table.scale, table.decimals));
}

std::string markdown_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string latex_escape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::string_view rest = std::string_view(text).substr(i);
    if (rest.rfind("\u00d7", 0) == 0) {  // multiplication sign
      out += "$\\times$";
      i += 1;
      continue;
    }
    if (rest.rfind(kDash, 0) == 0) {
      out += "--";
      i += 2;
      continue;
    }
    switch (text[i]) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '&':
      case '%':
      case '$':
      case '#':
      case '_':
      case '{':
      case '}':
        out += '\\';
        out += text[i];
        break;
      default:
        out += text[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::int64_t> table_budgets(const MetricTable& table) {
  std::set<std::int64_t> budgets;
  for (const auto& group : table.groups) {
    for (const auto& row : group.rows) {
      for (const auto& entry : row.cells) budgets.insert(entry.first);
    }
  }
  return {budgets.begin(), budgets.end()};
}

bool is_best(const MetricTable& table, std::size_t g, std::size_t r, std::int64_t budget) {
  const auto& rows = table.groups.at(g).rows;
  const auto mine = printed_mean(table, rows.at(r), budget);
  if (!mine) return false;
  std::size_t values = 0;
  for (const auto& row : rows) {
    const auto other = printed_mean(table, row, budget);
    if (!other) continue;
    ++values;
    if (table.better == Better::kHigher ? *other > *mine : *other < *mine) return false;
  }
  // A column with one value in the group ranks nothing: no bold.
  return values >= 2;
}

std::string to_markdown(const MetricTable& table) {
  const auto budgets = table_budgets(table);
  std::ostringstream out;
  out << "**" << table.title << "**: " << table.caption << ".\n\n| Backbone | Initialisation |";
  for (auto m : budgets) out << " M=" << m << " |";
  out << "\n|:---|:---|";
  for (std::size_t i = 0; i < budgets.size(); ++i) out << "---:|";
  out << "\n";
  for (std::size_t g = 0; g < table.groups.size(); ++g) {
    const auto& group = table.groups[g];
    for (std::size_t r = 0; r < group.rows.size(); ++r) {
      out << "| " << markdown_escape(group.backbone) << " | "
          << markdown_escape(group.rows[r].initialisation) << " |";
      for (auto m : budgets) {
        const auto text = cell_text(table, group.rows[r], m);
        if (!text) {
          out << " " << kDash << " |";
        } else if (is_best(table, g, r, m)) {
          out << " **" << *text << "** |";
        } else {
          out << " " << *text << " |";
        }
      }
      out << "\n";
    }
  }
  return out.str();
}

std::string to_csv(const MetricTable& table) {
  const auto budgets = table_budgets(table);
  std::ostringstream out;
  out << "backbone,initialisation,M,mean,std,unit,cells,best\n";
  for (std::size_t g = 0; g < table.groups.size(); ++g) {
    const auto& group = table.groups[g];
    for (std::size_t r = 0; r < group.rows.size(); ++r) {
      for (auto m : budgets) {
        const engine::MeanStd* cell = cell_of(group.rows[r], m);
        out << data::csv_field(group.backbone) << ','
            << data::csv_field(group.rows[r].initialisation) << ',' << m << ','
            << (cell ? fixed(cell->mean * table.scale, 4) : "") << ','
            << (cell ? fixed(cell->std * table.scale, 4) : "") << ',' << data::csv_field(table.unit)
            << ',' << (cell ? cell->n : 0) << ',' << (is_best(table, g, r, m) ? 1 : 0) << "\n";
      }
    }
  }
  return out.str();
}

std::string to_latex(const MetricTable& table) {
  const auto budgets = table_budgets(table);
  const std::size_t columns = budgets.size() + 1;
  std::ostringstream out;
  out << "% cltci report: " << table.title << "; needs \\usepackage{booktabs}\n"
      << "\\begin{table}[t]\n\\centering\n\\caption{" << latex_escape(table.title) << ": "
      << latex_escape(table.caption) << ".}\n\\label{tab:" << table.stem << "}\n"
      << "\\begin{tabular}{l" << std::string(budgets.size(), 'c') << "}\n\\toprule\n"
      << "Initialisation";
  for (auto m : budgets) out << " & $M=" << m << "$";
  out << " \\\\\n";
  for (std::size_t g = 0; g < table.groups.size(); ++g) {
    const auto& group = table.groups[g];
    out << "\\midrule\n\\multicolumn{" << columns << "}{l}{\\textit{"
        << latex_escape(group.backbone) << "}} \\\\\n";
    for (std::size_t r = 0; r < group.rows.size(); ++r) {
      out << latex_escape(group.rows[r].initialisation);
      for (auto m : budgets) {
        const auto text = cell_text(table, group.rows[r], m);
        if (!text) {
          out << " & --";
        } else if (is_best(table, g, r, m)) {
          out << " & \\textbf{" << *text << "}";
        } else {
          out << " & " << *text;
        }
      }
      out << " \\\\\n";
    }
  }
  out << "\\bottomrule\n\\end{tabular}\n\\end{table}\n";
  return out.str();
}

cv::Mat dice_vs_m_plot(const MetricTable& dice) {
  std::vector<analysis::LineSeries> series;
  for (const auto& group : dice.groups) {
    for (const auto& row : group.rows) {
      analysis::LineSeries line;
      line.label =
          dice.groups.size() > 1 ? group.backbone + ": " + row.initialisation : row.initialisation;
      for (const auto& [budget, stats] : row.cells) {
        if (stats.n == 0) continue;
        line.x.push_back(static_cast<double>(budget));
        line.y.push_back(stats.mean * dice.scale);
        line.error.push_back(stats.std * dice.scale);
      }
      series.push_back(std::move(line));
    }
  }
  analysis::LinePlotOptions options;
  options.title = "Dice vs M: mean +/- std over folds x seeds";
  options.x_label = "M, labelled images (log scale)";
  options.y_label = "Dice (%)";
  options.x_scale = analysis::AxisScale::kLog;
  for (auto m : table_budgets(dice)) {
    if (m > 0) options.x_ticks.push_back(static_cast<double>(m));
  }
  return analysis::line_plot(series, options);
}

std::vector<std::string> table_file_names() {
  std::vector<std::string> names;
  for (const char* stem : {"dice", "hd95", "assd"}) {
    for (const char* extension : {".md", ".csv", ".tex"})
      names.push_back(stem + std::string(extension));
  }
  names.emplace_back("dice_vs_m.png");
  return names;
}

std::vector<fs::path> write_tables(const std::vector<MetricTable>& tables,
                                   const fs::path& directory) {
  fs::create_directories(directory);
  std::vector<fs::path> written;
  const auto write = [&](const std::string& name, const std::string& text) {
    common::write_file_atomic(directory / name, std::string_view(text));
    written.push_back(directory / name);
  };
  for (const auto& table : tables) {
    write(table.stem + ".md", to_markdown(table));
    write(table.stem + ".csv", to_csv(table));
    write(table.stem + ".tex", to_latex(table));
    if (table.stem == "dice") {
      data::write_png(directory / "dice_vs_m.png", dice_vs_m_plot(table));
      written.push_back(directory / "dice_vs_m.png");
    }
  }
  return written;
}

}  // namespace cltci::run
