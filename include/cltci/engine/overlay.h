// Pictures of segmentations in the style of the paper's Fig. 2: the X-ray in grey with the
// contour of the patient's left lung (label 1) and right lung (label 2) in two colours.
#pragma once

#include <opencv2/core/mat.hpp>

namespace cltci::engine {

/// `image`: single-channel X-ray of any depth (CV_8U, CV_16U, or CV_32F in [0, 1]); `labels`:
/// CV_8UC1 label map of the same size. `truth` (optional, same size) is drawn as thin white
/// contours under the prediction. Returns a BGR 8-bit picture, enlarged so that its shorter side
/// is at least `min_side` pixels (nearest neighbour for the labels, so contours stay exact).
cv::Mat draw_overlay(const cv::Mat& image,
                     const cv::Mat& labels,
                     const cv::Mat& truth = cv::Mat(),
                     int min_side = 256);

}  // namespace cltci::engine
