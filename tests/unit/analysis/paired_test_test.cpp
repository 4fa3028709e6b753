#include "cltci/analysis/paired_test.h"

#include "cltci/common/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace cltci::analysis {
namespace {

const double kPi = std::acos(-1.0);

std::vector<double> zeros(std::size_t n) { return std::vector<double>(n, 0.0); }

/// Two-sided sign-flip p-value by brute force over all 2^m sign patterns of the non-zero
/// differences, with average ranks of |d|: the definition the exact and permutation methods
/// must reproduce.
double enumerated_p_value(const std::vector<double>& d) {
  std::vector<double> nonzero;
  for (const double v : d) {
    if (v != 0.0) nonzero.push_back(v);
  }
  const std::size_t m = nonzero.size();
  std::vector<double> ranks(m);
  for (std::size_t i = 0; i < m; ++i) {
    double below = 0.0;
    double equal = 0.0;
    for (std::size_t j = 0; j < m; ++j) {
      below += std::fabs(nonzero[j]) < std::fabs(nonzero[i]) ? 1.0 : 0.0;
      equal += std::fabs(nonzero[j]) == std::fabs(nonzero[i]) ? 1.0 : 0.0;
    }
    ranks[i] = below + (equal + 1.0) / 2.0;
  }
  double observed = 0.0;
  for (std::size_t i = 0; i < m; ++i) observed += nonzero[i] > 0.0 ? ranks[i] : 0.0;
  std::int64_t at_most = 0;
  std::int64_t at_least = 0;
  for (std::uint64_t pattern = 0; pattern < (std::uint64_t{1} << m); ++pattern) {
    double w_plus = 0.0;
    for (std::size_t i = 0; i < m; ++i) w_plus += (pattern >> i) & 1U ? ranks[i] : 0.0;
    at_most += w_plus <= observed ? 1 : 0;
    at_least += w_plus >= observed ? 1 : 0;
  }
  const double patterns = std::ldexp(1.0, static_cast<int>(m));
  return std::min(1.0, 2.0 * static_cast<double>(std::min(at_most, at_least)) / patterns);
}

TEST(PairedTest, FiveAllPositiveDifferencesGiveExactTwoOver32) {
  const PairedTest r = paired_test({0.81, 0.77, 0.90, 0.85, 0.79}, {0.80, 0.74, 0.86, 0.80, 0.73});
  EXPECT_EQ(r.n, 5);
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kExact);
  EXPECT_EQ(r.wilcoxon_statistic, 0.0);
  // Only the all-positive and the all-negative patterns are as extreme: 2 of 2^5.
  EXPECT_DOUBLE_EQ(r.wilcoxon_p_value, 2.0 / 32.0);
  EXPECT_GT(r.mean_difference, 0.0);
}

TEST(PairedTest, ExactWilcoxonEqualsEnumerationOfSignPatterns) {
  // Distinct |d|, mixed signs, n = 1..12.
  const std::vector<double> pool = {0.31,  -0.12, 0.05,  -0.44, 0.27, 0.18,
                                    -0.09, 0.52,  -0.36, 0.21,  0.14, -0.03};
  for (std::size_t n = 1; n <= pool.size(); ++n) {
    const std::vector<double> d(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n));
    const PairedTest r = paired_test(d, zeros(n));
    EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kExact) << "n=" << n;
    EXPECT_NEAR(r.wilcoxon_p_value, enumerated_p_value(d), 1e-15) << "n=" << n;
  }
}

TEST(PairedTest, TiesAndZerosUseThePermutationOverAverageRanks) {
  // |d| = 1 1 2 2 3 -> ranks 1.5 1.5 3.5 3.5 5; W+ = 13.5, W- = 1.5. As extreme: W- <= 1.5
  // (3 patterns: none, either 1.5) or W+ <= 1.5 (3 more): p = 6/32.
  const std::vector<double> d = {0.0, 1.0, -1.0, 2.0, 2.0, 3.0};
  const PairedTest r = paired_test(d, zeros(d.size()));
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kPermutation);
  EXPECT_EQ(r.zero_differences, 1);
  EXPECT_EQ(r.wilcoxon_statistic, 1.5);
  EXPECT_DOUBLE_EQ(r.wilcoxon_p_value, 6.0 / 32.0);  // SciPy 1.17: 0.1875

  // Up to 13 pairs with ties are still enumerated.
  const std::vector<double> tied = {0.5,  -0.25, 0.5,  0.75, -0.5, 0.25, 1.0,
                                    0.75, 0.0,   1.25, -1.0, 0.5,  0.25};
  const PairedTest t13 = paired_test(tied, zeros(tied.size()));
  EXPECT_EQ(t13.wilcoxon_method, WilcoxonMethod::kPermutation);
  EXPECT_NEAR(t13.wilcoxon_p_value, enumerated_p_value(tied), 1e-15);
}

