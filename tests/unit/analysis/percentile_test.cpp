#include "cltci/analysis/percentile.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <vector>

namespace cltci::analysis {
namespace {

TEST(Percentile, EqualsNumpyLinearOnHandComputedCases) {
  // numpy.percentile([4, 1, 3, 2], q): virtual index 3q/100 between the sorted values.
  const std::vector<double> v{4.0, 1.0, 3.0, 2.0};
  EXPECT_EQ(percentile(v, 0.0), 1.0);
  EXPECT_EQ(percentile(v, 100.0), 4.0);
  EXPECT_EQ(percentile(v, 50.0), 2.5);
  // Bit for bit what numpy 2.4 prints (index 2.85: 4 - 1 * 0.15 from the nearer end).
  EXPECT_EQ(percentile(v, 95.0), 3.8499999999999996);
  EXPECT_EQ(percentile(v, 25.0), 1.75);
  EXPECT_EQ(percentile(v, 5.0), 1.15);
  EXPECT_EQ(percentile({7.5}, 95.0), 7.5);
  // numpy: percentile([0, 10], 30) = 3.0 and percentile([0, 0.1, 0.2], 70) = 0.14.
  EXPECT_EQ(percentile({0.0, 10.0}, 30.0), 3.0);
  EXPECT_EQ(percentile({0.0, 0.1, 0.2}, 70.0), 0.14);
}

TEST(Percentile, RejectsEmptyInputAndPercentsOutsideTheRange) {
  EXPECT_THROW(percentile({}, 50.0), c10::Error);
  EXPECT_THROW(percentile({1.0}, -1.0), c10::Error);
  EXPECT_THROW(percentile({1.0}, 100.5), c10::Error);
}

}  // namespace
}  // namespace cltci::analysis
