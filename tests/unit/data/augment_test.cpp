#include "cltci/data/augment.h"

#include "cltci/common/error.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/phantom.h"
#include "cltci/data/square_geometry.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cstdint>

namespace cltci::data {
namespace {

// Two rectangles whose intensity encodes their label: a misaligned warp shows up as pixels
// whose label and intensity disagree.
void coded_pair(cv::Mat& image, cv::Mat& labels) {
  image = cv::Mat::zeros(64, 64, CV_8UC1);
  labels = cv::Mat::zeros(64, 64, CV_8UC1);
  labels(cv::Rect(36, 12, 18, 40)).setTo(1);
  labels(cv::Rect(10, 14, 16, 36)).setTo(2);
  image.setTo(200, labels == 1);
  image.setTo(100, labels == 2);
}

TEST(AugmentTest, IdentityReproducesTheInput) {
  cv::Mat image, labels;
  coded_pair(image, labels);
  cv::Mat out, out_labels;
  augment(image, labels, AugmentOptions::identity(), 7, out, &out_labels);
  cv::Mat expected;
  image.convertTo(expected, CV_32FC1, 1.0 / 255.0);
  EXPECT_LT(cv::norm(out, expected, cv::NORM_INF), 1e-6);
  EXPECT_EQ(cv::countNonZero(out_labels != labels), 0);
}

TEST(AugmentTest, ImageAndLabelsStayAlignedUnderStrongGeometry) {
  cv::Mat image, labels;
  coded_pair(image, labels);
  AugmentOptions options = AugmentOptions::identity();
  options.rotation_deg = 30;
  options.translate = 0.1;
  options.crop_area_min = 0.7;
  options.crop_aspect_min = 0.75;
  options.crop_aspect_max = 4.0 / 3;
  options.flip_probability = 0.5;
  options.output_size = 48;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    cv::Mat out, out_labels;
    augment(image, labels, options, seed, out, &out_labels);
    ASSERT_EQ(out.size(), cv::Size(48, 48));
    for (const int label : {1, 2}) {
      // Inside the label (two output pixels from its edge, where bilinear mixes in neighbours
      // up to ~1.4 source pixels away), intensity is the code.
      cv::Mat inner;
      cv::erode(out_labels == label, inner, cv::Mat(), cv::Point(-1, -1), 2);
      ASSERT_GT(cv::countNonZero(inner), 50) << "seed " << seed;
      // A flip swaps labels, so label 1 now covers the rectangle coded 100 and vice versa.
      const bool flipped = draw_augment(options, 64, seed).flip;
      const double code = ((label == 1) != flipped ? 200.0 : 100.0) / 255.0;
      cv::Mat wrong = (cv::abs(out - code) > 0.02) & inner;
      EXPECT_EQ(cv::countNonZero(wrong), 0) << "seed " << seed << " label " << label;
    }
  }
}

TEST(AugmentTest, FlipMirrorsAndSwapsLeftAndRight) {
  PhantomOptions phantom;
  phantom.width = 80;
  phantom.height = 72;
  const PhantomImage p = render_phantom(phantom, 0, 0);
  cv::Mat image = square_resize_image(p.image, 64);
  image.convertTo(image, CV_8UC1, 255.0);
  const cv::Mat labels = square_resize_labels(p.labels, 64);
  AugmentOptions options = AugmentOptions::identity();
  options.flip_probability = 1;
  cv::Mat out, out_labels;
  augment(image, labels, options, 3, out, &out_labels);
  cv::Mat mirrored, mirrored_labels, expected;
  cv::flip(image, mirrored, 1);
  mirrored.convertTo(expected, CV_32FC1, 1.0 / 255.0);
  EXPECT_LT(cv::norm(out, expected, cv::NORM_INF), 1e-6);
  cv::flip(labels, mirrored_labels, 1);
  EXPECT_EQ(cv::countNonZero((mirrored_labels == 1) != (out_labels == 2)), 0);
  EXPECT_EQ(cv::countNonZero((mirrored_labels == 2) != (out_labels == 1)), 0);
  // After the swap the label-1 lung is again on the image right, as for a PA view.
  const cv::Moments m = cv::moments(out_labels == 1, true);
  EXPECT_GT(m.m10 / m.m00, 32.0);
}

TEST(AugmentTest, DeterministicPerSeedAndDrawsStayInRange) {
  cv::Mat image, labels;
  coded_pair(image, labels);
  const AugmentOptions options;  // the paper's contrastive ranges
  cv::Mat a, b, c;
  augment(image, {}, options, 11, a, nullptr);
  augment(image, {}, options, 11, b, nullptr);
  augment(image, {}, options, 12, c, nullptr);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(a, c, cv::NORM_L1), 1.0);
  int cropped = 0;
  for (std::uint64_t seed = 0; seed < 500; ++seed) {
    const AugmentDraw d = draw_augment(options, 256, seed);
    EXPECT_GE(d.contrast, 0.6);
    EXPECT_LE(d.contrast, 1.4);
    EXPECT_GE(d.gamma, 1.0);
    EXPECT_LE(d.gamma, 1.4);
    EXPECT_LE(std::abs(d.angle_deg), 10.0);
    EXPECT_LE(std::abs(d.shift_x), 25.6);
    const double area = d.crop.area() / (256.0 * 256.0);
    EXPECT_GE(area, 0.95 - 1e-9);
    EXPECT_LE(area, 1.0 + 1e-9);
    EXPECT_GE(d.crop.x, 0.0);
    EXPECT_LE(d.crop.x + d.crop.width, 256.0 + 1e-9);
    EXPECT_FALSE(d.flip);
    if (d.crop.width < 256.0 - 1e-9) ++cropped;
  }
  // Aspect ratios beyond ~1.05 never fit a square at >= 95 % area: most draws fall back.
  EXPECT_GT(cropped, 20);
  EXPECT_LT(cropped, 480);
}

TEST(AugmentTest, SixteenBitInputMatchesEightBit) {
  cv::Mat image, labels;
  coded_pair(image, labels);
  cv::Mat deep;
  image.convertTo(deep, CV_16UC1, 257.0);
  const AugmentOptions options;
  cv::Mat a, b;
  augment(image, {}, options, 5, a, nullptr);
  augment(deep, {}, options, 5, b, nullptr);
  EXPECT_LT(cv::norm(a, b, cv::NORM_INF), 2e-3);
}

TEST(AugmentTest, RejectsBadRanges) {
  AugmentOptions options;
  options.contrast_min = 2;
  options.gamma_min = 0;
  options.gamma_max = 0;
  options.flip_probability = 1.5;
  try {
    options.validate();
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_EQ(e.problems().size(), 3U) << e.what();
  }
}

}  // namespace
}  // namespace cltci::data