TEST(PairedTest, NormalApproximationAboveFiftyPairsOrWithTiesFromFourteen) {
  // 60 distinct positive differences: W+ = 60*61/2, no ties, still the normal approximation.
  std::vector<double> d(60);
  std::iota(d.begin(), d.end(), 1.0);
  PairedTest r = paired_test(d, zeros(d.size()));
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kNormal);
  double z = (1830.0 - 60.0 * 61.0 / 4.0) / std::sqrt(60.0 * 61.0 * 121.0 / 24.0);
  EXPECT_NEAR(r.wilcoxon_p_value, std::erfc(z / std::sqrt(2.0)), 1e-20);
  EXPECT_NEAR(r.wilcoxon_p_value, 1.6295557943119345e-11, 1e-9 * 1.6e-11);  // SciPy 1.17

  // 1..13 and one zero (n = 14): the zero is dropped from the ranks (m = 13).
  d.assign(13, 0.0);
  std::iota(d.begin(), d.end(), 1.0);
  d.push_back(0.0);
  r = paired_test(d, zeros(d.size()));
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kNormal);
  z = (91.0 - 13.0 * 14.0 / 4.0) / std::sqrt(13.0 * 14.0 * 27.0 / 24.0);
  EXPECT_NEAR(r.wilcoxon_p_value, std::erfc(z / std::sqrt(2.0)), 1e-15);
  EXPECT_NEAR(r.wilcoxon_p_value, 0.0014737808438751421, 1e-12);  // SciPy 1.17

  // 1 1 2 2 ... 10 10: ten tie pairs, each contributing t^3 - t = 6 to the tie correction.
  d.clear();
  for (int k = 1; k <= 10; ++k) d.insert(d.end(), 2, k);
  r = paired_test(d, zeros(d.size()));
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kNormal);
  z = (210.0 - 20.0 * 21.0 / 4.0) / std::sqrt((20.0 * 21.0 * 41.0 - 60.0 / 2.0) / 24.0);
  EXPECT_NEAR(r.wilcoxon_p_value, std::erfc(z / std::sqrt(2.0)), 1e-17);
  EXPECT_NEAR(r.wilcoxon_p_value, 8.732637791829415e-05, 1e-13);  // SciPy 1.17
}

TEST(PairedTest, PairedTOnFivePairsMatchesScipy) {
  // d = 1..5: mean 3, sd sqrt(2.5), se sqrt(0.5), t = 3 / sqrt(0.5), 4 degrees of freedom.
  const PairedTest r = paired_test({1, 2, 3, 4, 5}, zeros(5));
  EXPECT_DOUBLE_EQ(r.mean_difference, 3.0);
  EXPECT_NEAR(r.t_statistic, 3.0 / std::sqrt(0.5), 1e-14);
  EXPECT_NEAR(r.t_p_value, 0.01323559956368269, 1e-15);  // SciPy 1.17 ttest_rel
  EXPECT_NEAR(r.ci_low, 1.0367568385224428, 1e-13);
  EXPECT_NEAR(r.ci_high, 4.963243161477557, 1e-13);
}

