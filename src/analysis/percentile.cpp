#include "cltci/analysis/percentile.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cltci::analysis {

double percentile(std::vector<double> values, double percent) {
  TORCH_CHECK(!values.empty(), "percentile: no values");
  TORCH_CHECK(percent >= 0.0 && percent <= 100.0, "percentile: ", percent, " is not in [0, 100]");
  std::sort(values.begin(), values.end());
  const auto n = static_cast<std::int64_t>(values.size());
  const double virtual_index = static_cast<double>(n - 1) * (percent / 100.0);
  const double previous = std::floor(virtual_index);
  const auto lo = std::clamp(static_cast<std::int64_t>(previous), std::int64_t{0}, n - 1);
  const auto hi = std::min(lo + 1, n - 1);
  const double a = values[static_cast<std::size_t>(lo)];
  const double b = values[static_cast<std::size_t>(hi)];
  const double t = virtual_index - previous;
  const double diff = b - a;
  // numpy's _lerp: from b when t >= 0.5, which is exact at t = 1 and rounds like numpy.
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

}  // namespace cltci::analysis
