// The `report` helper: the paper's table (rows = initialisation, columns = M, cells mean(std) of
// the pooled Dice over folds x seeds) from several `evaluate` runs, and under it the paired
// comparisons of initialisations over matched (fold, seed) cells; the same tables grouped by
// backbone (Dice, and HD95 / ASSD when the evaluations carry them) for report_tables.h's files.
#pragma once

#include "cltci/run/report_tables.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cltci::run {

struct ReportOptions {
  std::vector<std::filesystem::path> evaluations;  ///< evaluate run directories or summary.json
  /// (a, b) initialisation names compared as a - b. A name that is the row of several backbones
  /// is compared within each backbone that has both. Empty: within each backbone, every row
  /// against the backbone's first.
  std::vector<std::pair<std::string, std::string>> comparisons;
};

struct Report {
  std::string table;        ///< the paper's table
  std::string comparisons;  ///< the paired tests, one line per (a, b, M); empty without pairs
  std::string json;         ///< both, as the report's summary.json
  /// Dice, then HD95 and ASSD when any evaluation's cells carry surface distances.
  std::vector<MetricTable> tables;
  /// Why tables are missing (e.g. no surface distances in these evaluations); empty otherwise.
  std::string tables_note;
};

/// Reads each evaluation run's summary.json and builds the report; a missing or malformed
/// summary, a compared name that is no row, two rows of one name and backbone, or surface
/// distances in different units ("px" and "mm") is a common::InputError. Paired tests use the
/// cells present in both runs (same fold, M and seed). Rows keep their input order within a
/// backbone, backbones the order of their first row. In the text table a name that is the row
/// of several backbones reads "name [arch]".
Report make_report(const ReportOptions& options);

}  // namespace cltci::run
