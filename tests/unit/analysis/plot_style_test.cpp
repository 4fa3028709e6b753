#include "cltci/analysis/plot_style.h"

#include <gtest/gtest.h>
#include <opencv2/core/types.hpp>

#include <cstddef>
#include <set>
#include <tuple>

namespace cltci::analysis {
namespace {

TEST(PlotStyle, DistinctCategoriesGetDistinctColours) {
  std::set<std::tuple<double, double, double>> seen;
  for (std::size_t i = 0; i < 300; ++i) {
    const cv::Scalar c = category_colour(i);
    EXPECT_NE(c, cv::Scalar(255, 255, 255)) << i;
    for (int k = 0; k < 3; ++k) {
      EXPECT_GE(c[k], 0.0);
      EXPECT_LE(c[k], 255.0);
    }
    EXPECT_TRUE(seen.emplace(c[0], c[1], c[2]).second) << "colour " << i << " repeats";
  }
}

TEST(PlotStyle, KellyColoursThenGoldenRatioHues) {
  // Kelly's first and last colours, strong blue (RGB 0067A5) and reddish orange (E25822), as BGR.
  EXPECT_EQ(category_colour(0), cv::Scalar(0xA5, 0x67, 0x00));
  EXPECT_EQ(category_colour(19), cv::Scalar(0x22, 0x58, 0xE2));
  // Past Kelly's 20: colorsys.hsv_to_rgb(h, s, v) * 255, rounded, as BGR, for hue 0.07 + j phi
  // (mod 1), saturation 0.85 or 0.55 (three categories each), value 0.85, 0.62, 0.45 in turn.
  EXPECT_EQ(category_colour(20), cv::Scalar(33, 110, 217));  // j 0: h 0.07, s 0.85, v 0.85
  EXPECT_EQ(category_colour(21), cv::Scalar(158, 24, 41));   // j 1: h 0.688, s 0.85, v 0.62
  EXPECT_EQ(category_colour(23), cv::Scalar(152, 98, 217));  // j 3: h 0.924, s 0.55, v 0.85
}

}  // namespace
}  // namespace cltci::analysis
