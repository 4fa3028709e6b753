// Joint image + label-map augmentation of cached images (OpenCV, CPU, in loader threads).
//
// Order, as in the reference code: contrast, brightness, gamma (one look-up table), then one
// affine warp that combines translation, rotation, an optional horizontal flip and the random
// sized crop resized to the output size. Label maps go through the same warp with nearest
// neighbour and a constant fill, so image and labels stay aligned pixel for pixel.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/matx.hpp>

#include <cstdint>

namespace cltci::data {

struct AugmentOptions {
  double rotation_deg = 10;     ///< rotation angle uniform in [-r, r] degrees
  double translate = 0.1;       ///< shift uniform in [-t, t] x width / height
  double crop_area_min = 0.95;  ///< random sized crop: kept area fraction range
  double crop_area_max = 1.0;
  double crop_aspect_min = 3.0 / 4;  ///< crop aspect ratio (w/h) range
  double crop_aspect_max = 4.0 / 3;
  double contrast_min = 0.6;  ///< contrast factor (blend with the image mean)
  double contrast_max = 1.4;
  double brightness_min = 0.6;  ///< brightness factor (multiplies intensities)
  double brightness_max = 1.4;
  double gamma_min = 1.0;  ///< gamma exponent: x^gamma (> 1 darkens)
  double gamma_max = 1.4;
  double flip_probability = 0;  ///< horizontal flip; swaps labels 1 and 2 when it fires
  bool reflect_border = false;  ///< image border: reflect instead of zeros
  std::uint8_t label_fill = 0;  ///< label outside the source (0 background, or 255 ignore)
  int output_size = 0;          ///< output side; 0 keeps the input size

  /// Throws common::InputError listing every bad range.
  void validate() const;
  /// No randomness at all (evaluation).
  static AugmentOptions identity();
};

/// The random parameters of one augmented view (drawn from a seed; exposed for tests and logs).
struct AugmentDraw {
  double contrast = 1, brightness = 1, gamma = 1;
  double angle_deg = 0, shift_x = 0, shift_y = 0;  // shift in pixels
  cv::Rect2d crop;                                 // in the input's pixel coordinates
  bool flip = false;
};

AugmentDraw draw_augment(const AugmentOptions& options, int input_size, std::uint64_t seed);

/// The draw's warp from input pixel coordinates (pixel centres at integers) to output ones:
/// translate, rotate about the centre, flip, then the crop scaled onto the output.
cv::Matx23d augment_warp(const AugmentDraw& draw, int input_size, int output_size);

/// Augments a square CV_8UC1 / CV_16UC1 (or CV_32FC1 in [0,1]) image and, when given, its label
/// map. `image_out` receives CV_32FC1 in [0, 1] of the output size; when it already has that
/// type and size (e.g. a header over a tensor) it is written in place. `labels_out` likewise
/// (CV_8UC1). Pure function of its arguments.
void augment(const cv::Mat& image,
             const cv::Mat& labels,
             const AugmentOptions& options,
             std::uint64_t seed,
             cv::Mat& image_out,
             cv::Mat* labels_out);

}  // namespace cltci::data
