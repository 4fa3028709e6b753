#include "cltci/analysis/paired_test.h"

#include "cltci/common/error.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace cltci::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// SciPy switches 'auto' to the normal approximation above 50 pairs, and enumerates the 2^n sign
// flips when there are zeros or ties and 2^n stays below its 9999 permutation resamples.
constexpr std::int64_t kMaxExactPairs = 50;
constexpr std::int64_t kMaxPermutationPairs = 13;

/// Continued fraction of the regularised incomplete beta function I_x(a, b) (Numerical Recipes,
/// 3rd ed., 6.4), evaluated with the modified Lentz method; converges fast for
/// x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 10000;
  constexpr double kTolerance = 1e-16;
  // Lentz's method divides by partial numerators and denominators; a zero one is nudged away.
  constexpr double kTiny = 1e-300;
  const auto guard = [](double v) { return std::fabs(v) < kTiny ? kTiny : v; };
  const double qab = a + b;
  const double qap = a + 1.0;
  const double qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 / guard(1.0 - qab * x / qap);
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    const double even = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 / guard(1.0 + even * d);
    c = guard(1.0 + even / c);
    h *= d * c;
    const double odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 / guard(1.0 + odd * d);
    c = guard(1.0 + odd / c);
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1.0) < kTolerance) break;
  }
  return h;
}

/// I_x(a, b), with y = 1 - x passed separately so that callers can form it without cancellation
/// (the t-distribution's tails need I near 0 to full relative precision).
double regularized_beta(double a, double b, double x, double y) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log(y));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, y) / b;
}

/// P(T >= t) for t >= 0: I_x(df/2, 1/2) / 2 with x = df / (df + t^2).
double student_t_upper_tail(double t, double df) {
  const double r2 = (t / std::sqrt(df)) * (t / std::sqrt(df));
  if (std::isinf(r2)) return 0.0;
  return 0.5 * regularized_beta(0.5 * df, 0.5, 1.0 / (1.0 + r2), r2 / (1.0 + r2));
}

/// Two-sided p-value of a statistic whose null distribution is symmetric over all 2^m sign
/// patterns of `weights`: the sum of the weights given a positive sign, observed as `observed`.
/// Weights are doubled average ranks, so that tied (half-integer) ranks stay integers and the
/// counts are exact.
double sign_flip_p_value(const std::vector<std::int64_t>& weights, std::int64_t observed) {
  const std::int64_t total = std::accumulate(weights.begin(), weights.end(), std::int64_t{0});
  // counts[s]: number of sign patterns whose positive weights sum to s (at most 2^50 here).
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(total + 1), 0);
  counts[0] = 1;
  std::int64_t reach = 0;
  for (const std::int64_t w : weights) {
    for (std::int64_t s = reach; s >= 0; --s) counts[s + w] += counts[s];
    reach += w;
  }
  std::uint64_t at_most = 0;
  std::uint64_t at_least = 0;
  for (std::int64_t s = 0; s <= total; ++s) {
    if (s <= observed) at_most += counts[s];
    if (s >= observed) at_least += counts[s];
  }
  const double patterns = std::ldexp(1.0, static_cast<int>(weights.size()));
  return std::min(1.0, 2.0 * static_cast<double>(std::min(at_most, at_least)) / patterns);
}

void check_inputs(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) {
    throw common::InputError("paired_test: a has " + std::to_string(a.size()) +
                             " values but b has " + std::to_string(b.size()) +
                             "; the pairs must be matched");
  }
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a[i]))
      problems.push_back("paired_test: a[" + std::to_string(i) + "] is not finite");
    if (!std::isfinite(b[i]))
      problems.push_back("paired_test: b[" + std::to_string(i) + "] is not finite");
  }
  if (!problems.empty()) throw common::InputError(std::move(problems));
}

void fill_t_test(const std::vector<double>& d, PairedTest& out) {
  const auto n = static_cast<double>(d.size());
  if (d.empty()) {
    out.mean_difference = out.ci_low = out.ci_high = out.t_statistic = out.t_p_value = kNaN;
    return;
  }
  const bool constant = std::all_of(d.begin(), d.end(), [&](double v) { return v == d.front(); });
  double mean = std::accumulate(d.begin(), d.end(), 0.0) / n;
  if (constant) mean = d.front();
  out.mean_difference = mean;
  if (d.size() < 2) {
    out.ci_low = out.ci_high = out.t_statistic = out.t_p_value = kNaN;
    return;
  }
  double variance = 0.0;
  if (!constant) {
    for (const double v : d) variance += (v - mean) * (v - mean);
    variance /= n - 1.0;
  }
  const double standard_error = std::sqrt(variance / n);
  const double df = n - 1.0;
  if (standard_error == 0.0) {
    // SciPy's 0/0 and c/0: NaN or +-inf, with the interval collapsed onto the mean.
    out.t_statistic = mean == 0.0 ? kNaN : std::copysign(kInf, mean);
    out.t_p_value = mean == 0.0 ? kNaN : 0.0;
    out.ci_low = out.ci_high = mean;
    return;
  }
  out.t_statistic = mean / standard_error;
  out.t_p_value = std::min(1.0, 2.0 * student_t_upper_tail(std::fabs(out.t_statistic), df));
  const double half_width = student_t_quantile(0.975, df) * standard_error;
  out.ci_low = mean - half_width;
  out.ci_high = mean + half_width;
}

