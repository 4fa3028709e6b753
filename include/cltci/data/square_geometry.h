// The one way this toolkit turns a native image into the model's square and back: pad to a
// centred square with zeros, resize to image_size. The cache stores images this way, and
// evaluate maps predictions back to native resolution with the same geometry, so the two must
// share one definition (a one-pixel disagreement shifts every native mask).
#pragma once

#include <opencv2/core/mat.hpp>

namespace cltci::data {

/// Where a square image came from, so that predictions map back to native resolution.
struct ImageGeometry {
  int height = 0;  ///< native size of the source image
  int width = 0;
  int pad_top = 0;  ///< zero rows / columns added before it to centre it in the square
  int pad_left = 0;
  int side = 0;      ///< side of the padded square: max(height, width)
  double scale = 1;  ///< image_size / side
};

/// Geometry of placing a height x width image in a centred square resized to `image_size`.
ImageGeometry square_geometry(int height, int width, int image_size);

/// Pads to the centred square with zeros and resizes to image_size: area averaging when
/// shrinking, bilinear when enlarging; returns CV_32FC1 in the source's value range.
cv::Mat square_resize_image(const cv::Mat& image, int image_size);
/// The same for a label map: nearest neighbour (centre-exact), padding with 0.
cv::Mat square_resize_labels(const cv::Mat& labels, int image_size);
/// Inverse of square_resize_labels: a label map at cache size back to the native height x width
/// of `geometry` (nearest neighbour, sampling at native pixel centres).
cv::Mat labels_to_native(const cv::Mat& labels, const ImageGeometry& geometry);

}  // namespace cltci::data
