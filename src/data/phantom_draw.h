// Private drawing helpers shared by the phantom generators (phantom.cpp: version 1,
// phantom_v2.cpp: version 2). Version 1's pixels must never change, so these keep the exact
// arithmetic it was written with: a change here is a change of every phantom.
#pragma once

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cltci::data::detail {

using Polygon = std::vector<cv::Point2d>;

constexpr double kPi = 3.14159265358979323846;

// Lung outline in a unit box: x = 0 lateral .. 1 medial, y = 0 apex .. 1 costophrenic angle.
// The diaphragm points (indices 6..9) are lifted by the dome height; the medial points leave
// room for the mediastinum.
inline constexpr std::array<std::array<double, 2>, 14> kLungTemplate = {{{0.55, 0.00},
                                                                         {0.30, 0.06},
                                                                         {0.15, 0.20},
                                                                         {0.06, 0.45},
                                                                         {0.02, 0.75},
                                                                         {0.00, 1.00},
                                                                         {0.25, 0.94},
                                                                         {0.50, 0.88},
                                                                         {0.75, 0.90},
                                                                         {1.00, 0.97},
                                                                         {0.98, 0.60},
                                                                         {0.92, 0.30},
                                                                         {0.85, 0.10},
                                                                         {0.72, 0.02}}};

/// Corner cutting turns a coarse template into a smooth outline (closed polygons).
inline Polygon chaikin(const Polygon& points, int iterations) {
  Polygon current = points;
  for (int it = 0; it < iterations; ++it) {
    Polygon next;
    next.reserve(current.size() * 2);
    for (std::size_t i = 0; i < current.size(); ++i) {
      const cv::Point2d& p = current[i];
      const cv::Point2d& q = current[(i + 1) % current.size()];
      next.push_back(0.75 * p + 0.25 * q);
      next.push_back(0.25 * p + 0.75 * q);
    }
    current.swap(next);
  }
  return current;
}

/// Quadratic Bezier from a to b pulled towards `control`.
inline Polygon curve(cv::Point2d a, cv::Point2d control, cv::Point2d b, int steps = 24) {
  Polygon out;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    out.push_back((1 - t) * (1 - t) * a + 2 * (1 - t) * t * control + t * t * b);
  }
  return out;
}

/// The patient's placement on the detector: rotation and scale about the image centre, then a
/// shift (fractions of the image size).
class Pose {
 public:
  Pose(double rotation_deg, double scale, double shift_x, double shift_y, cv::Size size) {
    const cv::Point2d centre(size.width / 2.0, size.height / 2.0);
    const double angle = rotation_deg * kPi / 180.0;
    c_ = std::cos(angle) * scale;
    s_ = std::sin(angle) * scale;
    tx_ = centre.x + shift_x * size.width - (c_ * centre.x - s_ * centre.y);
    ty_ = centre.y + shift_y * size.height - (s_ * centre.x + c_ * centre.y);
    scale_ = scale;
  }
  cv::Point2d operator()(cv::Point2d p) const {
    return {c_ * p.x - s_ * p.y + tx_, s_ * p.x + c_ * p.y + ty_};
  }
  double scale() const { return scale_; }
  /// The same map as a 2x3 matrix, for cv::warpAffine of whole layers.
  cv::Matx23d matrix() const { return {c_, -s_, tx_, s_, c_, ty_}; }
  // Fixed-point vertices (shift 4) keep sub-pixel outlines when rasterised.
  std::vector<cv::Point> raster(const Polygon& polygon) const {
    std::vector<cv::Point> out;
    out.reserve(polygon.size());
    for (const cv::Point2d& p : polygon) {
      const cv::Point2d q = (*this)(p);
      out.emplace_back(static_cast<int>(std::lround(q.x * 16)),
                       static_cast<int>(std::lround(q.y * 16)));
    }
    return out;
  }

 private:
  double c_ = 1, s_ = 0, tx_ = 0, ty_ = 0, scale_ = 1;
};

inline void fill(cv::Mat& layer, const Pose& pose, const Polygon& polygon, double value) {
  const std::vector<std::vector<cv::Point>> polys{pose.raster(polygon)};
  cv::fillPoly(layer, polys, cv::Scalar(value), cv::LINE_8, 4);
}

inline void stroke(
    cv::Mat& layer, const Pose& pose, const Polygon& polyline, double value, double thickness) {
  const std::vector<std::vector<cv::Point>> lines{pose.raster(polyline)};
  cv::polylines(layer, lines, false, cv::Scalar(value),
                std::max(1, static_cast<int>(std::lround(thickness * pose.scale()))), cv::LINE_8,
                4);
}

/// A density map as a displayed film: contrast about mid-grey, brightness and gamma, clamped to
/// [0, 1], then quantum noise of standard deviation `noise` (0: none) from `noise_seed`, clamped
/// again.
inline cv::Mat expose(const cv::Mat& density,
                      double contrast,
                      double brightness,
                      double gamma,
                      double noise,
                      std::uint64_t noise_seed) {
  cv::Mat image = (density - 0.5) * contrast + 0.5 + brightness;
  cv::max(image, 0.0, image);
  cv::min(image, 1.0, image);
  cv::pow(image, gamma, image);
  if (noise > 0) {
    cv::Mat grain(density.size(), CV_32FC1);
    cv::RNG rng(noise_seed);
    rng.fill(grain, cv::RNG::NORMAL, 0.0, noise);
    image += grain;
  }
  cv::max(image, 0.0, image);
  cv::min(image, 1.0, image);
  return image;
}

}  // namespace cltci::data::detail
