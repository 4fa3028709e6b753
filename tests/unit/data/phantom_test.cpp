#include "cltci/data/phantom.h"

#include "cltci/common/error.h"
#include "unit/data/data_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

using testing::centroid_x;

// Version 1's tests, unchanged: the original generator stays reproducible by its version key.
PhantomOptions small_options() {
  PhantomOptions options;
  options.version = 1;
  options.patients = 6;
  options.min_images = 1;
  options.max_images = 4;
  options.width = 96;
  options.height = 80;
  return options;
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

TEST(PhantomTest, Version1FingerprintIsUnchanged) {
  // The value every v1 cache was keyed by before version 2 existed.
  PhantomOptions options;
  options.version = 1;
  EXPECT_EQ(options.fingerprint(), 7520807150305504512ULL);
  PhantomOptions v2 = options;
  v2.version = 2;
  EXPECT_NE(v2.fingerprint(), options.fingerprint());
  PhantomOptions changed = v2;
  changed.device_change_probability = 0.5;
  EXPECT_NE(changed.fingerprint(), v2.fingerprint());
}

// Version 2: the paediatric ICU model.
PhantomOptions v2_options() {
  PhantomOptions options;
  options.version = 2;
  options.patients = 12;
  options.min_images = 1;
  options.max_images = 6;
  options.width = 96;
  options.height = 104;
  return options;
}

double rms_distance(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L2) / std::sqrt(static_cast<double>(a.total()));
}

TEST(PhantomV2Test, IsTheDefault) { EXPECT_EQ(PhantomOptions{}.version, 2); }

TEST(PhantomV2Test, DeterministicFromSeed) {
  const PhantomOptions options = v2_options();
  const PhantomImage a = render_phantom(options, 3, 1);
  const PhantomImage b = render_phantom(options, 3, 1);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(a.labels, b.labels, cv::NORM_INF), 0.0);
  EXPECT_EQ(phantom_plan(options).size(), phantom_plan(options).size());
  PhantomOptions other = options;
  other.seed += 1;
  EXPECT_GT(cv::norm(a.image, render_phantom(other, 3, 1).image, cv::NORM_L1), 10.0);
  EXPECT_GT(cv::norm(a.image, render_phantom(options, 3, 0).image, cv::NORM_L1), 10.0);
  PhantomOptions v1 = options;
  v1.version = 1;
  EXPECT_GT(cv::norm(a.image, render_phantom(v1, 3, 1).image, cv::NORM_L1), 10.0);
}

TEST(PhantomV2Test, LeftLungIsOnTheImageRightInEveryImage) {
  const PhantomOptions options = v2_options();
  const double area = options.width * static_cast<double>(options.height);
  for (const PhantomEntry& e : phantom_plan(options)) {
    const PhantomImage p = render_phantom(options, e.patient, e.order);
    ASSERT_EQ(p.image.type(), CV_32FC1);
    ASSERT_EQ(p.labels.size(), cv::Size(options.width, options.height));
    double low = 0, high = 0;
    cv::minMaxLoc(p.image, &low, &high);
    EXPECT_GE(low, 0.0);
    EXPECT_LE(high, 1.0);
    EXPECT_EQ(cv::countNonZero(p.labels > 2), 0);
    EXPECT_GT(cv::countNonZero(p.labels == 1) / area, 0.01) << e.name;
    EXPECT_GT(cv::countNonZero(p.labels == 2) / area, 0.01) << e.name;
    EXPECT_GT(centroid_x(p.labels, 1), options.width / 2.0) << e.name;
    EXPECT_LT(centroid_x(p.labels, 2), options.width / 2.0) << e.name;
  }
}

TEST(PhantomV2Test, StaysAreSkewedAndTimesIncreaseWithOrder) {
  PhantomOptions options = v2_options();
  options.patients = 400;
  options.min_images = 1;
  options.max_images = 20;
  std::map<int, std::vector<PhantomEntry>> stays;
  for (const PhantomEntry& e : phantom_plan(options)) stays[e.patient].push_back(e);
  ASSERT_EQ(stays.size(), 400U);
  int single = 0, longest = 0;
  double total = 0;
  for (const auto& [patient, entries] : stays) {
    const int n = static_cast<int>(entries.size());
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 20);
    single += n == 1;
    longest += n == 20;
    total += n;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      EXPECT_EQ(entries[k].order, static_cast<int>(k));
      ASSERT_EQ(entries[k].time.size(), 19U) << entries[k].time;  // YYYY-MM-DDThh:mm:ss
      EXPECT_EQ(entries[k].time[10], 'T');
      EXPECT_GE(entries[k].days, 0.0);
      if (k > 0) {
        EXPECT_GT(entries[k].days, entries[k - 1].days);
        EXPECT_GT(entries[k].time, entries[k - 1].time);  // ISO text order is time order
      }
    }
  }
  // Many short stays, a few long ones (log-uniform: P(1) = ln 2 / ln 21, P(20) = ln(21/20) /
  // ln 21).
  EXPECT_GT(single, 70);
  EXPECT_LT(longest, single / 3);
  EXPECT_LT(total / 400.0, 8.0);
}

TEST(PhantomV2Test, FilmsOfAPatientAreCloserThanFilmsOfOthers) {
  PhantomOptions options = v2_options();
  options.patients = 8;
  options.min_images = 3;
  options.max_images = 3;
  options.width = 64;
  options.height = 64;
  std::vector<std::pair<int, cv::Mat>> films;
  for (const PhantomEntry& e : phantom_plan(options)) {
    films.emplace_back(e.patient, render_phantom(options, e.patient, e.order).image);
  }
  double same = 0, other = 0;
  int same_pairs = 0, other_pairs = 0;
  for (std::size_t i = 0; i < films.size(); ++i) {
    for (std::size_t j = i + 1; j < films.size(); ++j) {
      const double d = rms_distance(films[i].second, films[j].second);
      if (films[i].first == films[j].first) {
        same += d;
        ++same_pairs;
      } else {
        other += d;
        ++other_pairs;
      }
    }
  }
  ASSERT_GT(same_pairs, 0);
  EXPECT_LT(same / same_pairs, 0.9 * (other / other_pairs));
}

TEST(PhantomV2Test, RejectsBadVersionAndChangeProbabilityByName) {
  PhantomOptions options;
  options.version = 3;
  options.device_change_probability = 1.5;
  try {
    options.validate();
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    ASSERT_EQ(e.problems().size(), 2U);
    EXPECT_NE(e.problems()[0].find("phantom.version"), std::string::npos) << e.problems()[0];
    EXPECT_NE(e.problems()[1].find("phantom.device_change_probability"), std::string::npos)
        << e.problems()[1];
  }
}

}  // namespace
}  // namespace cltci::data
