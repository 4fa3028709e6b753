#include "cltci/analysis/scatter_plot.h"

#include "cltci/analysis/plot_style.h"
#include "unit/analysis/plot_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace cltci::analysis {
namespace {

using testing::pixel;

int non_white_pixels(const cv::Mat& image) {
  cv::Mat mask;
  cv::inRange(image, kPlotWhite, kPlotWhite, mask);
  return static_cast<int>(image.total()) - cv::countNonZero(mask);
}

TEST(ScatterPlot, SizeTypeAndWhiteBackground) {
  ScatterPlotOptions options;
  options.width = 640;
  options.height = 480;
  options.title = "t-SNE";
  const at::Tensor xy = torch::randn({12, 2});
  const std::vector<std::string> labels(12, "p1");
  const cv::Mat image = scatter_plot(xy, labels, options);
  EXPECT_EQ(image.cols, 640);
  EXPECT_EQ(image.rows, 480);
  EXPECT_EQ(image.type(), CV_8UC3);
  for (const cv::Point corner :
       {cv::Point(0, 0), cv::Point(639, 0), cv::Point(0, 479), cv::Point(639, 479)}) {
    EXPECT_EQ(pixel(image, corner), kPlotWhite);
  }
  // Mostly background: 12 dots and a few short labels.
  EXPECT_LT(non_white_pixels(image), static_cast<int>(image.total()) / 10);
}

TEST(ScatterPlot, DotCentresCarryTheirCategoryColour) {
  // The corners of a square and its centre: categories a b c a d -> numbers 0 1 2 0 3.
  const at::Tensor xy =
      torch::tensor({0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.5, 0.5}, torch::kFloat64)
          .reshape({5, 2});
  const std::vector<std::string> labels = {"a", "b", "c", "a", "d"};
  EXPECT_EQ(category_numbers(labels), (std::vector<std::size_t>{0, 1, 2, 0, 3}));
  for (const bool annotate : {false, true}) {
    ScatterPlotOptions options;
    options.width = 400;
    options.height = 300;
    options.annotate = annotate;
    const cv::Mat image = scatter_plot(xy, labels, options);
    const std::vector<cv::Point> centres = dot_centres(xy, options);
    ASSERT_EQ(centres.size(), 5U);
    const std::vector<std::size_t> numbers = category_numbers(labels);
    for (std::size_t i = 0; i < centres.size(); ++i) {
      EXPECT_EQ(pixel(image, centres[i]), category_colour(numbers[i]))
          << "dot " << i << " annotate " << annotate;
    }
    // Larger y is higher up; equal scales keep the square a square, in the middle.
    EXPECT_EQ(centres[0].y, centres[1].y);
    EXPECT_LT(centres[2].y, centres[0].y);
    EXPECT_EQ(centres[1].x - centres[0].x, centres[0].y - centres[2].y);
    EXPECT_NEAR(centres[4].x, 200, 1);
    EXPECT_NEAR(centres[4].y, 150, 1);
  }
}

TEST(ScatterPlot, OnePointAndEqualCoordinatesDoNotDivideByZero) {
  ScatterPlotOptions options;
  options.width = 200;
  options.height = 200;
  const cv::Mat single = scatter_plot(torch::tensor({{3.0, -7.0}}), {"only"}, options);
  const std::vector<cv::Point> one = dot_centres(torch::tensor({{3.0, -7.0}}), options);
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0], cv::Point(100, 100));  // area [margin, 199 - margin]: centre 99.5 -> 100
  EXPECT_EQ(pixel(single, one[0]), category_colour(0));

  const at::Tensor same = torch::full({6, 2}, 2.5);
  const std::vector<cv::Point> centres = dot_centres(same, options);
  for (const cv::Point& c : centres) EXPECT_EQ(c, one[0]);
  const cv::Mat image = scatter_plot(same, {"a", "b", "a", "b", "a", "c"}, options);
  EXPECT_EQ(pixel(image, centres[5]), category_colour(2));  // the last dot drawn wins

  // A line along x: the y span is 0 and imposes nothing.
  const at::Tensor line = torch::tensor({{0.0, 1.0}, {2.0, 1.0}});
  const std::vector<cv::Point> ends = dot_centres(line, options);
  EXPECT_EQ(ends[0].y, ends[1].y);
  EXPECT_GT(ends[1].x - ends[0].x, 100);

  EXPECT_EQ(non_white_pixels(scatter_plot(torch::zeros({0, 2}), {}, options)), 0);
}

TEST(ScatterPlot, LabelsAndTitleAreDrawn) {
  const at::Tensor xy = torch::tensor({{0.0, 0.0}, {1.0, 1.0}});
  ScatterPlotOptions options;
  options.width = 300;
  options.height = 300;
  options.annotate = false;
  const cv::Mat bare = scatter_plot(xy, {"P001", "P002"}, options);
  options.annotate = true;
  const cv::Mat labelled = scatter_plot(xy, {"P001", "P002"}, options);
  EXPECT_GT(non_white_pixels(labelled), non_white_pixels(bare) + 50);
  // Dot 0 sits bottom-left: its label is to its right; dot 1 top-right: its label to its left.
  const std::vector<cv::Point> dots = dot_centres(xy, options);
  const cv::Rect right_of_0(dots[0].x + 8, dots[0].y - 6, 30, 12);
  const cv::Rect left_of_1(dots[1].x - 38, dots[1].y - 6, 30, 12);
  EXPECT_GT(non_white_pixels(labelled(right_of_0)), 10);
  EXPECT_EQ(non_white_pixels(bare(right_of_0)), 0);
  EXPECT_GT(non_white_pixels(labelled(left_of_1)), 10);

  // The title takes a band at the top; the dots move down to make room.
  options.title = "encoder: same-patient top-1 0.91";
  const cv::Mat titled = scatter_plot(xy, {"P001", "P002"}, options);
  EXPECT_GT(non_white_pixels(titled(cv::Rect(0, 0, 300, 20))), 50);
  EXPECT_EQ(non_white_pixels(labelled(cv::Rect(0, 0, 300, 8))), 0);
  EXPECT_GT(dot_centres(xy, options)[1].y, dots[1].y);

  // Many points: one label per category instead of one per dot.
  const at::Tensor many = torch::rand({60, 2});
  std::vector<std::string> two(60, "left");
  for (std::size_t i = 30; i < 60; ++i) two[i] = "right";
  options.title.clear();
  options.annotate = false;
  const int dots_only = non_white_pixels(scatter_plot(many, two, options));
  options.annotate = true;
  const int per_category = non_white_pixels(scatter_plot(many, two, options));
  options.label_each_dot_up_to = 100;
  const int per_dot = non_white_pixels(scatter_plot(many, two, options));
  EXPECT_GT(per_category, dots_only);
  EXPECT_GT(per_dot, per_category);
}

TEST(ScatterPlot, RejectsBadInputs) {
  const at::Tensor xy = torch::zeros({3, 2});
  EXPECT_THROW(scatter_plot(xy, {"a", "b"}), c10::Error);
  EXPECT_THROW(scatter_plot(torch::zeros({3, 3}), {"a", "b", "c"}), c10::Error);
  ScatterPlotOptions tiny;
  tiny.width = 10;
  EXPECT_THROW(scatter_plot(xy, {"a", "b", "c"}, tiny), c10::Error);
  at::Tensor with_nan = torch::zeros({3, 2});
  with_nan[1][0] = std::nan("");
  EXPECT_THROW(scatter_plot(with_nan, {"a", "b", "c"}), c10::Error);
}

}  // namespace
}  // namespace cltci::analysis
