#include "cltci/analysis/scatter_plot.h"

#include "cltci/analysis/plot_style.h"

#include <c10/util/Exception.h>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <unordered_map>

namespace cltci::analysis {
namespace {

cv::Scalar darker(const cv::Scalar& colour) {
  return cv::Scalar(std::round(colour[0] * 0.6), std::round(colour[1] * 0.6),
                    std::round(colour[2] * 0.6));
}

void check_options(const ScatterPlotOptions& options) {
  TORCH_CHECK(options.width >= 64 && options.height >= 64,
              "scatter_plot: the picture must be at least 64 x 64 pixels, got ", options.width,
              " x ", options.height);
  TORCH_CHECK(options.point_radius >= 1 && options.point_radius <= 50,
              "scatter_plot: point_radius must be in 1..50 pixels, got ", options.point_radius);
}

void check_xy(const at::Tensor& xy) {
  TORCH_CHECK(xy.defined() && xy.dim() == 2 && xy.size(1) == 2,
              "scatter_plot: xy must be [N, 2], got ",
              xy.defined() ? xy.sizes() : at::IntArrayRef{});
  TORCH_CHECK(!xy.is_complex(), "scatter_plot: complex coordinates are not supported");
}

/// Font sizes follow the picture's shorter side, 1000 pixels being the reference.
double size_factor(const ScatterPlotOptions& options) {
  return std::min(options.width, options.height) / 1000.0;
}

struct Layout {
  cv::Rect area;  // where dot centres may fall
  double title_scale = 0.0;
  int title_thickness = 1;
  cv::Point title_origin;  // baseline start
};

Layout layout_of(const ScatterPlotOptions& options) {
  Layout layout;
  const int shorter = std::min(options.width, options.height);
  const int margin =
      std::max(2 * options.point_radius + 4, static_cast<int>(std::lround(shorter * 0.04)));
  int title_band = 0;
  if (!options.title.empty()) {
    const int pad = std::max(4, margin / 3);
    layout.title_thickness = size_factor(options) >= 0.75 ? 2 : 1;
    double scale = std::max(0.35, 0.7 * size_factor(options));
    int baseline = 0;
    cv::Size size =
        cv::getTextSize(options.title, kPlotFont, scale, layout.title_thickness, &baseline);
    const int room = options.width - 2 * pad;
    while (size.width > room && scale > 0.1) {
      scale *= 0.9;
      size = cv::getTextSize(options.title, kPlotFont, scale, layout.title_thickness, &baseline);
    }
    layout.title_scale = scale;
    layout.title_origin =
        cv::Point(std::max(pad, (options.width - size.width) / 2), pad + size.height);
    title_band = size.height + baseline + 2 * pad;
  }
  layout.area = cv::Rect(margin, title_band + margin, options.width - 2 * margin,
                         options.height - title_band - 2 * margin);
  TORCH_CHECK(layout.area.width >= 1 && layout.area.height >= 1, "scatter_plot: ", options.width,
              " x ", options.height, " pixels leave no room for the dots after a margin of ",
              margin, " and a title band of ", title_band);
  return layout;
}

std::vector<cv::Point> positions(const at::Tensor& xy, const cv::Rect& area) {
  const at::Tensor values = xy.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  TORCH_CHECK(torch::isfinite(values).all().item<bool>(),
              "scatter_plot: xy holds NaN or infinite values");
  const std::int64_t n = values.size(0);
  if (n == 0) return {};
  const double* v = values.data_ptr<double>();
  double min_x = v[0], max_x = v[0], min_y = v[1], max_y = v[1];
  for (std::int64_t i = 1; i < n; ++i) {
    min_x = std::min(min_x, v[2 * i]);
    max_x = std::max(max_x, v[2 * i]);
    min_y = std::min(min_y, v[2 * i + 1]);
    max_y = std::max(max_y, v[2 * i + 1]);
  }
  // One scale for both axes; a zero span (one point, equal coordinates) imposes no limit, and
  // with no limit at all the scale is 0: every dot in the middle, never a division by zero.
  double scale = std::numeric_limits<double>::infinity();
  if (max_x > min_x) scale = std::min(scale, (area.width - 1) / (max_x - min_x));
  if (max_y > min_y) scale = std::min(scale, (area.height - 1) / (max_y - min_y));
  if (!std::isfinite(scale)) scale = 0.0;
  const double centre_x = area.x + (area.width - 1) / 2.0;
  const double centre_y = area.y + (area.height - 1) / 2.0;
  const double mid_x = min_x / 2.0 + max_x / 2.0;  // halves first: no overflow for huge values
  const double mid_y = min_y / 2.0 + max_y / 2.0;
  std::vector<cv::Point> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    out[static_cast<std::size_t>(i)] =
        cv::Point(static_cast<int>(std::lround(centre_x + (v[2 * i] - mid_x) * scale)),
                  static_cast<int>(std::lround(centre_y - (v[2 * i + 1] - mid_y) * scale)));
  }
  return out;
}

/// `text` to the right of the dot at `dot` (to its left where the right edge would cut it),
/// vertically centred on it, over a white halo that keeps it legible across other dots.
void draw_label(cv::Mat& canvas,
                const std::string& text,
                cv::Point dot,
                int radius,
                double scale,
                const cv::Scalar& colour) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, kPlotFont, scale, 1, &baseline);
  const int gap = radius + 3;
  int x = dot.x + gap;
  if (x + size.width > canvas.cols - 2) x = std::max(1, dot.x - gap - size.width);
  const int y = std::clamp(dot.y + size.height / 2, size.height + 1,
                           std::max(size.height + 1, canvas.rows - baseline - 1));
  cv::putText(canvas, text, {x, y}, kPlotFont, scale, kPlotWhite, 3, cv::LINE_AA);
  cv::putText(canvas, text, {x, y}, kPlotFont, scale, colour, 1, cv::LINE_AA);
}

}  // namespace

