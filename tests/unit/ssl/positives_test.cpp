// The positive rules (positives.h) on hand-built ids, times, studies and images: which pairs they
// select, the weights they give, and the option checks.
#include "cltci/ssl/positives.h"

#include "cltci/common/error.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace cltci::ssl {
namespace {

using testing::kNaN;

torch::Tensor longs(const std::vector<std::int64_t>& values) {
  return torch::tensor(values, torch::kLong);
}

torch::Tensor doubles(const std::vector<double>& values) {
  return torch::tensor(values, torch::kDouble);
}

torch::Tensor matrix(const std::vector<std::vector<double>>& rows) {
  std::vector<torch::Tensor> out;
  for (const auto& row : rows) out.push_back(doubles(row));
  return torch::stack(out);
}

/// PairAttributes with the columns not given left undefined.
PairAttributes attributes(const torch::Tensor& ids,
                          const torch::Tensor& days = {},
                          const torch::Tensor& studies = {},
                          const torch::Tensor& images = {}) {
  PairAttributes a;
  a.ids = ids;
  a.days = days;
  a.studies = studies;
  a.images = images;
  return a;
}

PositiveOptions rule_options(PositiveRule rule, double parameter = 0.0) {
  PositiveOptions o;
  o.rule = rule;
  if (rule == PositiveRule::kWindow) o.max_days = parameter;
  if (rule == PositiveRule::kWeighted) o.time_scale_days = parameter;
  return o;
}

void expect_equal(const torch::Tensor& got, const torch::Tensor& expected) {
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(torch::equal(got, expected)) << "got\n" << got << "\nexpected\n" << expected;
}

TEST(PositiveRules, NamesFollowTheEnumOrder) {
  EXPECT_EQ(positive_rule_names(),
            (std::vector<std::string>{"patient", "study", "window", "weighted"}));
  EXPECT_EQ(to_string(PositiveRule::kPatient), "patient");
  EXPECT_EQ(to_string(PositiveRule::kStudy), "study");
  EXPECT_EQ(to_string(PositiveRule::kWindow), "window");
  EXPECT_EQ(to_string(PositiveRule::kWeighted), "weighted");
}

TEST(PositiveRules, EachRuleSaysWhatItReads) {
  EXPECT_FALSE(rule_options(PositiveRule::kPatient).needs_days());
  EXPECT_FALSE(rule_options(PositiveRule::kPatient).needs_studies());
  EXPECT_TRUE(rule_options(PositiveRule::kStudy).needs_studies());
  EXPECT_FALSE(rule_options(PositiveRule::kStudy).needs_days());
  EXPECT_TRUE(rule_options(PositiveRule::kWindow).needs_days());
  EXPECT_TRUE(rule_options(PositiveRule::kWeighted).needs_days());
  EXPECT_FALSE(rule_options(PositiveRule::kWeighted).needs_studies());
}

TEST(PositiveRules, CheckNamesTheKeyOfAMissingOrBadParameter) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {0.0, -1.0, kNaN, inf, -inf}) {
    SCOPED_TRACE(bad);
    for (const auto& [rule, key] :
         {std::pair<PositiveRule, std::string>{PositiveRule::kWindow, "method.max_days"},
          {PositiveRule::kWeighted, "method.time_scale_days"}}) {
      try {
        check_positive_options(rule_options(rule, bad));
        ADD_FAILURE() << key << " = " << bad << " accepted";
      } catch (const common::InputError& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_EQ(e.problems()[0].rfind(key + ": must be a finite number > 0", 0), 0u)
            << e.problems()[0];
      }
    }
  }
  try {
    check_positive_options(rule_options(PositiveRule::kWindow, 0.0), "loss.positives");
    ADD_FAILURE() << "max_days 0 accepted";
  } catch (const common::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("loss.positives.max_days"), std::string::npos) << e.what();
  }
  // Only the parameter of the chosen rule is read.
  EXPECT_NO_THROW(check_positive_options(rule_options(PositiveRule::kPatient)));
  EXPECT_NO_THROW(check_positive_options(rule_options(PositiveRule::kStudy)));
  EXPECT_NO_THROW(check_positive_options(rule_options(PositiveRule::kWindow, 0.5)));
  EXPECT_NO_THROW(check_positive_options(rule_options(PositiveRule::kWeighted, 30.0)));
}

TEST(PositiveRules, PatientRuleIsIdEquality) {
  PairAttributes a = attributes(longs({1, 2, 3}));
  PairAttributes k = attributes(longs({2, 1, 1, 9}));
  expect_equal(positive_weights(rule_options(PositiveRule::kPatient), a, k, torch::kDouble),
               matrix({{0, 1, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}}));
  const auto as_float = positive_weights(rule_options(PositiveRule::kPatient), a, k, torch::kFloat);
  EXPECT_EQ(as_float.scalar_type(), torch::kFloat);
}

