// Paired comparison of two initialisations over matched (fold, seed) cells: the mean difference
// with its 95 % t-interval, the paired t-test and the Wilcoxon signed-rank test, both
// two-sided. The results equal SciPy 1.17's `scipy.stats.ttest_rel` (and its
// `confidence_interval(0.95)`) and `scipy.stats.wilcoxon` with its defaults (zero_method='wilcox',
// correction=False, alternative='two-sided', method='auto'); tests/python/stats_vs_scipy.py checks
// this. Pure functions: no I/O, no torch.
//
// Wilcoxon, following SciPy: d = a - b; zero differences are dropped before ranking (but still
// count towards n in the method choice below); |d| gets average ranks; W+ / W- are the rank sums
// of the positive / negative differences and the statistic is min(W+, W-). The p-value comes from
//   - kExact: n <= 50, no zero and no tied |d|. The exact null distribution of W+ (all 2^n sign
//     patterns), p = min(1, 2 min(P(W+ <= w), P(W+ >= w))).
//   - kPermutation: n <= 13 with zeros or ties. The same two-sided p-value over all 2^n sign
//     flips of the observed differences, with their average ranks (SciPy's exact
//     `permutation_test`, since 2^13 < its 9999 resamples).
//   - kNormal: every other case (n > 50, or n >= 14 with zeros or ties). z = (W+ - m(m+1)/4) / s
//     with m the non-zero differences, s^2 = (m(m+1)(2m+1) - sum_ties (t^3 - t) / 2) / 24, and
//     no continuity correction; p = 2 Phi(-|z|).
//
// Degenerate inputs (SciPy's answer where it has one):
//   - n = 0: everything NaN.
//   - n = 1: the t-test, its p-value and interval are NaN (no degrees of freedom); Wilcoxon gives
//     statistic 0, p = 1 (SciPy refuses a single zero difference; a single pair cannot show
//     anything either way, so p = 1 there too).
//   - every difference zero: Wilcoxon statistic 0, p = 1 for n <= 13 (permutation) and NaN for
//     n >= 14 (normal approximation with zero variance); t-test NaN, p NaN, interval [0, 0].
//   - every difference equal to c != 0: t = +-inf, p = 0, interval [c, c]. The differences are
//     compared for equality before the variance is computed, so that rounding in the mean cannot
//     leave a spurious variance; SciPy can report t ~ 1e16 there instead of inf.
#pragma once

#include <cstdint>
#include <vector>

namespace cltci::analysis {

/// Which null distribution gave the Wilcoxon p-value (see the file comment for the rule).
enum class WilcoxonMethod {
  kExact,        ///< exact signed-rank distribution, no zeros or ties
  kPermutation,  ///< all 2^n sign flips of the observed average ranks (n <= 13)
  kNormal,       ///< normal approximation with tie correction
};

/// Name as SciPy spells the method: "exact", "permutation", "asymptotic".
const char* to_string(WilcoxonMethod method);

struct PairedTest {
  std::int64_t n = 0;                 ///< pairs
  std::int64_t zero_differences = 0;  ///< pairs with a == b (dropped by Wilcoxon)
  double mean_difference = 0.0;       ///< mean of a - b
  double ci_low = 0.0;                ///< 95 % t-interval of the mean difference: lower end
  double ci_high = 0.0;               ///< upper end
  double t_statistic = 0.0;           ///< paired t, n - 1 degrees of freedom
  double t_p_value = 1.0;             ///< two-sided
  double wilcoxon_statistic = 0.0;    ///< min(W+, W-), as SciPy reports it
  double wilcoxon_p_value = 1.0;      ///< two-sided
  WilcoxonMethod wilcoxon_method = WilcoxonMethod::kExact;
};

/// Compares a[i] with b[i] over matched cells (difference a - b). Throws common::InputError when
/// the lengths differ or a value is not finite.
PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b);

/// P(T <= t) for Student's t with `df` > 0 degrees of freedom (t may be +-inf).
double student_t_cdf(double t, double df);

/// The t with P(T <= t) = p, 0 < p < 1, for `df` > 0 degrees of freedom.
double student_t_quantile(double p, double df);

}  // namespace cltci::analysis
