#include "cltci/analysis/line_plot.h"

#include "cltci/analysis/plot_style.h"
#include "unit/analysis/plot_test_support.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <vector>

namespace cltci::analysis {
namespace {

using testing::pixel;

int pixels_of(const cv::Mat& image, const cv::Scalar& colour) {
  cv::Mat mask;
  cv::inRange(image, colour, colour, mask);
  return cv::countNonZero(mask);
}

void expect_ticks(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12);
}

TEST(LinePlot, NiceTicksAreMultiplesOfOneTwoOrFive) {
  expect_ticks(nice_ticks(0.0, 1.0, 5), {0.0, 0.2, 0.4, 0.6, 0.8, 1.0});
  // Span 13.5 / 5 = 2.7 -> step 2, from the first multiple of 2 above the low end.
  expect_ticks(nice_ticks(83.2, 96.7, 5), {84, 86, 88, 90, 92, 94, 96});
  expect_ticks(nice_ticks(1e-5, 1e-4, 5), {2e-5, 4e-5, 6e-5, 8e-5, 1e-4});
  expect_ticks(nice_ticks(-7.0, 12.0, 4), {-5.0, 0.0, 5.0, 10.0});
  EXPECT_TRUE(nice_ticks(1.0, 1.0, 5).empty());
  EXPECT_EQ(nice_ticks(0.0, 0.3, 3)[1], 0.1);  // k * step, not a running sum
}

TEST(LinePlot, LinearFrameMapsTheWidenedRangeOntoTheArea) {
  const std::vector<LineSeries> series = {{"a", {0.0, 10.0}, {0.0, 100.0}, {}}};
  LinePlotOptions options;
  options.width = 640;
  options.height = 480;
  const PlotFrame frame = plot_frame(series, options);
  // 5 % of the span on each side.
  EXPECT_DOUBLE_EQ(frame.x_min, -0.5);
  EXPECT_DOUBLE_EQ(frame.x_max, 10.5);
  EXPECT_DOUBLE_EQ(frame.y_min, -5.0);
  EXPECT_DOUBLE_EQ(frame.y_max, 105.0);
  const cv::Rect& a = frame.area;
  EXPECT_GT(a.x, 0);
  EXPECT_GT(a.y, 0);
  EXPECT_LT(a.x + a.width, 640);
  EXPECT_LT(a.y + a.height, 480);
  const cv::Point2d top_left = frame.to_pixel(-0.5, 105.0);
  EXPECT_DOUBLE_EQ(top_left.x, a.x);
  EXPECT_DOUBLE_EQ(top_left.y, a.y);
  const cv::Point2d bottom_right = frame.to_pixel(10.5, -5.0);
  EXPECT_DOUBLE_EQ(bottom_right.x, a.x + a.width - 1);
  EXPECT_DOUBLE_EQ(bottom_right.y, a.y + a.height - 1);
  const cv::Point2d centre = frame.to_pixel(5.0, 50.0);
  EXPECT_NEAR(centre.x, a.x + (a.width - 1) / 2.0, 1e-9);
  EXPECT_NEAR(centre.y, a.y + (a.height - 1) / 2.0, 1e-9);
  // A quarter of the x span is a quarter of the width; larger y is higher up.
  EXPECT_NEAR(frame.to_pixel(2.25, 0.0).x - a.x, (a.width - 1) / 4.0, 1e-9);
  EXPECT_LT(frame.to_pixel(0.0, 60.0).y, frame.to_pixel(0.0, 40.0).y);
}

TEST(LinePlot, LogFrameSpacesDoublingsEqually) {
  // M = 10, 20, 40: equal steps on a log axis, the geometric mean in the middle.
  const std::vector<LineSeries> series = {{"a", {10.0, 20.0, 40.0}, {80.0, 85.0, 90.0}, {}}};
  LinePlotOptions options;
  options.x_scale = AxisScale::kLog;
  options.x_ticks = {10.0, 20.0, 40.0};
  const PlotFrame frame = plot_frame(series, options);
  const double pad = 0.05 * std::log10(4.0);
  EXPECT_NEAR(std::log10(frame.x_min), 1.0 - pad, 1e-12);
  EXPECT_NEAR(std::log10(frame.x_max), std::log10(40.0) + pad, 1e-12);
  const double x10 = frame.to_pixel(10.0, 85.0).x;
  const double x20 = frame.to_pixel(20.0, 85.0).x;
  const double x40 = frame.to_pixel(40.0, 85.0).x;
  EXPECT_NEAR(x20 - x10, x40 - x20, 1e-9);
  EXPECT_NEAR(x20, frame.area.x + (frame.area.width - 1) / 2.0, 1e-9);
}

TEST(LinePlot, ErrorBarsWidenTheRangeAndOnePointSitsInTheMiddle) {
  const std::vector<LineSeries> bars = {{"a", {1.0, 2.0}, {50.0, 60.0}, {5.0, 10.0}}};
  const PlotFrame frame = plot_frame(bars);
  // y from 45 to 70 (the bars' ends), widened by 5 % of 25.
  EXPECT_DOUBLE_EQ(frame.y_min, 45.0 - 1.25);
  EXPECT_DOUBLE_EQ(frame.y_max, 70.0 + 1.25);

  const std::vector<LineSeries> one = {{"a", {3.0}, {7.0}, {}}};
  const PlotFrame single = plot_frame(one);
  const cv::Point2d p = single.to_pixel(3.0, 7.0);
  EXPECT_NEAR(p.x, single.area.x + (single.area.width - 1) / 2.0, 1e-9);
  EXPECT_NEAR(p.y, single.area.y + (single.area.height - 1) / 2.0, 1e-9);
  EXPECT_NEAR(single.x_min, 3.0 - 0.3 - 0.03, 1e-12);  // opened by 10 %, then widened by 5 %

  LinePlotOptions shared;
  shared.x_include = {0.0, 200.0};  // another panel's steps
  const PlotFrame wide = plot_frame(one, shared);
  EXPECT_DOUBLE_EQ(wide.x_min, -10.0);
  EXPECT_DOUBLE_EQ(wide.x_max, 210.0);
}

TEST(LinePlot, DrawsEachSeriesInItsColourAtItsPoints) {
  const std::vector<LineSeries> series = {
      {"random", {10.0, 20.0}, {80.0, 88.0}, {2.0, 1.0}},
      {"cltci", {10.0, 20.0}, {84.0, 91.0}, {1.5, 0.5}},
  };
  LinePlotOptions options;
  options.width = 640;
  options.height = 480;
  options.title = "Dice vs M";
  options.x_label = "M";
  options.y_label = "Dice (%)";
  options.x_scale = AxisScale::kLog;
  options.x_ticks = {10.0, 20.0};
  const cv::Mat image = line_plot(series, options);
  ASSERT_EQ(image.cols, 640);
  ASSERT_EQ(image.rows, 480);
  ASSERT_EQ(image.type(), CV_8UC3);
  EXPECT_EQ(pixel(image, {0, 0}), kPlotWhite);
  EXPECT_EQ(pixel(image, {639, 479}), kPlotWhite);
  const PlotFrame frame = plot_frame(series, options);
  for (std::size_t s = 0; s < series.size(); ++s) {
    const cv::Scalar colour = series_colour(s);
    // Markers, the line between them and the legend's swatch: far more than a stray pixel.
    EXPECT_GT(pixels_of(image, colour), 100) << series[s].label;
    for (std::size_t i = 0; i < 2; ++i) {
      const cv::Point2d p = frame.to_pixel(series[s].x[i], series[s].y[i]);
      const cv::Point at(static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y)));
      EXPECT_EQ(pixel(image, at), colour) << series[s].label << " point " << i;
    }
  }
  EXPECT_NE(series_colour(0), series_colour(1));
  // The frame is black on its left edge.
  EXPECT_EQ(pixel(image, {frame.area.x, frame.area.y + frame.area.height / 3}),
            cv::Scalar(0, 0, 0));
}

TEST(LinePlot, NonFinitePointsAreLeftOutAndBadInputIsAnError) {
  const std::vector<LineSeries> gaps = {{"probe", {0.0, 1.0, 2.0}, {0.5, std::nan(""), 0.7}, {}}};
  const PlotFrame frame = plot_frame(gaps);
  EXPECT_DOUBLE_EQ(frame.y_min, 0.5 - 0.01);
  EXPECT_NO_THROW(line_plot(gaps));
  EXPECT_NO_THROW(line_plot({}));  // empty axes

  LinePlotOptions log;
  log.x_scale = AxisScale::kLog;
  EXPECT_THROW(plot_frame({{"a", {0.0, 1.0}, {1.0, 2.0}, {}}}, log), c10::Error);
  EXPECT_THROW(line_plot({{"a", {1.0, 2.0}, {1.0}, {}}}), c10::Error);
  LinePlotOptions tiny;
  tiny.width = 100;
  EXPECT_THROW(line_plot(gaps, tiny), c10::Error);
}

}  // namespace
}  // namespace cltci::analysis