void fill_wilcoxon(const std::vector<double>& d, PairedTest& out) {
  const auto n = static_cast<std::int64_t>(d.size());
  if (n == 0) {
    out.wilcoxon_statistic = out.wilcoxon_p_value = kNaN;
    return;
  }
  std::vector<double> nonzero;
  for (const double v : d) {
    if (v != 0.0) nonzero.push_back(v);
  }
  out.zero_differences = n - static_cast<std::int64_t>(nonzero.size());
  std::vector<std::size_t> order(nonzero.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    return std::fabs(nonzero[i]) < std::fabs(nonzero[j]);
  });
  // Doubled average ranks: a tie group at sorted positions [begin, end) has rank
  // (begin + 1 + end) / 2, so 2 x rank = begin + 1 + end is an integer.
  std::vector<std::int64_t> doubled_ranks(nonzero.size());
  bool ties = false;
  double tie_term = 0.0;  // sum over tie groups of t^3 - t
  for (std::size_t begin = 0; begin < order.size();) {
    std::size_t end = begin + 1;
    while (end < order.size() &&
           std::fabs(nonzero[order[end]]) == std::fabs(nonzero[order[begin]])) {
      ++end;
    }
    const auto t = static_cast<double>(end - begin);
    ties = ties || end - begin > 1;
    tie_term += t * t * t - t;
    for (std::size_t k = begin; k < end; ++k) {
      doubled_ranks[order[k]] = static_cast<std::int64_t>(begin + 1 + end);
    }
    begin = end;
  }
  std::int64_t doubled_plus = 0;
  std::int64_t doubled_minus = 0;
  for (std::size_t i = 0; i < nonzero.size(); ++i) {
    (nonzero[i] > 0.0 ? doubled_plus : doubled_minus) += doubled_ranks[i];
  }
  out.wilcoxon_statistic = 0.5 * static_cast<double>(std::min(doubled_plus, doubled_minus));

  if (n > kMaxExactPairs) {
    out.wilcoxon_method = WilcoxonMethod::kNormal;
  } else if (!ties && out.zero_differences == 0) {
    out.wilcoxon_method = WilcoxonMethod::kExact;
  } else if (n <= kMaxPermutationPairs) {
    out.wilcoxon_method = WilcoxonMethod::kPermutation;
  } else {
    out.wilcoxon_method = WilcoxonMethod::kNormal;
  }

  if (out.wilcoxon_method != WilcoxonMethod::kNormal) {
    out.wilcoxon_p_value = sign_flip_p_value(doubled_ranks, doubled_plus);
    return;
  }
  const auto m = static_cast<double>(nonzero.size());
  const double null_mean = m * (m + 1.0) / 4.0;
  const double null_sd = std::sqrt((m * (m + 1.0) * (2.0 * m + 1.0) - tie_term / 2.0) / 24.0);
  if (null_sd == 0.0) {  // every difference zero: SciPy's 0/0
    out.wilcoxon_p_value = kNaN;
    return;
  }
  const double z = (0.5 * static_cast<double>(doubled_plus) - null_mean) / null_sd;
  out.wilcoxon_p_value = std::min(1.0, std::erfc(std::fabs(z) / std::sqrt(2.0)));
}

}  // namespace

const char* to_string(WilcoxonMethod method) {
  switch (method) {
    case WilcoxonMethod::kExact:
      return "exact";
    case WilcoxonMethod::kPermutation:
      return "permutation";
    case WilcoxonMethod::kNormal:
      return "asymptotic";
  }
  return "unknown";
}

double student_t_cdf(double t, double df) {
  if (std::isnan(t) || !(df > 0.0)) return kNaN;
  const double tail = student_t_upper_tail(std::fabs(t), df);
  return t < 0.0 ? tail : 1.0 - tail;
}

double student_t_quantile(double p, double df) {
  if (!(p > 0.0 && p < 1.0) || !(df > 0.0)) return kNaN;
  if (p == 0.5) return 0.0;
  const double tail = p < 0.5 ? p : 1.0 - p;
  // The tail falls monotonically in t: bracket the root by doubling, then bisect down to
  // adjacent doubles. Slower than Newton, but it cannot diverge for small df.
  double lo = 0.0;
  double hi = 1.0;
  while (student_t_upper_tail(hi, df) > tail && hi < 1e300) {
    lo = hi;
    hi *= 2.0;
  }
  for (int i = 0; i < 2000; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (student_t_upper_tail(mid, df) > tail ? lo : hi) = mid;
  }
  const double t = 0.5 * (lo + hi);
  return p < 0.5 ? -t : t;
}

PairedTest paired_test(const std::vector<double>& a, const std::vector<double>& b) {
  check_inputs(a, b);
  std::vector<double> d(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  PairedTest out;
  out.n = static_cast<std::int64_t>(d.size());
  fill_t_test(d, out);
  fill_wilcoxon(d, out);
  return out;
}

}  // namespace cltci::analysis