TEST(PairedTest, PairedTWithOneAndTwoDegreesOfFreedomMatchesClosedForms) {
  // df = 1 is Cauchy: P(|T| > t) = 1 - 2 atan(t) / pi, t_0.975 = tan(0.475 pi).
  // d = {1, 3}: mean 2, sd sqrt(2), se 1, t = 2.
  PairedTest r = paired_test({1, 3}, {0, 0});
  EXPECT_NEAR(r.t_statistic, 2.0, 1e-15);
  EXPECT_NEAR(r.t_p_value, 1.0 - 2.0 * std::atan(2.0) / kPi, 1e-14);
  EXPECT_NEAR(r.ci_high, 2.0 + std::tan(0.475 * kPi), 1e-12);
  EXPECT_NEAR(r.ci_low, 2.0 - std::tan(0.475 * kPi), 1e-12);

  // df = 2: P(|T| > t) = 1 - t / sqrt(2 + t^2), t_p = (2p - 1) / sqrt(2 p (1 - p)).
  // d = {1, 2, 6}: mean 3, variance 7, se sqrt(7/3).
  r = paired_test({1, 2, 6}, {0, 0, 0});
  const double t = 3.0 / std::sqrt(7.0 / 3.0);
  EXPECT_NEAR(r.t_statistic, t, 1e-14);
  EXPECT_NEAR(r.t_p_value, 1.0 - t / std::sqrt(2.0 + t * t), 1e-14);
  const double q = 0.95 / std::sqrt(2.0 * 0.975 * 0.025);
  EXPECT_NEAR(r.ci_high, 3.0 + q * std::sqrt(7.0 / 3.0), 1e-12);
}

TEST(PairedTestStudentT, CdfMatchesClosedFormsAndIsSymmetric) {
  for (const double t : {-50.0, -3.0, -1.0, -0.2, 0.0, 0.4, 1.0, 2.5, 12.0, 1e6}) {
    EXPECT_NEAR(student_t_cdf(t, 1.0), 0.5 + std::atan(t) / kPi, 1e-15) << t;
    EXPECT_NEAR(student_t_cdf(t, 2.0), 0.5 + t / (2.0 * std::sqrt(2.0 + t * t)), 1e-15) << t;
    EXPECT_NEAR(student_t_cdf(t, 7.5) + student_t_cdf(-t, 7.5), 1.0, 1e-15) << t;
  }
  // Far tail, relative precision: for df = 1, P(T < -t) = atan(1/t) / pi.
  EXPECT_NEAR(student_t_cdf(-1e8, 1.0) / (std::atan(1e-8) / kPi), 1.0, 1e-12);
  EXPECT_EQ(student_t_cdf(-INFINITY, 3.0), 0.0);
  EXPECT_EQ(student_t_cdf(INFINITY, 3.0), 1.0);
  // Large df approaches the standard normal.
  EXPECT_NEAR(student_t_cdf(1.96, 1e7), 0.5 * std::erfc(-1.96 / std::sqrt(2.0)), 1e-7);
  EXPECT_TRUE(std::isnan(student_t_cdf(1.0, 0.0)));
}

TEST(PairedTestStudentT, QuantileInvertsTheCdfAndMatchesTables) {
  EXPECT_NEAR(student_t_quantile(0.975, 1.0), std::tan(0.475 * kPi), 1e-12);
  EXPECT_NEAR(student_t_quantile(0.975, 4.0), 2.7764451051977934, 1e-13);  // SciPy t.ppf
  EXPECT_NEAR(student_t_quantile(0.975, 10.0), 2.228138851986274, 1e-13);
  EXPECT_NEAR(student_t_quantile(0.975, 30.0), 2.0422724563012378, 1e-13);
  for (const double df : {1.0, 2.5, 4.0, 30.0, 200.0}) {
    for (const double p : {1e-9, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999999}) {
      const double t = student_t_quantile(p, df);
      const double back = student_t_cdf(t, df);
      EXPECT_NEAR(back / p, 1.0, 1e-12) << "df=" << df << " p=" << p;
    }
  }
  EXPECT_TRUE(std::isnan(student_t_quantile(1.0, 3.0)));
}

