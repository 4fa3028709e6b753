#include "cltci/run/report.h"

#include "cltci/analysis/paired_test.h"
#include "cltci/common/error.h"
#include "cltci/common/json.h"
#include "cltci/common/run_directory.h"
#include "cltci/engine/cv_summary.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <tuple>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

/// (M, fold, seed) -> pooled Dice of that cell.
using CellKey = std::tuple<std::int64_t, std::int64_t, std::int64_t>;

struct Row {
  std::string name;
  fs::path file;
  std::map<std::int64_t, engine::MeanStd> by_budget;
  std::map<CellKey, double> cells;
};

Row read_row(const fs::path& input) {
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
    Row row;
    row.name = summary["initialisation"].as<std::string>();
    row.file = file;
    for (const auto& entry : by_budget) {
      engine::MeanStd stats;
      stats.mean = entry.second["mean"].as<double>();
      stats.std = entry.second["std"].as<double>();
      // Summaries before seeds counted folds only.
      stats.n = (entry.second["cells"] ? entry.second["cells"] : entry.second["folds"])
                    .as<std::int64_t>();
      row.by_budget[entry.first.as<std::int64_t>()] = stats;
    }
    if (const auto cells = summary["cells"]; cells && cells.IsSequence()) {
      for (const auto& cell : cells) {
        const std::int64_t seed = cell["seed"] ? cell["seed"].as<std::int64_t>() : 0;
        row.cells[{cell["budget"].as<std::int64_t>(), cell["fold"].as<std::int64_t>(), seed}] =
            cell["pooled"]["mean"].as<double>();
      }
    }
    return row;
  } catch (const YAML::Exception& error) {
    throw common::InputError(file.string() + ": cannot read evaluation summary: " + error.msg);
  }
}

struct Comparison {
  std::string a, b;
  std::int64_t budget = 0;
  analysis::PairedTest test;
};

std::string number(double value) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream out;
  out.precision(9);
  out << value;
  return out.str();
}

std::string format_comparison(const Comparison& c) {
  const auto& t = c.test;
  // Dice points (x100), as the table prints them. The names go in unformatted: any length.
  char figures[256];
  std::snprintf(figures, sizeof figures,
                ": %+.2f [95%% CI %+.2f, %+.2f] over %lld cells; paired t = %.3f, p = %.4g; "
                "Wilcoxon W = %.1f, p = %.4g (%s)",
                100.0 * t.mean_difference, 100.0 * t.ci_low, 100.0 * t.ci_high,
                static_cast<long long>(t.n), t.t_statistic, t.t_p_value, t.wilcoxon_statistic,
                t.wilcoxon_p_value, analysis::to_string(t.wilcoxon_method));
  char budget[32];
  std::snprintf(budget, sizeof budget, "M=%-4lld ", static_cast<long long>(c.budget));
  return budget + c.a + " - " + c.b + figures;
}

}  // namespace

Report make_report(const ReportOptions& options) {
  if (options.evaluations.empty()) {
    throw common::InputError("report: give at least one evaluation run");
  }
  std::vector<Row> rows;
  std::map<std::string, std::size_t> by_name;
  for (const auto& input : options.evaluations) {
    Row row = read_row(input);
    if (const auto found = by_name.find(row.name); found != by_name.end()) {
      throw common::InputError(row.file.string() + ": initialisation '" + row.name +
                               "' is already the row of " + rows[found->second].file.string() +
                               " (give each evaluation once)");
    }
    by_name[row.name] = rows.size();
    rows.push_back(std::move(row));
  }

  std::vector<std::pair<std::string, std::string>> pairs = options.comparisons;
  if (pairs.empty()) {
    for (std::size_t i = 1; i < rows.size(); ++i) pairs.emplace_back(rows[i].name, rows[0].name);
  }
  std::vector<Comparison> comparisons;
  for (const auto& [a, b] : pairs) {
    for (const auto& name : {a, b}) {
      if (!by_name.count(name)) {
        throw common::InputError("--compare: '" + name +
                                 "' is not the initialisation of any "
                                 "given evaluation");
      }
    }
    const Row& ra = rows[by_name[a]];
    const Row& rb = rows[by_name[b]];
    std::map<std::int64_t, std::pair<std::vector<double>, std::vector<double>>> matched;
    for (const auto& [key, dice] : ra.cells) {
      const auto other = rb.cells.find(key);
      if (other == rb.cells.end()) continue;
      matched[std::get<0>(key)].first.push_back(dice);
      matched[std::get<0>(key)].second.push_back(other->second);
    }
    for (const auto& [budget, values] : matched) {
      comparisons.push_back({a, b, budget, analysis::paired_test(values.first, values.second)});
    }
  }

  Report report;
  std::vector<std::pair<std::string, std::map<std::int64_t, engine::MeanStd>>> table_rows;
  for (const auto& row : rows) table_rows.emplace_back(row.name, row.by_budget);
  report.table = engine::format_table(table_rows);
  if (!comparisons.empty()) {
    std::ostringstream text;
    text << "Paired tests over matched (fold, seed) cells, pooled Dice in points, a - b:\n";
    for (const auto& c : comparisons) text << format_comparison(c) << "\n";
    report.comparisons = text.str();
  }

  std::ostringstream json;
  json << "{\n  \"dice\": \"pooled over each test fold, mean(std) over folds x seeds\",\n"
       << "  \"rows\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    json << "    {\"initialisation\": " << common::json_string(rows[i].name)
         << ", \"summary\": " << common::json_string(rows[i].file.string()) << ", \"by_budget\": {";
    std::size_t k = 0;
    for (const auto& [budget, stats] : rows[i].by_budget) {
      json << (k++ ? ", " : "") << "\"" << budget << "\": {\"mean\": " << number(stats.mean)
           << ", \"std\": " << number(stats.std) << ", \"cells\": " << stats.n << "}";
    }
    json << "}}" << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  json << "  ],\n  \"comparisons\": [\n";
  for (std::size_t i = 0; i < comparisons.size(); ++i) {
    const auto& c = comparisons[i];
    const auto& t = c.test;
    json << "    {\"a\": " << common::json_string(c.a) << ", \"b\": " << common::json_string(c.b)
         << ", \"budget\": " << c.budget << ", \"cells\": " << t.n
         << ", \"mean_difference\": " << number(t.mean_difference) << ", \"ci95\": ["
         << number(t.ci_low) << ", " << number(t.ci_high) << "]"
         << ", \"t\": " << number(t.t_statistic) << ", \"t_p\": " << number(t.t_p_value)
         << ", \"wilcoxon\": " << number(t.wilcoxon_statistic)
         << ", \"wilcoxon_p\": " << number(t.wilcoxon_p_value) << ", \"wilcoxon_method\": \""
         << analysis::to_string(t.wilcoxon_method) << "\"}"
         << (i + 1 < comparisons.size() ? "," : "") << "\n";
  }
  json << "  ]\n}\n";
  report.json = json.str();
  return report;
}

}  // namespace cltci::run
