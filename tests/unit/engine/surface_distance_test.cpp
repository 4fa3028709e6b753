#include "cltci/engine/surface_distance.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

namespace cltci::engine {
namespace {

using torch::indexing::Slice;

torch::Tensor blank(std::int64_t rows, std::int64_t cols) {
  return torch::zeros({rows, cols}, torch::kLong);
}

// The message of the c10::Error that `call` throws, or "" if it throws none.
template <typename Call>
std::string error_of(Call call) {
  try {
    call();
  } catch (const c10::Error& error) {
    return error.what();
  }
  return "";
}

TEST(SurfaceDistance, SquaresOffsetByTwoRows) {
  // Two 7 x 7 squares, the second 2 rows lower. Each outline has 24 pixels; from the upper one:
  // its top row and the 2 upper pixels of each side are 2, 1 from the lower outline (5 + 2x1
  // pixels at 2, 2x1 at 1); its bottom row lies inside the lower square, min(column, 6 - column,
  // 2) = 1 2 2 2 1 from its outline; the other 10 side pixels lie on it. 24 distances summing to
  // 24, ten 2s on top: the 95th percentile (index 21.85) is 2. The other direction mirrors it.
  auto pred = blank(16, 12);
  auto truth = blank(16, 12);
  pred.index_put_({Slice(3, 10), Slice(2, 9)}, 1);
  truth.index_put_({Slice(5, 12), Slice(2, 9)}, 1);
  const auto result = surface_distances(pred, truth, 3);
  ASSERT_EQ(result.size(), 2u);
  EXPECT_EQ(result[0].status, SurfaceStatus::kDefined);
  EXPECT_DOUBLE_EQ(result[0].hd95, 2.0);
  EXPECT_DOUBLE_EQ(result[0].assd, 1.0);
  EXPECT_EQ(result[1].status, SurfaceStatus::kBothEmpty);
  EXPECT_TRUE(std::isnan(result[1].hd95));
  EXPECT_TRUE(std::isnan(result[1].assd));

  // The same squares side by side (class 2, columns) give the same numbers.
  const auto swapped = surface_distances(pred.t().contiguous() * 2, truth.t().contiguous() * 2, 3);
  EXPECT_EQ(swapped[0].status, SurfaceStatus::kBothEmpty);
  EXPECT_DOUBLE_EQ(swapped[1].hd95, 2.0);
  EXPECT_DOUBLE_EQ(swapped[1].assd, 1.0);
}

TEST(SurfaceDistance, SinglePixelAgainstLineInterpolatesThePercentileAsNumpy) {
  // Ground truth: column 2, rows 2..6; prediction: the pixel (2, 5). Pixel -> line: 3. Line ->
  // pixel: sqrt(9 + i^2) = 3, sqrt 10, sqrt 13, sqrt 18, 5. numpy's 95th percentile of those 5
  // sorted values sits at index 4 x 0.95 = 3.8: 5 - 0.2 (5 - sqrt 18), above the pixel's 3.
  auto truth = blank(10, 10);
  truth.index_put_({Slice(2, 7), 2}, 1);
  auto pred = blank(10, 10);
  pred.index_put_({2, 5}, 1);
  auto result = surface_distances(pred, truth, 2);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_NEAR(result[0].hd95, 5.0 - 0.2 * (5.0 - std::sqrt(18.0)), 1e-12);  // 4.84853
  EXPECT_NEAR(result[0].assd,
              (3.0 + 3.0 + std::sqrt(10.0) + std::sqrt(13.0) + std::sqrt(18.0) + 5.0) / 6.0,
              1e-12);  // 3.66135

  // Rows 0.5 mm, columns 2 mm: the pixel is 6 mm from the line, the line's pixels
  // sqrt(36 + (0.5 i)^2) from it.
  result = surface_distances(pred, truth, 2, {0.5, 2.0});
  const double d4 = std::sqrt(40.0);
  const double d3 = std::sqrt(38.25);
  EXPECT_NEAR(result[0].hd95, d4 - 0.2 * (d4 - d3), 1e-12);
  EXPECT_NEAR(result[0].assd, (6.0 + 6.0 + std::sqrt(36.25) + std::sqrt(37.0) + d3 + d4) / 6.0,
              1e-12);
}

TEST(SurfaceDistance, AnisotropicSpacingScalesOnlyItsAxis) {
  // Two horizontal segments 2 rows apart: every distance is 2 rows.
  auto pred = blank(9, 9);
  auto truth = blank(9, 9);
  pred.index_put_({3, Slice(1, 6)}, 1);
  truth.index_put_({5, Slice(1, 6)}, 1);
  auto result = surface_distances(pred, truth, 2);
  EXPECT_DOUBLE_EQ(result[0].hd95, 2.0);
  EXPECT_DOUBLE_EQ(result[0].assd, 2.0);
  result = surface_distances(pred, truth, 2, {2.0, 1.0});  // rows twice as tall
  EXPECT_DOUBLE_EQ(result[0].hd95, 4.0);
  EXPECT_DOUBLE_EQ(result[0].assd, 4.0);
  result = surface_distances(pred, truth, 2, {1.0, 3.0});  // wider columns: no change
  EXPECT_DOUBLE_EQ(result[0].hd95, 2.0);
  EXPECT_DOUBLE_EQ(result[0].assd, 2.0);
}

TEST(SurfaceDistance, ImageBorderIsPartOfTheSurface) {
  // A target filling the 5 x 5 image has only the image border as its outline (16 pixels, as
  // scipy's erosion with border_value 0). The prediction fills columns 0..3 (outline of 14): its
  // 3 inner pixels of column 3 are 1 from column 4; the 5 pixels of column 4 are 1 from column 3.
  // 8 ones among 30 distances; 3 ones in the prediction's 14 put its 95th percentile at 1.
  const auto truth = torch::ones({5, 5}, torch::kInt);
  auto pred = torch::zeros({5, 5}, torch::kInt);
  pred.index_put_({Slice(), Slice(0, 4)}, 1);
  const auto result = surface_distances(pred, truth, 2);
  EXPECT_EQ(result[0].status, SurfaceStatus::kDefined);
  EXPECT_DOUBLE_EQ(result[0].hd95, 1.0);
  EXPECT_DOUBLE_EQ(result[0].assd, 8.0 / 30.0);
  const auto same = surface_distances(truth, truth, 2);
  EXPECT_DOUBLE_EQ(same[0].hd95, 0.0);
  EXPECT_DOUBLE_EQ(same[0].assd, 0.0);
}

TEST(SurfaceDistance, IgnoredPixelsAreBackgroundInBothMaps) {
  auto pred = torch::zeros({10, 10}, torch::kUInt8);
  auto truth = torch::zeros({10, 10}, torch::kUInt8);
  pred.index_put_({3, Slice(1, 6)}, 1);
  truth.index_put_({5, Slice(1, 6)}, 1);
  truth.index_put_({Slice(7, 10), Slice(6, 10)}, 255);
  pred.index_put_({Slice(8, 10), Slice(7, 10)}, 1);  // a far blob, but on unlabelled pixels
  pred.index_put_({7, 6}, 2);                        // class 2 only on unlabelled pixels
  truth.index_put_({0, 9}, 2);                       // ... and elsewhere in the target
  auto result = surface_distances(pred, truth, 3);
  EXPECT_DOUBLE_EQ(result[0].hd95, 2.0);
  EXPECT_DOUBLE_EQ(result[0].assd, 2.0);
  EXPECT_EQ(result[1].status, SurfaceStatus::kPredictionEmpty);
  // Another ignore label: 255 is now an ordinary (unscored) value, so the blob counts.
  result = surface_distances(pred, truth, 3, {1.0, 1.0}, 254);
  EXPECT_GT(result[0].hd95, 2.0);
  EXPECT_EQ(result[1].status, SurfaceStatus::kDefined);
}

TEST(SurfaceDistance, EmptyMasksAreReportedNeverScored) {
  auto one = blank(6, 6);
  one.index_put_({Slice(1, 3), Slice(1, 3)}, 1);
  const auto empty = blank(6, 6);
  const auto cases = {
      std::make_pair(surface_distances(empty, one, 2)[0], SurfaceStatus::kPredictionEmpty),
      std::make_pair(surface_distances(one, empty, 2)[0], SurfaceStatus::kTargetEmpty),
      std::make_pair(surface_distances(empty, empty, 2)[0], SurfaceStatus::kBothEmpty)};
  for (const auto& [result, status] : cases) {
    EXPECT_EQ(result.status, status) << to_string(status);
    EXPECT_TRUE(std::isnan(result.hd95)) << to_string(status);
    EXPECT_TRUE(std::isnan(result.assd)) << to_string(status);
  }
  EXPECT_EQ(to_string(SurfaceStatus::kDefined), "defined");
  EXPECT_EQ(to_string(SurfaceStatus::kBothEmpty), "both_empty");
  EXPECT_EQ(to_string(SurfaceStatus::kPredictionEmpty), "prediction_empty");
  EXPECT_EQ(to_string(SurfaceStatus::kTargetEmpty), "target_empty");
  EXPECT_NE(std::string(kSurfaceEmptyRule).find("never a number"), std::string::npos);
}

TEST(SurfaceDistance, RejectsBadInputsWithAMessage) {
  const auto map = blank(4, 4);
  EXPECT_NE(error_of([&] { surface_distances(map, blank(4, 5), 3); }).find("differ in shape"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              surface_distances(map.to(torch::kFloat), map, 3);
            }).find("must have an integer dtype"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              surface_distances(map.unsqueeze(0), map.unsqueeze(0), 3);
            }).find("must be an [H, W] label map"),
            std::string::npos);
  EXPECT_NE(error_of([&] { surface_distances(map, map, 1); }).find("at least 2 classes"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              surface_distances(map, map, 3, {1.0, 0.0});
            }).find("spacing must be positive"),
            std::string::npos);
}

}  // namespace
}  // namespace cltci::engine
