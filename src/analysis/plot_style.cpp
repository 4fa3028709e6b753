#include "cltci/analysis/plot_style.h"

#include <array>
#include <cmath>
#include <cstdint>

namespace cltci::analysis {
namespace {

// Kelly, "Twenty-two colors of maximum contrast" (Color Engineering 3(6), 1965), less white and
// black, as RGB; reordered so that the first ten stand apart best on a white page.
constexpr std::array<std::uint32_t, 20> kKelly = {0x0067A5, 0xF38400, 0x008856, 0xBE0032, 0x875692,
                                                  0xF3C300, 0xA1CAF1, 0x882D17, 0xE68FAC, 0x8DB600,
                                                  0x848482, 0x604E97, 0xF99379, 0x2B3D26, 0xF6A600,
                                                  0xB3446C, 0xC2B280, 0xDCD300, 0x654522, 0xE25822};

cv::Scalar from_hsv(double hue, double saturation, double value) {
  const double h6 = hue * 6.0;
  const double f = h6 - std::floor(h6);
  const double p = value * (1.0 - saturation);
  const double q = value * (1.0 - saturation * f);
  const double t = value * (1.0 - saturation * (1.0 - f));
  // The six sectors of the hue hexagon (red, yellow, green, cyan, blue, magenta).
  const std::array<double, 6> red = {value, q, p, p, t, value};
  const std::array<double, 6> green = {t, value, value, q, p, p};
  const std::array<double, 6> blue = {p, p, t, value, value, q};
  const auto sector = static_cast<std::size_t>(static_cast<int>(std::floor(h6)) % 6);
  const auto byte = [](double x) { return static_cast<double>(std::lround(255.0 * x)); };
  return cv::Scalar(byte(blue[sector]), byte(green[sector]), byte(red[sector]));
}

}  // namespace

cv::Scalar category_colour(std::size_t i) {
  if (i < kKelly.size()) {
    const std::uint32_t rgb = kKelly[i];
    return cv::Scalar(rgb & 0xFFU, (rgb >> 8U) & 0xFFU, (rgb >> 16U) & 0xFFU);
  }
  // The golden ratio's fractional steps spread any run of hues evenly (three-distance theorem);
  // brightness cycles so that categories j and j + 1 differ in both.
  const std::size_t j = i - kKelly.size();
  const double hue = std::fmod(0.07 + static_cast<double>(j) * 0.6180339887498949, 1.0);
  static constexpr std::array<double, 3> values = {0.85, 0.62, 0.45};
  const double saturation = (j / 3) % 2 == 0 ? 0.85 : 0.55;
  return from_hsv(hue, saturation, values[j % 3]);
}

}  // namespace cltci::analysis