TEST(PositiveRules, WindowKeepsDatedSamePatientPairsWithinMaxDaysInclusive) {
  PairAttributes a = attributes(longs({1, 1, 1, 2}), doubles({0.0, kNaN, 10.0, 0.0}));
  PairAttributes k =
      attributes(longs({1, 1, 1, 1, 2, 3}), doubles({0.0, 3.0, 3.5, kNaN, 3.0, 0.0}));
  // Anchor 0: equal time (dt 0) and dt = max_days are in, 3.5 is out, undated is out. Anchor 1 is
  // undated: nothing. Anchor 2: all too far. Anchor 3: its one same-patient key at dt 3.
  expect_equal(
      positive_weights(rule_options(PositiveRule::kWindow, 3.0), a, k, torch::kDouble),
      matrix({{1, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0}}));
  expect_equal(
      positive_weights(rule_options(PositiveRule::kWindow, 7.0), a, k, torch::kDouble),
      matrix({{1, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 0, 0}, {0, 1, 1, 0, 0, 0}, {0, 0, 0, 0, 1, 0}}));
}

TEST(PositiveRules, StudyKeepsSamePatientPairsOfTheSameKnownStudy) {
  PairAttributes a = attributes(longs({1, 1, 2}));
  a.studies = longs({4, -1, 4});
  PairAttributes k = attributes(longs({1, 1, 1, 2, 2}));
  k.studies = longs({4, 5, -1, 4, -1});
  // Two unknown studies (-1, -1) are not the same study; study 4 of patient 2 is not patient 1's.
  expect_equal(positive_weights(rule_options(PositiveRule::kStudy), a, k, torch::kDouble),
               matrix({{1, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, {0, 0, 0, 1, 0}}));
}

TEST(PositiveRules, WeightedIsExpOfTheTimeDifference) {
  PairAttributes a = attributes(longs({1, 1}), doubles({100.0, kNaN}));
  PairAttributes k = attributes(longs({1, 1, 1, 2}), doubles({100.0, 130.0, kNaN, 100.0}));
  const auto w =
      positive_weights(rule_options(PositiveRule::kWeighted, 30.0), a, k, torch::kDouble);
  // ATen's vectorised exp may differ from std::exp in the last bit.
  EXPECT_TRUE(torch::allclose(w, matrix({{1.0, std::exp(-1.0), 0, 0}, {0, 0, 0, 0}}), 1e-15, 0.0))
      << w;
  EXPECT_EQ(w[0][0].item<double>(), 1.0);  // dt = 0: exactly 1
  // Days since an epoch keep their hours: differences are taken in double even for float
  // weights (in float, 20000.1 - 20000 would be 0.0996).
  PairAttributes late = attributes(longs({1}), doubles({20000.1}));
  PairAttributes late_keys = attributes(longs({1}), doubles({20000.0}));
  const auto w_late =
      positive_weights(rule_options(PositiveRule::kWeighted, 1.0), late, late_keys, torch::kFloat);
  EXPECT_FLOAT_EQ(w_late.item<float>(), static_cast<float>(std::exp(-(20000.1 - 20000.0))));
}

TEST(PositiveRules, TheSameImageIsAPositiveWhateverTheRule) {
  // Anchor 0 is undated with an unknown study, anchor 1 has an unknown image identity (-1).
  PairAttributes a =
      attributes(longs({1, 1}), doubles({kNaN, 0.0}), longs({-1, -1}), longs({7, -1}));
  PairAttributes k = attributes(longs({1, 1, 1}), doubles({kNaN, 0.0, kNaN}), longs({-1, -1, -1}),
                                longs({7, -1, 8}));
  const std::vector<std::pair<PositiveOptions, torch::Tensor>> cases{
      {rule_options(PositiveRule::kPatient), matrix({{1, 1, 1}, {1, 1, 1}})},
      {rule_options(PositiveRule::kStudy), matrix({{1, 0, 0}, {0, 0, 0}})},
      {rule_options(PositiveRule::kWindow, 1.0), matrix({{1, 0, 0}, {0, 1, 0}})},
      {rule_options(PositiveRule::kWeighted, 1.0), matrix({{1, 0, 0}, {0, 1, 0}})}};
  for (const auto& [options, expected] : cases) {
    SCOPED_TRACE(to_string(options.rule));
    expect_equal(positive_weights(options, a, k, torch::kDouble), expected);
  }
}

TEST(PositiveRules, MissingOrMismatchedAttributesRaise) {
  const PairAttributes a = attributes(longs({1, 2}));
  const PairAttributes k = attributes(longs({1, 2, 3}));
  EXPECT_THROW(positive_weights(rule_options(PositiveRule::kWindow, 1.0), a, k, torch::kDouble),
               c10::Error);
  EXPECT_THROW(positive_weights(rule_options(PositiveRule::kStudy), a, k, torch::kDouble),
               c10::Error);
  PairAttributes with_image = a;
  with_image.images = longs({0, 1});
  EXPECT_THROW(
      positive_weights(rule_options(PositiveRule::kPatient), with_image, k, torch::kDouble),
      c10::Error);
  PairAttributes short_days = a;
  short_days.days = doubles({1.0});
  PairAttributes key_days = k;
  key_days.days = doubles({1.0, 2.0, 3.0});
  EXPECT_THROW(positive_weights(rule_options(PositiveRule::kWindow, 1.0), short_days, key_days,
                                torch::kDouble),
               c10::Error);
  EXPECT_THROW(
      positive_weights(rule_options(PositiveRule::kPatient), PairAttributes{}, k, torch::kDouble),
      c10::Error);
}

}  // namespace
}  // namespace cltci::ssl
