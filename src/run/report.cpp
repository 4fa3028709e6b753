#include "cltci/run/report.h"

#include "cltci/analysis/paired_test.h"
#include "cltci/common/error.h"
#include "cltci/common/json_writer.h"
#include "cltci/common/run_directory.h"
#include "cltci/engine/fold_summary.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

/// (M, fold, seed) -> pooled Dice of that cell.
using CellKey = std::tuple<std::int64_t, std::int64_t, std::int64_t>;

struct Row {
  std::string name;
  std::string arch;  ///< "" when the summary has none
  fs::path file;
  std::map<std::int64_t, engine::MeanStd> by_budget;
  std::map<CellKey, double> cells;
  /// Per cell, the mean over the lungs of each surface distance; nullopt where evaluate wrote null.
  std::map<CellKey, std::optional<double>> hd95, assd;
  bool has_surface = false;  ///< some cell has an "hd95" entry (summaries before it have none)
  std::string surface_unit;  ///< "px", "mm", or "" when not recorded
};

/// The "mean" of a cell's {"left", "right", "mean"} surface entry; nullopt for null.
std::optional<double> surface_mean(const YAML::Node& entry, const fs::path& file) {
  if (!entry || !entry.IsMap()) return std::nullopt;
  const YAML::Node mean = entry["mean"];
  if (!mean || mean.IsNull()) return std::nullopt;
  const auto value = mean.as<double>();
  if (!std::isfinite(value)) {
    throw common::InputError(file.string() + ": cells: surface distance " + mean.Scalar() +
                             " is not a finite number (write null for a missing one)");
  }
  return value;
}

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
    if (summary["arch"]) row.arch = summary["arch"].as<std::string>();
    if (summary["surface_unit"]) row.surface_unit = summary["surface_unit"].as<std::string>();
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
        const CellKey key{cell["budget"].as<std::int64_t>(), cell["fold"].as<std::int64_t>(), seed};
        row.cells[key] = cell["pooled"]["mean"].as<double>();
        if (cell["hd95"] || cell["assd"]) {
          row.has_surface = true;
          row.hd95[key] = surface_mean(cell["hd95"], file);
          row.assd[key] = surface_mean(cell["assd"], file);
        }
      }
    }
    return row;
  } catch (const YAML::Exception& error) {
    throw common::InputError(file.string() + ": cannot read evaluation summary: " + error.msg);
  }
}

struct Comparison {
  std::string a, b;  ///< as the text table names the rows
  std::int64_t budget = 0;
  analysis::PairedTest test;
};

/// report.json's figures: 9 significant digits, null when not finite.
const common::JsonNumber kFigure = common::JsonNumber::significant(9);

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

/// The rows of the backbones in order of their first row, each backbone's in input order.
std::vector<std::pair<std::string, std::vector<std::size_t>>> backbone_groups(
    const std::vector<Row>& rows) {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& g) { return g.first == rows[i].arch; });
    if (group == groups.end()) group = groups.insert(groups.end(), {rows[i].arch, {}});
    group->second.push_back(i);
  }
  return groups;
}

std::string backbone_name(const std::string& arch) { return arch.empty() ? "unknown" : arch; }

MetricTable dice_table(const std::vector<Row>& rows) {
  MetricTable table;
  table.stem = "dice";
  table.title = "Dice (%)";
  table.unit = "%";
  table.caption =
      "pooled over each test fold, mean(std) over folds \u00d7 seeds; highest is best, the best "
      "of each column within a backbone in bold";
  table.better = Better::kHigher;
  table.scale = 100.0;
  table.decimals = 1;
  for (const auto& [arch, members] : backbone_groups(rows)) {
    TableGroup group{backbone_name(arch), {}};
    for (std::size_t i : members) group.rows.push_back({rows[i].name, rows[i].by_budget});
    table.groups.push_back(std::move(group));
  }
  return table;
}

