#include "cltci/data/square_geometry.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

namespace cltci::data {
namespace {

TEST(SquareGeometry, OfANonSquareImage) {
  const ImageGeometry g = square_geometry(288, 320, 256);
  EXPECT_EQ(g.side, 320);
  EXPECT_EQ(g.pad_top, 16);
  EXPECT_EQ(g.pad_left, 0);
  EXPECT_DOUBLE_EQ(g.scale, 0.8);
  const ImageGeometry tall = square_geometry(301, 257, 64);
  EXPECT_EQ(tall.pad_left, 22);
  EXPECT_EQ(tall.pad_top, 0);
}

TEST(SquareGeometry, PadsToACentredSquareWithZeros) {
  const cv::Mat image(20, 40, CV_32FC1, cv::Scalar(1.0));
  const cv::Mat square = square_resize_image(image, 40);
  ASSERT_EQ(square.size(), cv::Size(40, 40));
  EXPECT_EQ(cv::countNonZero(square.rowRange(0, 10)), 0);
  EXPECT_EQ(cv::countNonZero(square.rowRange(30, 40)), 0);
  EXPECT_EQ(cv::countNonZero(square.rowRange(10, 30) != 1.0f), 0);
}

cv::Mat blocky_labels(int height, int width) {
  cv::Mat labels = cv::Mat::zeros(height, width, CV_8UC1);
  labels(cv::Rect(width / 8, height / 6, width / 3, height * 2 / 3)).setTo(2);
  labels(cv::Rect(width / 2 + 2, height / 5, width / 3, height / 2)).setTo(1);
  labels(cv::Rect(1, 1, 3, 2)).setTo(255);
  return labels;
}

TEST(SquareGeometry, LabelsMapBackToAnOddNonSquareNativeSize) {
  // Enlarging (37x23 -> 64): nearest neighbour there and back is exact.
  const cv::Mat small = blocky_labels(23, 37);
  const cv::Mat up = square_resize_labels(small, 64);
  const cv::Mat back = labels_to_native(up, square_geometry(23, 37, 64));
  ASSERT_EQ(back.size(), small.size());
  EXPECT_EQ(cv::countNonZero(back != small), 0);
  // Shrinking (301x257 -> 64) loses detail only along the edges.
  const cv::Mat large = blocky_labels(301, 257);
  const cv::Mat down = square_resize_labels(large, 64);
  EXPECT_EQ(cv::countNonZero(down.colRange(0, 5)), 0);  // 22 padded columns / 4.7 per pixel
  const cv::Mat restored = labels_to_native(down, square_geometry(301, 257, 64));
  ASSERT_EQ(restored.size(), large.size());
  EXPECT_GT(1.0 - cv::countNonZero(restored != large) / (301.0 * 257.0), 0.97);
}

}  // namespace
}  // namespace cltci::data