std::vector<std::size_t> category_numbers(const std::vector<std::string>& categories) {
  std::unordered_map<std::string, std::size_t> numbers;
  std::vector<std::size_t> out;
  out.reserve(categories.size());
  for (const std::string& category : categories) {
    out.push_back(numbers.emplace(category, numbers.size()).first->second);
  }
  return out;
}

std::vector<cv::Point> dot_centres(const at::Tensor& xy, const ScatterPlotOptions& options) {
  check_options(options);
  check_xy(xy);
  return positions(xy, layout_of(options).area);
}

cv::Mat scatter_plot(const at::Tensor& xy,
                     const std::vector<std::string>& categories,
                     const ScatterPlotOptions& options) {
  check_options(options);
  check_xy(xy);
  TORCH_CHECK(static_cast<std::int64_t>(categories.size()) == xy.size(0),
              "scatter_plot: need one category per point, got ", categories.size(), " for ",
              xy.size(0), " points");
  const Layout layout = layout_of(options);
  const std::vector<cv::Point> dots = positions(xy, layout.area);
  const std::vector<std::size_t> numbers = category_numbers(categories);
  cv::Mat canvas(options.height, options.width, CV_8UC3, kPlotWhite);

  const int radius = options.point_radius;
  for (std::size_t i = 0; i < dots.size(); ++i) {
    const cv::Scalar colour = category_colour(numbers[i]);
    // A darker rim keeps light colours (yellow, buff) visible on white.
    if (radius >= 3) {
      cv::circle(canvas, dots[i], radius, darker(colour), cv::FILLED, cv::LINE_AA);
      cv::circle(canvas, dots[i], radius - 1, colour, cv::FILLED, cv::LINE_AA);
    } else {
      cv::circle(canvas, dots[i], radius, colour, cv::FILLED, cv::LINE_AA);
    }
  }

  if (options.annotate && !dots.empty()) {
    if (dots.size() <= options.label_each_dot_up_to) {
      const double scale = std::max(0.3, 0.4 * size_factor(options));
      for (std::size_t i = 0; i < dots.size(); ++i) {
        draw_label(canvas, categories[i], dots[i], radius, scale,
                   darker(category_colour(numbers[i])));
      }
    } else {
      // One label per category, beside the member nearest the centroid of its dots: the label
      // always touches a dot of its own, even when the category is split into distant clumps.
      const std::size_t count = *std::max_element(numbers.begin(), numbers.end()) + 1;
      std::vector<double> sum_x(count, 0.0), sum_y(count, 0.0);
      std::vector<std::size_t> members(count, 0);
      for (std::size_t i = 0; i < dots.size(); ++i) {
        sum_x[numbers[i]] += dots[i].x;
        sum_y[numbers[i]] += dots[i].y;
        ++members[numbers[i]];
      }
      std::vector<std::size_t> anchor(count, dots.size());
      std::vector<double> best(count, std::numeric_limits<double>::infinity());
      for (std::size_t i = 0; i < dots.size(); ++i) {
        const std::size_t c = numbers[i];
        const double dx = dots[i].x - sum_x[c] / static_cast<double>(members[c]);
        const double dy = dots[i].y - sum_y[c] / static_cast<double>(members[c]);
        if (dx * dx + dy * dy < best[c]) {
          best[c] = dx * dx + dy * dy;
          anchor[c] = i;
        }
      }
      const double scale = std::max(0.35, 0.5 * size_factor(options));
      for (std::size_t c = 0; c < count; ++c) {
        const std::size_t i = anchor[c];
        draw_label(canvas, categories[i], dots[i], radius, scale, darker(category_colour(c)));
      }
    }
  }

  if (!options.title.empty()) {
    cv::putText(canvas, options.title, layout.title_origin, kPlotFont, layout.title_scale,
                kPlotBlack, layout.title_thickness, cv::LINE_AA);
  }
  return canvas;
}

}  // namespace cltci::analysis
