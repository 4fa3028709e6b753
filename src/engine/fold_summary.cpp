#include "cltci/engine/fold_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <utility>

namespace cltci::engine {

double CellScore::pooled_dice() const {
  if (pooled.empty()) return 0.0;
  double sum = 0.0;
  for (const auto& counts : pooled) sum += dice(counts);
  return sum / static_cast<double>(pooled.size());
}

double CellScore::per_image_dice() const {
  if (per_image_mean.empty()) return 0.0;
  double sum = 0.0;
  for (double value : per_image_mean) sum += value;
  return sum / static_cast<double>(per_image_mean.size());
}

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd out;
  out.n = static_cast<std::int64_t>(values.size());
  if (values.empty()) return out;
  for (double v : values) out.mean += v;
  out.mean /= static_cast<double>(values.size());
  if (values.size() > 1) {
    double squares = 0.0;
    for (double v : values) squares += (v - out.mean) * (v - out.mean);
    out.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
  }
  return out;
}

std::map<std::int64_t, MeanStd> summarise_by_budget(const std::vector<CellScore>& cells) {
  std::map<std::int64_t, std::vector<double>> by_budget;
  for (const auto& cell : cells) by_budget[cell.budget].push_back(cell.pooled_dice());
  std::map<std::int64_t, MeanStd> out;
  for (const auto& [budget, values] : by_budget) out[budget] = mean_std(values);
  return out;
}

std::string format_table(
    const std::vector<std::pair<std::string, std::map<std::int64_t, MeanStd>>>& rows) {
  std::set<std::int64_t> budgets;
  std::size_t name_width = 14;
  for (const auto& [name, summary] : rows) {
    name_width = std::max(name_width, name.size());
    for (const auto& entry : summary) budgets.insert(entry.first);
  }
  std::ostringstream out;
  const auto pad = [](const std::string& text, std::size_t width) {
    return text + std::string(width > text.size() ? width - text.size() : 0, ' ');
  };
  out << pad("initialisation", name_width);
  for (auto m : budgets) out << "  " << pad("M=" + std::to_string(m), 11);
  out << "\n";
  for (const auto& [name, summary] : rows) {
    out << pad(name, name_width);
    for (auto m : budgets) {
      const auto found = summary.find(m);
      std::string cell = "-";
      if (found != summary.end()) {
        char buffer[32];
        std::snprintf(buffer, sizeof(buffer), "%.1f(%.1f)", 100.0 * found->second.mean,
                      100.0 * found->second.std);
        cell = buffer;
      }
      out << "  " << pad(cell, 11);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace cltci::engine
