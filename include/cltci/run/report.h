// The `report` helper: the paper's table (rows = initialisation, columns = M, cells mean(std) of
// the pooled Dice over folds) from several `evaluate` runs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::run {

/// Reads each evaluation run's summary.json (a directory or the file itself) and formats the
/// table; a missing or malformed summary is a common::InputError naming it.
std::string report_table(const std::vector<std::filesystem::path>& evaluations);

}  // namespace cltci::run
