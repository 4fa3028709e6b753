#include "cltci/data/acquisition_time.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/data/dataset_from_manifest.h"
#include "cltci/data/image_writers.h"
#include "cltci/data/manifest.h"
#include "cltci/data/phantom.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace cltci::data {
namespace {

TEST(AcquisitionTimeTest, DaysSinceTheEpochOfHandComputedTimes) {
  EXPECT_EQ(iso_to_days("1970-01-01"), 0.0);
  EXPECT_EQ(iso_to_days("1970-01-01T00:00"), 0.0);
  EXPECT_EQ(iso_to_days("1970-01-01T00:00:00.000"), 0.0);
  // 30 years with 7 leap days to 2000-01-01 (10957), then 31 + 29 days, then half a day.
  EXPECT_EQ(iso_to_days("2000-03-01T12:00"), 11017.5);
  EXPECT_EQ(iso_to_days("2000-03-01T12:00:00"), 11017.5);
  EXPECT_EQ(iso_to_days("2000-02-29"), 11016.0);  // 2000 is a leap year (divisible by 400)
  EXPECT_EQ(iso_to_days("2021-02-28"), 18686.0);  // 51 years with 13 leap days, + 31 + 27
  EXPECT_EQ(iso_to_days("1969-12-31T18:00"), -0.25);
  EXPECT_DOUBLE_EQ(iso_to_days("2000-03-01T12:30:45"), 11017.0 + 45045.0 / 86400.0);
  EXPECT_DOUBLE_EQ(iso_to_days("1970-01-02T06:00:00.25"), 1.0 + 21600.25 / 86400.0);
  EXPECT_DOUBLE_EQ(iso_to_days("1970-01-01T00:00:01.125"), 1.125 / 86400.0);
  // Minutes apart on one day, and an interval across a month end.
  EXPECT_NEAR(iso_to_days("2021-03-01T00:10") - iso_to_days("2021-02-28T23:50"), 20.0 / 1440.0,
              1e-9);
}

TEST(AcquisitionTimeTest, EmptyIsUndated) {
  const double undated = iso_to_days("");
  EXPECT_TRUE(std::isnan(undated));
  EXPECT_FALSE(is_dated(undated));
  EXPECT_TRUE(is_dated(0.0));
  EXPECT_TRUE(is_dated(-0.25));
}

TEST(AcquisitionTimeTest, MalformedTimesThrowNamingTheText) {
  for (const std::string text :
       {"03/04/2021", "2021-3-04", "2021-02-30", "1900-02-29", "2020-13-01", "2020-00-10",
        "2020-01-00", "2020-01-01T24:00", "2020-01-01T12:60", "2020-01-01T12", "2020-01-01T12:00:",
        "2020-01-01T12:00:61", "2020-01-01T12:00:00.", "2020-01-01T12:00:00.5x", "2020-01-01 12:00",
        "2020-01-01T12:00Z", "2020-01-01T12:00:00+01:00", " 2020-01-01"}) {
    try {
      iso_to_days(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const common::InputError& e) {
      EXPECT_EQ(std::string(e.what()), "time '" + text +
                                           "' is not an ISO 8601 date-time "
                                           "(YYYY-MM-DD[Thh:mm[:ss[.f]]])");
    }
  }
}

TEST(AcquisitionTimeTest, ManifestRecordsCarryTimeAndStudy) {
  CLTCI_REQUIRE_IMAGE_CODECS();
  testing::TempDir dir;
  write_png(dir / "a.png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(0)));
  write_png(dir / "b.png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(0)));
  common::write_file_atomic(dir / "m.csv",
                            "path,patient_id,order,time,study\n"
                            "a.png,p1,0,2000-03-01T12:00,s1\n"
                            "b.png,p1,1,,\n");
  const auto records = manifest_sources(load_manifest(dir / "m.csv"));
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].days, 11017.5);
  EXPECT_EQ(records[0].study, "s1");
  EXPECT_TRUE(std::isnan(records[1].days));
  EXPECT_EQ(records[1].study, "");

  // The manifest's own check is the grammar only; an impossible date is named with its line.
  common::write_file_atomic(dir / "bad.csv",
                            "path,patient_id,order,time\n"
                            "a.png,p1,0,2021-02-30\n");
  try {
    manifest_sources(load_manifest(dir / "bad.csv"));
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "bad.csv").string() +
                                         ":2: time '2021-02-30' is not an ISO 8601 date-time "
                                         "(YYYY-MM-DD[Thh:mm[:ss[.f]]])");
  }
}

TEST(AcquisitionTimeTest, PhantomRecordsAreDatedInV2Only) {
  PhantomOptions v2;
  v2.patients = 3;
  const std::vector<PhantomEntry> plan = phantom_plan(v2);
  const auto records = phantom_sources(v2);
  ASSERT_EQ(records.size(), plan.size());
  for (std::size_t i = 0; i < plan.size(); ++i) {
    ASSERT_FALSE(plan[i].time.empty());
    EXPECT_EQ(records[i].days, iso_to_days(plan[i].time));
    // The plan's days count from admission; the record's from 1970, in whole minutes.
    if (i > 0 && plan[i].patient == plan[i - 1].patient) {
      EXPECT_GT(records[i].days, records[i - 1].days);
      EXPECT_NEAR(records[i].days - records[i - 1].days, plan[i].days - plan[i - 1].days,
                  1.0 / 1440.0);
    }
  }
  PhantomOptions v1;
  v1.version = 1;
  v1.patients = 2;
  for (const SourceRecord& record : phantom_sources(v1)) EXPECT_TRUE(std::isnan(record.days));
}

}  // namespace
}  // namespace cltci::data
