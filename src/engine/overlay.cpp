#include "cltci/engine/overlay.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace cltci::engine {
namespace {

cv::Mat to_gray8(const cv::Mat& image) {
  cv::Mat out;
  switch (image.depth()) {
    case CV_8U:
      out = image.clone();
      break;
    case CV_16U:
      image.convertTo(out, CV_8U, 255.0 / 65535.0);
      break;
    default:
      image.convertTo(out, CV_8U, 255.0);
  }
  return out;
}

void draw_class(
    cv::Mat& canvas, const cv::Mat& labels, int label, const cv::Scalar& colour, int thickness) {
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(labels == label, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  cv::drawContours(canvas, contours, -1, colour, thickness, cv::LINE_AA);
}

}  // namespace

cv::Mat draw_overlay(const cv::Mat& image,
                     const cv::Mat& labels,
                     const cv::Mat& truth,
                     int min_side) {
  CV_Assert(image.channels() == 1 && labels.type() == CV_8UC1 && labels.size() == image.size());
  const int shorter = std::min(image.rows, image.cols);
  const double scale = shorter >= min_side ? 1.0 : static_cast<double>(min_side) / shorter;
  const cv::Size size(static_cast<int>(image.cols * scale), static_cast<int>(image.rows * scale));
  cv::Mat gray;
  cv::resize(to_gray8(image), gray, size, 0, 0, cv::INTER_LINEAR);
  cv::Mat canvas;
  cv::cvtColor(gray, canvas, cv::COLOR_GRAY2BGR);
  const auto enlarge = [&](const cv::Mat& map) {
    cv::Mat out;
    cv::resize(map, out, size, 0, 0, cv::INTER_NEAREST);
    return out;
  };
  const int thickness = std::max(1, static_cast<int>(std::lround(size.height / 256.0)));
  if (!truth.empty()) {
    const cv::Mat big_truth = enlarge(truth);
    draw_class(canvas, big_truth, 1, cv::Scalar(255, 255, 255), 1);
    draw_class(canvas, big_truth, 2, cv::Scalar(255, 255, 255), 1);
  }
  const cv::Mat big = enlarge(labels);
  draw_class(canvas, big, 1, cv::Scalar(0, 140, 255), thickness + 1);  // left lung: orange
  draw_class(canvas, big, 2, cv::Scalar(255, 200, 0), thickness + 1);  // right lung: blue
  return canvas;
}

}  // namespace cltci::engine
