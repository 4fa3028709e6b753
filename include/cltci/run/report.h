// The `report` helper: the paper's table (rows = initialisation, columns = M, cells mean(std) of
// the pooled Dice over folds x seeds) from several `evaluate` runs, and under it the paired
// comparisons of initialisations over matched (fold, seed) cells.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace cltci::run {

struct ReportOptions {
  std::vector<std::filesystem::path> evaluations;  ///< evaluate run directories or summary.json
  /// (a, b) initialisation names compared as a - b. Empty: every row against the first.
  std::vector<std::pair<std::string, std::string>> comparisons;
};

struct Report {
  std::string table;        ///< the paper's table
  std::string comparisons;  ///< the paired tests, one line per (a, b, M); empty without pairs
  std::string json;         ///< both, as the report's summary.json
};

/// Reads each evaluation run's summary.json and builds the report; a missing or malformed
/// summary, a compared name that is no row, or two rows of one name is a common::InputError.
/// Paired tests use the cells present in both runs (same fold, M and seed).
Report make_report(const ReportOptions& options);

}  // namespace cltci::run
