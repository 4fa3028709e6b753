#include "cltci/run/report.h"

#include "cltci/common/error.h"
#include "cltci/common/run_directory.h"
#include "cltci/engine/cv_summary.h"

#include <yaml-cpp/yaml.h>

namespace cltci::run {
namespace fs = std::filesystem;

std::string report_table(const std::vector<fs::path>& evaluations) {
  if (evaluations.empty()) throw common::InputError("report: give at least one evaluation run");
  std::vector<std::pair<std::string, std::map<std::int64_t, engine::MeanStd>>> rows;
  for (const auto& input : evaluations) {
    const fs::path file = fs::is_directory(input) ? input / common::kRunSummaryFile : input;
    if (!fs::exists(file))
      throw common::InputError(file.string() + ": not found (run evaluate first)");
    try {
      // JSON is YAML: the summary needs no parser of its own.
      const YAML::Node summary = YAML::LoadFile(file.string());
      const auto by_budget = summary["by_budget"];
      if (!summary["initialisation"] || !by_budget || !by_budget.IsMap()) {
        throw common::InputError(file.string() +
                                 ": not an evaluation summary (no initialisation / by_budget)");
      }
      std::map<std::int64_t, engine::MeanStd> cells;
      for (const auto& entry : by_budget) {
        engine::MeanStd stats;
        stats.mean = entry.second["mean"].as<double>();
        stats.std = entry.second["std"].as<double>();
        stats.n = entry.second["folds"].as<std::int64_t>();
        cells[entry.first.as<std::int64_t>()] = stats;
      }
      rows.emplace_back(summary["initialisation"].as<std::string>(), std::move(cells));
    } catch (const YAML::Exception& error) {
      throw common::InputError(file.string() + ": cannot read evaluation summary: " + error.msg);
    }
  }
  return engine::format_table(rows);
}

}  // namespace cltci::run
