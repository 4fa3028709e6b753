#include "cltci/run/report_curves.h"

#include "cltci/analysis/line_plot.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "common_test_support.h"

#include <opencv2/core.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::run {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
  common::write_file_atomic(file, std::string_view(text));
}

int pixels_of(const cv::Mat& image, const cv::Scalar& colour) {
  cv::Mat mask;
  cv::inRange(image, colour, colour, mask);
  return cv::countNonZero(mask);
}

// A pretrain run's metrics.csv: the probe fills the last row of probed epochs only.
const char* kPretrainMetrics =
    "epoch,step,global_step,loss,lr,samples_per_s,collapse_loss,probe_top1,probe_map\n"
    "1,2,2,5.5,0.05,100,6.2,0.25,0.3\n"
    "2,2,4,5.0,0.1,101,6.2,,\n"
    "3,2,6,4.2,0.075,99,6.2,0.5,0.4\n";

TEST(ReportCurves, ReadsRunsAndFinetuneCells) {
  testing::TempDir dir;
  write(dir / "pre" / "metrics.csv", kPretrainMetrics);
  const std::string finetune =
      "epoch,step,global_step,loss,lr,samples_per_s\n1,1,1,0.9,0.01,50\n"
      "2,1,2,0.7,0.005,50\n";
  write(dir / "ft" / "fold1" / "m10" / "seed0" / "metrics.csv", finetune);
  write(dir / "ft" / "fold0" / "m10" / "seed0" / "metrics.csv", finetune);
  const auto curves = read_training_curves({dir / "pre", dir / "ft"});
  ASSERT_EQ(curves.size(), 3U);
  EXPECT_EQ(curves[0].label, "pre");
  EXPECT_EQ(curves[0].step, (std::vector<double>{2, 4, 6}));
  EXPECT_EQ(curves[0].loss, (std::vector<double>{5.5, 5.0, 4.2}));
  EXPECT_EQ(curves[0].lr, (std::vector<double>{0.05, 0.1, 0.075}));
  ASSERT_EQ(curves[0].probe_top1.size(), 3U);
  EXPECT_DOUBLE_EQ(curves[0].probe_top1[0], 0.25);
  EXPECT_TRUE(std::isnan(curves[0].probe_top1[1]));
  EXPECT_EQ(curves[1].label, "ft/fold0/m10/seed0");  // path order
  EXPECT_EQ(curves[2].label, "ft/fold1/m10/seed0");
  EXPECT_TRUE(curves[1].probe_top1.empty());

  // Three panels with a probe, each 900 x 360; every run's colour in it (lines and legend).
  const cv::Mat three = training_curves_plot(curves);
  EXPECT_EQ(three.cols, 900);
  EXPECT_EQ(three.rows, 3 * 360);
  EXPECT_EQ(three.type(), CV_8UC3);
  for (std::size_t i = 0; i < curves.size(); ++i) {
    EXPECT_GT(pixels_of(three, analysis::series_colour(i)), 60) << curves[i].label;
  }
  const cv::Mat two = training_curves_plot({curves[1], curves[2]}, 640, 300);
  EXPECT_EQ(two.cols, 640);
  EXPECT_EQ(two.rows, 2 * 300);  // no probe: loss and lr only
}

TEST(ReportCurves, BadMetricsAreInputErrorsNamingTheFile) {
  testing::TempDir dir;
  write(dir / "a" / "metrics.csv", "epoch,step,global_step,loss\n1,1,1,0.5\n");
  try {
    read_training_curves({dir / "a"});
    FAIL();
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("metrics.csv: no 'lr' column"), std::string::npos)
        << error.what();
  }
  write(dir / "b" / "metrics.csv", "global_step,loss,lr\n1,0.5,0.1\n2,oops,0.1\n");
  try {
    read_training_curves({dir / "b" / "metrics.csv"});
    FAIL();
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("metrics.csv:3: loss: not a number 'oops'"),
              std::string::npos)
        << error.what();
  }
  fs::create_directories(dir / "empty");
  EXPECT_THROW(read_training_curves({dir / "empty"}), common::InputError);
  EXPECT_THROW(read_training_curves({dir / "missing"}), common::InputError);
}

}  // namespace
}  // namespace cltci::run
