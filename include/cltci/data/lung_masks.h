// Left/right lung masks → the canonical label map (ARCHITECTURE.md: 0 background, 1 the
// patient's left lung, 2 the patient's right lung, 255 ignore).
#pragma once

#include <opencv2/core/mat.hpp>

#include <cstddef>

namespace cltci::data {

struct LungLabelMap {
  cv::Mat labels;           ///< CV_8UC1
  std::size_t overlap = 0;  ///< pixels in both masks, written as 255
};

/// Any non-zero pixel is foreground (SCR and Montgomery store 1 or 255). Both masks must have
/// the same size.
LungLabelMap combine_lung_masks(const cv::Mat& left, const cv::Mat& right);

/// True when the left-lung mask's centroid lies left of the right-lung mask's in the image:
/// in a PA or AP view the patient's left lung is on the image's RIGHT (larger x). False when
/// either mask is empty.
bool lung_sides_swapped(const cv::Mat& left, const cv::Mat& right);

/// Splits one binary mask of both lungs (Shenzhen's third-party masks) into a label map from its
/// two largest connected components: the one with the larger centroid x becomes 1 (patient's
/// left). Returns an empty Mat when there are fewer than two components.
cv::Mat split_lungs_by_components(const cv::Mat& both);

}  // namespace cltci::data
