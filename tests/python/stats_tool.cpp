// Prints the toolkit's paired statistics for many vectors in one run (LibTorch makes each start
// slow), so that the Python cross-check can compare them with SciPy's on the very same numbers.
// Usage: stats_tool < CASES
// Input: one case per line, "n a_1 ... a_n b_1 ... b_n" (values as Python's repr writes them).
// Output: one line per case, "n zeros mean ci_low ci_high t t_p w w_p method", %.17g, with
// "nan"/"inf" as printf writes them and method as SciPy names it; or "error <message>".
#include "cltci/analysis/paired_test.h"
#include "cltci/common/error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::istringstream in(line);
    std::int64_t n = 0;
    in >> n;
    std::vector<double> a(static_cast<std::size_t>(n));
    std::vector<double> b(static_cast<std::size_t>(n));
    for (double& v : a) in >> v;
    for (double& v : b) in >> v;
    if (!in) {
      std::cerr << "stats_tool: cannot parse line: " << line << "\n";
      return 2;
    }
    try {
      const cltci::analysis::PairedTest r = cltci::analysis::paired_test(a, b);
      std::printf("%lld %lld %.17g %.17g %.17g %.17g %.17g %.17g %.17g %s\n",
                  static_cast<long long>(r.n), static_cast<long long>(r.zero_differences),
                  r.mean_difference, r.ci_low, r.ci_high, r.t_statistic, r.t_p_value,
                  r.wilcoxon_statistic, r.wilcoxon_p_value,
                  cltci::analysis::to_string(r.wilcoxon_method));
    } catch (const cltci::common::InputError& error) {
      std::printf("error %s\n", error.what());
    }
  }
  return 0;
}