/// HD95 or ASSD: per M, mean(std) over the cells that have a value (rows without surface
/// distances, and M whose cells are all null, print "–").
MetricTable surface_table(const std::vector<Row>& rows,
                          std::map<CellKey, std::optional<double>> Row::*values,
                          const std::string& stem,
                          const std::string& name,
                          const std::string& what,
                          const std::string& unit) {
  MetricTable table;
  table.stem = stem;
  table.title = unit.empty() ? name + " (unit not recorded)" : name + " (" + unit + ")";
  table.unit = unit;
  table.caption = what +
                  ", mean(std) over folds \u00d7 seeds of each cell's mean over the two lungs "
                  "(cells without a value left out); lowest is best, the best of each column "
                  "within a backbone in bold";
  table.better = Better::kLower;
  table.scale = 1.0;
  table.decimals = 2;
  for (const auto& [arch, members] : backbone_groups(rows)) {
    TableGroup group{backbone_name(arch), {}};
    for (std::size_t i : members) {
      std::map<std::int64_t, std::vector<double>> by_budget;
      for (const auto& [key, value] : rows[i].*values) {
        auto& list = by_budget[std::get<0>(key)];
        if (value) list.push_back(*value);
      }
      TableRow row{rows[i].name, {}};
      for (const auto& [budget, list] : by_budget) row.cells[budget] = engine::mean_std(list);
      group.rows.push_back(std::move(row));
    }
    table.groups.push_back(std::move(group));
  }
  return table;
}

}  // namespace