TEST(PairedTest, SwappingTheSidesNegatesTheEffectAndKeepsThePValues) {
  const std::vector<double> a = {0.91, 0.88, 0.93, 0.90, 0.87, 0.92, 0.89};
  const std::vector<double> b = {0.90, 0.89, 0.91, 0.88, 0.88, 0.90, 0.86};
  const PairedTest ab = paired_test(a, b);
  const PairedTest ba = paired_test(b, a);
  EXPECT_DOUBLE_EQ(ab.mean_difference, -ba.mean_difference);
  EXPECT_DOUBLE_EQ(ab.t_statistic, -ba.t_statistic);
  EXPECT_DOUBLE_EQ(ab.t_p_value, ba.t_p_value);
  EXPECT_DOUBLE_EQ(ab.ci_low, -ba.ci_high);
  EXPECT_EQ(ab.wilcoxon_statistic, ba.wilcoxon_statistic);
  EXPECT_DOUBLE_EQ(ab.wilcoxon_p_value, ba.wilcoxon_p_value);
}

TEST(PairedTest, DegenerateInputsFollowScipy) {
  const PairedTest empty = paired_test({}, {});
  EXPECT_EQ(empty.n, 0);
  EXPECT_TRUE(std::isnan(empty.mean_difference));
  EXPECT_TRUE(std::isnan(empty.t_p_value));
  EXPECT_TRUE(std::isnan(empty.ci_low));
  EXPECT_TRUE(std::isnan(empty.wilcoxon_statistic));
  EXPECT_TRUE(std::isnan(empty.wilcoxon_p_value));

  for (const double b : {0.5, 0.75}) {  // one pair, non-zero and zero difference
    const PairedTest one = paired_test({0.75}, {b});
    EXPECT_DOUBLE_EQ(one.mean_difference, 0.75 - b);
    EXPECT_TRUE(std::isnan(one.t_statistic));
    EXPECT_TRUE(std::isnan(one.t_p_value));
    EXPECT_TRUE(std::isnan(one.ci_high));
    EXPECT_EQ(one.wilcoxon_statistic, 0.0);
    EXPECT_EQ(one.wilcoxon_p_value, 1.0);
  }

  // Every difference zero: nothing to rank.
  const std::vector<double> same = {0.8, 0.7, 0.9, 0.6, 0.85};
  PairedTest r = paired_test(same, same);
  EXPECT_EQ(r.zero_differences, 5);
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kPermutation);
  EXPECT_EQ(r.wilcoxon_p_value, 1.0);
  EXPECT_TRUE(std::isnan(r.t_statistic));
  EXPECT_TRUE(std::isnan(r.t_p_value));
  EXPECT_EQ(r.ci_low, 0.0);
  EXPECT_EQ(r.ci_high, 0.0);
  const std::vector<double> many(20, 0.5);
  r = paired_test(many, many);
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kNormal);
  EXPECT_EQ(r.wilcoxon_statistic, 0.0);
  EXPECT_TRUE(std::isnan(r.wilcoxon_p_value));

  // One constant non-zero difference: zero variance, t = +inf.
  r = paired_test({1.25, 2.25, 3.25, 4.25}, {1.0, 2.0, 3.0, 4.0});
  EXPECT_EQ(r.mean_difference, 0.25);
  EXPECT_EQ(r.t_statistic, INFINITY);
  EXPECT_EQ(r.t_p_value, 0.0);
  EXPECT_EQ(r.ci_low, 0.25);
  EXPECT_EQ(r.ci_high, 0.25);
  EXPECT_EQ(r.wilcoxon_method, WilcoxonMethod::kPermutation);  // four tied |d|
  EXPECT_DOUBLE_EQ(r.wilcoxon_p_value, 2.0 / 16.0);
}

TEST(PairedTest, RejectsUnmatchedOrNonFiniteInput) {
  EXPECT_THROW(paired_test({1.0, 2.0}, {1.0}), common::InputError);
  EXPECT_THROW(paired_test({1.0, NAN}, {1.0, 2.0}), common::InputError);
  EXPECT_THROW(paired_test({1.0, 2.0}, {INFINITY, 2.0}), common::InputError);
}

TEST(PairedTest, MethodNamesAreScipys) {
  EXPECT_STREQ(to_string(WilcoxonMethod::kExact), "exact");
  EXPECT_STREQ(to_string(WilcoxonMethod::kPermutation), "permutation");
  EXPECT_STREQ(to_string(WilcoxonMethod::kNormal), "asymptotic");
}

}  // namespace
}  // namespace cltci::analysis
