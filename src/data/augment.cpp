#include "cltci/data/augment.h"

#include "cltci/common/error.h"
#include "data/random.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

using Affine = std::array<double, 9>;  // row-major 3x3

Affine multiply(const Affine& a, const Affine& b) {
  Affine c{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 3; ++k) c[3 * i + j] += a[3 * i + k] * b[3 * k + j];
    }
  }
  return c;
}

// Intensity transform of one pixel in [0, 1], clipped after each step as torchvision's PIL ops.
struct Intensity {
  double contrast, brightness, gamma, mean;
  float operator()(double x) const {
    double y = std::clamp(contrast * x + (1.0 - contrast) * mean, 0.0, 1.0);
    y = std::clamp(y * brightness, 0.0, 1.0);
    return static_cast<float>(std::pow(y, gamma));
  }
};

void apply_intensity(const cv::Mat& image, const AugmentDraw& draw, cv::Mat& out) {
  if (image.depth() == CV_8U) {
    const double mean = cv::mean(image)[0] / 255.0;
    const Intensity f{draw.contrast, draw.brightness, draw.gamma, mean};
    cv::Mat lut(1, 256, CV_32FC1);
    for (int v = 0; v < 256; ++v) lut.at<float>(v) = f(v / 255.0);
    cv::LUT(image, lut, out);
    return;
  }
  // Deeper images: a 4,097-knot table interpolated linearly (a full 65,536-entry table of pow()
  // would cost more than the warp); the error is below 1e-4 for these smooth curves.
  const double scale = image.depth() == CV_16U ? 1.0 / 65535.0 : 1.0;
  const double mean = cv::mean(image)[0] * scale;
  const Intensity f{draw.contrast, draw.brightness, draw.gamma, mean};
  constexpr int knots = 4096;
  std::vector<float> table(knots + 1);
  for (int k = 0; k <= knots; ++k)
    table[static_cast<std::size_t>(k)] = f(static_cast<double>(k) / knots);
  out.create(image.size(), CV_32FC1);
  for (int y = 0; y < image.rows; ++y) {
    auto* row = out.ptr<float>(y);
    for (int x = 0; x < image.cols; ++x) {
      const double v = image.depth() == CV_16U ? image.ptr<std::uint16_t>(y)[x] * scale
                                               : static_cast<double>(image.ptr<float>(y)[x]);
      const double t = std::clamp(v, 0.0, 1.0) * knots;
      const int k = std::min(static_cast<int>(t), knots - 1);
      const double frac = t - k;
      row[x] = static_cast<float>(table[static_cast<std::size_t>(k)] * (1.0 - frac) +
                                  table[static_cast<std::size_t>(k) + 1] * frac);
    }
  }
}

}  // namespace

void AugmentOptions::validate() const {
  std::vector<std::string> problems;
  auto range = [&](const char* name, double low, double high, double floor_value,
                   bool inclusive_floor) {
    if (!(low <= high)) {
      problems.push_back(std::string("augment.") + name + ": min " + std::to_string(low) +
                         " > max " + std::to_string(high));
    }
    if (inclusive_floor ? low < floor_value : low <= floor_value) {
      problems.push_back(std::string("augment.") + name + ": must be " +
                         (inclusive_floor ? ">= " : "> ") + std::to_string(floor_value) + ", got " +
                         std::to_string(low));
    }
  };
  if (rotation_deg < 0 || rotation_deg > 180)
    problems.push_back("augment.rotation_deg must be in [0, 180]");
  if (translate < 0 || translate >= 1) problems.push_back("augment.translate must be in [0, 1)");
  range("crop_area", crop_area_min, crop_area_max, 0.0, false);
  if (crop_area_max > 1) problems.push_back("augment.crop_area: max must be <= 1");
  range("crop_aspect", crop_aspect_min, crop_aspect_max, 0.0, false);
  range("contrast", contrast_min, contrast_max, 0.0, true);
  range("brightness", brightness_min, brightness_max, 0.0, true);
  range("gamma", gamma_min, gamma_max, 0.0, false);
  if (flip_probability < 0 || flip_probability > 1)
    problems.push_back("augment.flip_probability must be in [0, 1]");
  if (label_fill != 0 && label_fill != 255)
    problems.push_back("augment.label_fill must be 0 or 255");
  if (output_size < 0) problems.push_back("augment.output_size must be >= 0");
  if (!problems.empty()) throw common::InputError(problems);
}

AugmentOptions AugmentOptions::identity() {
  AugmentOptions o;
  o.rotation_deg = 0;
  o.translate = 0;
  o.crop_area_min = o.crop_area_max = 1;
  o.crop_aspect_min = o.crop_aspect_max = 1;
  o.contrast_min = o.contrast_max = 1;
  o.brightness_min = o.brightness_max = 1;
  o.gamma_min = o.gamma_max = 1;
  o.flip_probability = 0;
  return o;
}