Report make_report(const ReportOptions& options) {
  if (options.evaluations.empty()) {
    throw common::InputError("report: give at least one evaluation run");
  }
  std::vector<Row> rows;
  // Name -> its rows (one per backbone).
  std::map<std::string, std::vector<std::size_t>> by_name;
  for (const auto& input : options.evaluations) {
    Row row = read_row(input);
    for (std::size_t i : by_name[row.name]) {
      if (rows[i].arch != row.arch) continue;
      throw common::InputError(row.file.string() + ": initialisation '" + row.name +
                               "' is already the row of " + rows[i].file.string() +
                               " (give each evaluation once)");
    }
    by_name[row.name].push_back(rows.size());
    rows.push_back(std::move(row));
  }
  const auto display = [&](std::size_t i) {
    return by_name[rows[i].name].size() > 1 ? rows[i].name + " [" + rows[i].arch + "]"
                                            : rows[i].name;
  };

  // Row pairs (a, b). Across backbones the architecture would confound the initialisation, so
  // defaults and ambiguous names pair rows of one backbone only.
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  const auto groups = backbone_groups(rows);
  if (options.comparisons.empty()) {
    for (const auto& group : groups) {
      for (std::size_t k = 1; k < group.second.size(); ++k) {
        pairs.emplace_back(group.second[k], group.second[0]);
      }
    }
  }
  for (const auto& [a, b] : options.comparisons) {
    for (const auto& name : {a, b}) {
      if (!by_name.count(name)) {
        throw common::InputError("--compare: '" + name +
                                 "' is not the initialisation of any "
                                 "given evaluation");
      }
    }
    const auto& ra = by_name[a];
    const auto& rb = by_name[b];
    if (ra.size() == 1 && rb.size() == 1) {
      pairs.emplace_back(ra[0], rb[0]);
      continue;
    }
    const std::size_t before = pairs.size();
    for (std::size_t i : ra) {
      for (std::size_t j : rb) {
        if (rows[i].arch == rows[j].arch) pairs.emplace_back(i, j);
      }
    }
    if (pairs.size() == before) {
      throw common::InputError("--compare: '" + a + "' and '" + b +
                               "' are rows of no common backbone");
    }
  }
  std::vector<Comparison> comparisons;
  for (const auto& [ia, ib] : pairs) {
    const Row& ra = rows[ia];
    const Row& rb = rows[ib];
    std::map<std::int64_t, std::pair<std::vector<double>, std::vector<double>>> matched;
    for (const auto& [key, dice] : ra.cells) {
      const auto other = rb.cells.find(key);
      if (other == rb.cells.end()) continue;
      matched[std::get<0>(key)].first.push_back(dice);
      matched[std::get<0>(key)].second.push_back(other->second);
    }
    for (const auto& [budget, values] : matched) {
      comparisons.push_back(
          {display(ia), display(ib), budget, analysis::paired_test(values.first, values.second)});
    }
  }

  Report report;
  std::vector<std::pair<std::string, std::map<std::int64_t, engine::MeanStd>>> table_rows;
  for (std::size_t i = 0; i < rows.size(); ++i)
    table_rows.emplace_back(display(i), rows[i].by_budget);
  report.table = engine::format_table(table_rows);

  report.tables.push_back(dice_table(rows));
  std::string unit;
  const Row* unit_row = nullptr;
  bool surface = false;
  for (const auto& row : rows) {
    surface = surface || row.has_surface;
    if (row.surface_unit.empty()) continue;
    if (unit_row && row.surface_unit != unit) {
      throw common::InputError(row.file.string() + ": surface_unit '" + row.surface_unit +
                               "' differs from '" + unit + "' of " + unit_row->file.string() +
                               " (one table needs one unit)");
    }
    unit = row.surface_unit;
    unit_row = &row;
  }
  if (surface) {
    report.tables.push_back(surface_table(rows, &Row::hd95, "hd95", "HD95",
                                          "95th-percentile Hausdorff distance", unit));
    report.tables.push_back(surface_table(rows, &Row::assd, "assd", "ASSD",
                                          "average symmetric surface distance", unit));
  } else {
    report.tables_note =
        "no HD95/ASSD in these evaluations (their summaries have no surface distances): "
        "Dice tables only";
  }
  if (!comparisons.empty()) {
    std::ostringstream text;
    text << "Paired tests over matched (fold, seed) cells, pooled Dice in points, a - b:\n";
    for (const auto& c : comparisons) text << format_comparison(c) << "\n";
    report.comparisons = text.str();
  }

  constexpr auto one_line = common::JsonWriter::Layout::kInline;
  common::JsonWriter json;
  json.begin_object();
  json.member("dice", "pooled over each test fold, mean(std) over folds x seeds");
  json.key("rows").begin_array();
  for (const Row& row : rows) {
    json.begin_object(one_line);
    json.member("initialisation", row.name).member("arch", row.arch);
    json.member("summary", row.file.string());
    json.key("by_budget").begin_object();
    for (const auto& [budget, stats] : row.by_budget) {
      json.key(std::to_string(budget)).begin_object();
      json.member("mean", stats.mean, kFigure).member("std", stats.std, kFigure);
      json.member("cells", stats.n);
      json.end_object();
    }
    json.end_object();
    json.end_object();
  }
  json.end_array();
  json.key("comparisons").begin_array();
  for (const auto& c : comparisons) {
    const auto& t = c.test;
    json.begin_object(one_line);
    json.member("a", c.a).member("b", c.b).member("budget", c.budget).member("cells", t.n);
    json.member("mean_difference", t.mean_difference, kFigure);
    json.key("ci95").begin_array();
    json.value(t.ci_low, kFigure).value(t.ci_high, kFigure);
    json.end_array();
    json.member("t", t.t_statistic, kFigure).member("t_p", t.t_p_value, kFigure);
    json.member("wilcoxon", t.wilcoxon_statistic, kFigure);
    json.member("wilcoxon_p", t.wilcoxon_p_value, kFigure);
    json.member("wilcoxon_method", analysis::to_string(t.wilcoxon_method));
    json.end_object();
  }
  json.end_array();
  json.end_object();
  report.json = json.text();
  return report;
}

}  // namespace cltci::run
