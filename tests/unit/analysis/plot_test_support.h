// Helpers shared by the plotting tests.
#pragma once

#include <opencv2/core.hpp>

namespace cltci::testing {

/// The BGR colour of one pixel of an 8-bit three-channel image, comparable with the plots'
/// cv::Scalar colours.
inline cv::Scalar pixel(const cv::Mat& image, cv::Point at) {
  const auto& bgr = image.at<cv::Vec3b>(at);
  return {static_cast<double>(bgr[0]), static_cast<double>(bgr[1]), static_cast<double>(bgr[2])};
}

}  // namespace cltci::testing