AugmentDraw draw_augment(const AugmentOptions& options, int input_size, std::uint64_t seed) {
  detail::Rng rng(seed);
  AugmentDraw d;
  // A fixed number of draws per step, so changing one range never shifts the others' streams.
  d.contrast = rng.uniform(options.contrast_min, options.contrast_max);
  d.brightness = rng.uniform(options.brightness_min, options.brightness_max);
  d.gamma = rng.uniform(options.gamma_min, options.gamma_max);
  d.shift_x = rng.uniform(-options.translate, options.translate) * input_size;
  d.shift_y = rng.uniform(-options.translate, options.translate) * input_size;
  d.angle_deg = rng.uniform(-options.rotation_deg, options.rotation_deg);
  const double s = input_size;
  d.crop = cv::Rect2d(0, 0, s, s);  // the reference's fallback (resize + centre crop) on a square
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double area = rng.uniform(options.crop_area_min, options.crop_area_max) * s * s;
    const double aspect = rng.uniform(options.crop_aspect_min, options.crop_aspect_max);
    double w = std::sqrt(area * aspect);
    double h = std::sqrt(area / aspect);
    if (rng.chance(0.5)) std::swap(w, h);
    const double u = rng.uniform();
    const double v = rng.uniform();
    if (w <= s + 1e-9 && h <= s + 1e-9) {
      d.crop = cv::Rect2d(u * (s - w), v * (s - h), w, h);
      break;
    }
  }
  d.flip = rng.chance(options.flip_probability);
  return d;
}

cv::Matx23d augment_warp(const AugmentDraw& d, int size, int out_size) {
  const double c = (size - 1) / 2.0;
  const double a = d.angle_deg * CV_PI / 180.0;
  const double cos_a = std::cos(a), sin_a = std::sin(a);
  const Affine translate{1, 0, d.shift_x, 0, 1, d.shift_y, 0, 0, 1};
  const Affine rotate{
      cos_a, -sin_a, c - cos_a * c + sin_a * c, sin_a, cos_a, c - sin_a * c - cos_a * c, 0, 0, 1};
  const Affine flip =
      d.flip ? Affine{-1, 0, size - 1.0, 0, 1, 0, 0, 0, 1} : Affine{1, 0, 0, 0, 1, 0, 0, 0, 1};
  const double sx = out_size / d.crop.width, sy = out_size / d.crop.height;
  const Affine crop{sx, 0, (0.5 - d.crop.x) * sx - 0.5, 0, sy, (0.5 - d.crop.y) * sy - 0.5, 0,
                    0,  1};
  const Affine m = multiply(crop, multiply(flip, multiply(rotate, translate)));
  return {m[0], m[1], m[2], m[3], m[4], m[5]};
}

void augment(const cv::Mat& image,
             const cv::Mat& labels,
             const AugmentOptions& options,
             std::uint64_t seed,
             cv::Mat& image_out,
             cv::Mat* labels_out) {
  CV_Assert(image.channels() == 1 && image.rows == image.cols);
  const int size = image.rows;
  const int out_size = options.output_size > 0 ? options.output_size : size;
  const AugmentDraw d = draw_augment(options, size, seed);

  cv::Mat toned;
  apply_intensity(image, d, toned);

  const cv::Matx23d forward = augment_warp(d, size, out_size);

  image_out.create(out_size, out_size, CV_32FC1);
  cv::warpAffine(toned, image_out, forward, cv::Size(out_size, out_size), cv::INTER_LINEAR,
                 options.reflect_border ? cv::BORDER_REFLECT_101 : cv::BORDER_CONSTANT,
                 cv::Scalar(0));
  if (labels_out != nullptr && !labels.empty()) {
    CV_Assert(labels.type() == CV_8UC1 && labels.size() == image.size());
    labels_out->create(out_size, out_size, CV_8UC1);
    cv::warpAffine(labels, *labels_out, forward, cv::Size(out_size, out_size), cv::INTER_NEAREST,
                   cv::BORDER_CONSTANT, cv::Scalar(options.label_fill));
    if (d.flip) {
      // The patient's left lung is now on the image left, where the right lung belongs.
      cv::Mat swap(1, 256, CV_8UC1);
      for (int v = 0; v < 256; ++v)
        swap.at<std::uint8_t>(v) = static_cast<std::uint8_t>(v == 1 ? 2 : v == 2 ? 1 : v);
      cv::LUT(*labels_out, swap, *labels_out);
    }
  }
}

}  // namespace cltci::data
