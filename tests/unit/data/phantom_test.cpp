#include "cltci/data/phantom.h"

#include "cltci/common/error.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>
#include <set>

namespace cltci::data {
namespace {

PhantomOptions small_options() {
  PhantomOptions options;
  options.patients = 6;
  options.min_images = 1;
  options.max_images = 4;
  options.width = 96;
  options.height = 80;
  return options;
}

double centroid_x(const cv::Mat& labels, int value) {
  const cv::Moments m = cv::moments(labels == value, true);
  return m.m10 / m.m00;
}

TEST(PhantomTest, DeterministicFromSeed) {
  const PhantomOptions options = small_options();
  const PhantomImage a = render_phantom(options, 2, 1);
  const PhantomImage b = render_phantom(options, 2, 1);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(a.labels, b.labels, cv::NORM_INF), 0.0);
  PhantomOptions other = options;
  other.seed += 1;
  EXPECT_GT(cv::norm(a.image, render_phantom(other, 2, 1).image, cv::NORM_L1), 10.0);
  EXPECT_GT(cv::norm(a.image, render_phantom(options, 2, 0).image, cv::NORM_L1), 10.0);
}

TEST(PhantomTest, LeftLungIsOnTheImageRightAndDarkerThanTheMediastinum) {
  PhantomOptions options = small_options();
  options.width = 160;
  options.height = 144;
  for (int patient = 0; patient < 4; ++patient) {
    for (int order = 0; order < 2; ++order) {
      const PhantomImage p = render_phantom(options, patient, order);
      ASSERT_EQ(p.image.type(), CV_32FC1);
      ASSERT_EQ(p.labels.size(), cv::Size(160, 144));
      double low = 0, high = 0;
      cv::minMaxLoc(p.image, &low, &high);
      EXPECT_GE(low, 0.0);
      EXPECT_LE(high, 1.0);
      const double area = 160.0 * 144.0;
      EXPECT_GT(cv::countNonZero(p.labels == 1) / area, 0.04);
      EXPECT_GT(cv::countNonZero(p.labels == 2) / area, 0.04);
      EXPECT_EQ(cv::countNonZero(p.labels > 2), 0);
      EXPECT_GT(centroid_x(p.labels, 1), 80.0) << "patient " << patient << " order " << order;
      EXPECT_LT(centroid_x(p.labels, 2), 80.0);
      const double lungs = cv::mean(p.image, p.labels > 0)[0];
      const double mediastinum = cv::mean(p.image(cv::Rect(74, 40, 12, 60)))[0];
      EXPECT_LT(lungs + 0.15, mediastinum);
    }
  }
}

TEST(PhantomTest, AcquisitionsOfAPatientAreSimilarButNotIdentical) {
  const PhantomOptions options = small_options();
  const PhantomImage a = render_phantom(options, 1, 0);
  const PhantomImage b = render_phantom(options, 1, 1);
  const double intersection = cv::countNonZero((a.labels > 0) & (b.labels > 0));
  const double union_ = cv::countNonZero((a.labels > 0) | (b.labels > 0));
  EXPECT_LT(intersection / union_, 0.999);
  EXPECT_GT(intersection / union_, 0.6);
}

TEST(PhantomTest, PlanHonoursImageRangeAndIds) {
  const PhantomOptions options = small_options();
  const std::vector<PhantomEntry> plan = phantom_plan(options);
  std::map<std::string, int> count;
  for (const PhantomEntry& e : plan) {
    EXPECT_EQ(e.order, count[e.patient_id]++);
    EXPECT_EQ(e.patient_id.rfind("phantom:p", 0), 0U);
  }
  EXPECT_EQ(count.size(), 6U);
  for (const auto& [id, n] : count) {
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 4);
  }
}

TEST(PhantomTest, WritesPngsAndAManifest) {
  testing::TempDir dir;
  PhantomOptions options = small_options();
  options.patients = 2;
  options.bits = 16;
  const auto manifest = write_phantom_dataset(dir.path(), options);
  std::ifstream in(manifest);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "path,patient_id,order,time,view,mask,left_mask,right_mask,split");
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    if (rows == 1) {
      EXPECT_EQ(line, "p0000/000.png,phantom:p0000,0,,PA,p0000/000_mask.png,,,");
    }
  }
  EXPECT_EQ(rows, phantom_plan(options).size());
  const cv::Mat image = cv::imread((dir / "p0000/000.png").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat mask = cv::imread((dir / "p0000/000_mask.png").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(image.type(), CV_16UC1);
  const PhantomImage expected = render_phantom(options, 0, 0);
  cv::Mat expected16;
  expected.image.convertTo(expected16, CV_16UC1, 65535.0);
  EXPECT_EQ(cv::norm(image, expected16, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(mask, expected.labels, cv::NORM_INF), 0.0);
}

TEST(PhantomTest, RejectsBadOptionsWithOneLineEach) {
  PhantomOptions options;
  options.patients = 0;
  options.min_images = 3;
  options.max_images = 2;
  options.bits = 12;
  try {
    options.validate();
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_EQ(e.problems().size(), 3U);
  }
}

}  // namespace
}  // namespace cltci::data
