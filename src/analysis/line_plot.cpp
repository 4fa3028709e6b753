#include "cltci/analysis/line_plot.h"

#include "cltci/analysis/plot_style.h"

#include <c10/util/Exception.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace cltci::analysis {
namespace {

const cv::Scalar kGrid(232, 232, 232);
constexpr double kPad = 0.05;  // share of the span added on each side of the data range

void check_options(const LinePlotOptions& options) {
  TORCH_CHECK(options.width >= 200 && options.height >= 150,
              "line_plot: the picture must be at least 200 x 150 pixels, got ", options.width,
              " x ", options.height);
  TORCH_CHECK(options.line_thickness >= 1 && options.line_thickness <= 10,
              "line_plot: line_thickness must be in 1..10 pixels, got ", options.line_thickness);
  TORCH_CHECK(options.marker_radius >= 0 && options.marker_radius <= 20,
              "line_plot: marker_radius must be in 0..20 pixels, got ", options.marker_radius);
}

bool plotted(double x, double y) { return std::isfinite(x) && std::isfinite(y); }

void check_series(const std::vector<LineSeries>& series, const LinePlotOptions& options) {
  for (const auto& s : series) {
    TORCH_CHECK(s.x.size() == s.y.size(), "line_plot: series '", s.label, "' has ", s.x.size(),
                " x values but ", s.y.size(), " y values");
    TORCH_CHECK(s.error.empty() || s.error.size() == s.y.size(), "line_plot: series '", s.label,
                "' has ", s.error.size(), " error bars for ", s.y.size(), " points");
    if (options.x_scale != AxisScale::kLog) continue;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      TORCH_CHECK(!plotted(s.x[i], s.y[i]) || s.x[i] > 0.0, "line_plot: series '", s.label,
                  "' has x = ", s.x[i], " on a log axis");
    }
  }
  for (const auto* values : {&options.x_ticks, &options.x_include}) {
    for (double v : *values) {
      TORCH_CHECK(std::isfinite(v) && (options.x_scale != AxisScale::kLog || v > 0.0),
                  "line_plot: x = ", v, " (a tick or x_include) cannot be placed on this axis");
    }
  }
}

double error_of(const LineSeries& s, std::size_t i) {
  if (s.error.empty() || !std::isfinite(s.error[i])) return 0.0;
  return std::abs(s.error[i]);
}

/// [low, high] widened by kPad of its span on each side; a zero span first opens to `open`.
void widen(double& low, double& high, double open) {
  if (!(high > low)) {
    low -= open;
    high += open;
  }
  const double span = high - low;
  low -= kPad * span;
  high += kPad * span;
}

double axis_value(double x, AxisScale scale) {
  return scale == AxisScale::kLog ? std::log10(x) : x;
}

/// Tick labels as short as the step allows: "0.05", "20", "2e-05".
std::string tick_text(double value, double step) {
  char buffer[32];
  if (std::abs(value) < 1e-12 * std::max(1.0, std::abs(step))) return "0";
  if (step >= 1.0 && std::abs(value) < 1e7) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else if (step >= 1e-4 && std::abs(value) < 1e7) {
    const int decimals = static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    std::snprintf(buffer, sizeof buffer, "%.*f", std::max(0, decimals), value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.3g", value);
  }
  return buffer;
}

std::string given_tick_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

struct Tick {
  double value;
  std::string text;
};

struct Fonts {
  double tick = 0.0, label = 0.0, title = 0.0;
  int pad = 0, tick_length = 0;
};

/// Font sizes follow the picture's shorter side, 600 pixels being the reference.
Fonts fonts_of(const LinePlotOptions& options) {
  const double f = std::min(options.width, options.height) / 600.0;
  Fonts fonts;
  fonts.tick = std::max(0.3, 0.45 * f);
  fonts.label = std::max(0.35, 0.55 * f);
  fonts.title = std::max(0.4, 0.65 * f);
  fonts.pad = std::max(5, static_cast<int>(std::lround(10.0 * f)));
  fonts.tick_length = std::max(3, static_cast<int>(std::lround(5.0 * f)));
  return fonts;
}

cv::Size text_size(const std::string& text, double scale, int thickness = 1) {
  int baseline = 0;
  cv::Size size = cv::getTextSize(text, kPlotFont, scale, thickness, &baseline);
  size.height += baseline;
  return size;
}

struct LineLayout {
  PlotFrame frame;
  Fonts fonts;
  std::vector<Tick> x_ticks, y_ticks;
  double title_scale = 0.0;
  int legend_x = 0;  // left edge of the legend column
};

std::vector<Tick> x_ticks_of(const PlotFrame& frame, const LinePlotOptions& options) {
  std::vector<Tick> ticks;
  const auto inside = [&](double v) { return v >= frame.x_min && v <= frame.x_max; };
  if (!options.x_ticks.empty()) {
    for (double v : options.x_ticks) {
      if (inside(v)) ticks.push_back({v, given_tick_text(v)});
    }
    return ticks;
  }
  if (options.x_scale == AxisScale::kLog) {
    // 1, 2, 5 per decade; only the decades when that crowds the axis.
    std::vector<double> values, decades;
    for (int k = static_cast<int>(std::floor(std::log10(frame.x_min)));
         k <= static_cast<int>(std::ceil(std::log10(frame.x_max))); ++k) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, k);
        if (!inside(v)) continue;
        values.push_back(v);
        if (m == 1.0) decades.push_back(v);
      }
    }
    if (values.size() > 10 && decades.size() >= 2) values = decades;
    if (values.size() >= 2) {
      for (double v : values) ticks.push_back({v, given_tick_text(v)});
      return ticks;
    }
  }
  const auto values = nice_ticks(frame.x_min, frame.x_max, 6);
  const double step = values.size() > 1 ? values[1] - values[0] : 1.0;
  for (double v : values) {
    if (options.x_scale != AxisScale::kLog || v > 0.0) ticks.push_back({v, tick_text(v, step)});
  }
  return ticks;
}

LineLayout layout_of(const std::vector<LineSeries>& series, const LinePlotOptions& options) {
  LineLayout layout;
  PlotFrame& frame = layout.frame;
  frame.x_scale = options.x_scale;
  const bool log_x = options.x_scale == AxisScale::kLog;
  double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low;
  double y_low = x_low, y_high = -x_low;
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!plotted(s.x[i], s.y[i])) continue;
      const double e = error_of(s, i);
      x_low = std::min(x_low, axis_value(s.x[i], options.x_scale));
      x_high = std::max(x_high, axis_value(s.x[i], options.x_scale));
      y_low = std::min(y_low, s.y[i] - e);
      y_high = std::max(y_high, s.y[i] + e);
    }
  }
  // Given ticks are part of the range: the M values of a table always show.
  for (const auto* values : {&options.x_ticks, &options.x_include}) {
    for (double v : *values) {
      x_low = std::min(x_low, axis_value(v, options.x_scale));
      x_high = std::max(x_high, axis_value(v, options.x_scale));
    }
  }
  if (!std::isfinite(x_low)) {  // nothing to plot
    x_low = 0.0;
    x_high = log_x ? 0.0 : 1.0;
  }
  if (!std::isfinite(y_low)) {
    y_low = 0.0;
    y_high = 1.0;
  }
  const auto opening = [](double v) { return v != 0.0 ? 0.1 * std::abs(v) : 1.0; };
  widen(x_low, x_high, log_x ? std::log10(2.0) : opening(x_low));
  widen(y_low, y_high, opening(y_low));
  frame.x_min = log_x ? std::pow(10.0, x_low) : x_low;
  frame.x_max = log_x ? std::pow(10.0, x_high) : x_high;
  frame.y_min = y_low;
  frame.y_max = y_high;

  layout.fonts = fonts_of(options);
  const Fonts& f = layout.fonts;
  const auto y_values = nice_ticks(frame.y_min, frame.y_max, 5);
  const double y_step = y_values.size() > 1 ? y_values[1] - y_values[0] : 1.0;
  for (double v : y_values) layout.y_ticks.push_back({v, tick_text(v, y_step)});
  layout.x_ticks = x_ticks_of(frame, options);

  int y_tick_width = 0, x_tick_height = text_size("0", f.tick).height, last_x_tick = 0;
  for (const auto& t : layout.y_ticks) {
    y_tick_width = std::max(y_tick_width, text_size(t.text, f.tick).width);
  }
  if (!layout.x_ticks.empty()) last_x_tick = text_size(layout.x_ticks.back().text, f.tick).width;
  const int label_height = text_size("Ag", f.label).height;

  int top = 2 * f.pad;
  if (!options.title.empty()) {
    layout.title_scale = f.title;
    const int room = options.width - 2 * f.pad;
    while (text_size(options.title, layout.title_scale).width > room && layout.title_scale > 0.1) {
      layout.title_scale *= 0.9;
    }
    top = text_size(options.title, layout.title_scale).height + 2 * f.pad;
  }
  const int left = f.pad + (options.y_label.empty() ? 0 : label_height + f.pad) + y_tick_width +
                   f.pad / 2 + f.tick_length;
  const int bottom = f.tick_length + f.pad / 2 + x_tick_height +
                     (options.x_label.empty() ? 0 : f.pad + label_height) + f.pad;
  int right = std::max(2 * f.pad, last_x_tick / 2 + f.pad);
  int legend_width = 0;
  if (options.legend) {
    for (const auto& s : series) {
      if (!s.label.empty()) legend_width = std::max(legend_width, text_size(s.label, f.tick).width);
    }
    if (legend_width > 0) legend_width += 30 + f.pad / 2 + 2 * f.pad;
  }
  right = std::max(right, legend_width + f.pad);
  frame.area = cv::Rect(left, top, options.width - left - right, options.height - top - bottom);
  layout.legend_x = frame.area.x + frame.area.width + 2 * f.pad;
  TORCH_CHECK(frame.area.width >= 20 && frame.area.height >= 20, "line_plot: ", options.width,
              " x ", options.height,
              " pixels leave no room for the plot after the ticks, labels and legend");
  return layout;
}

cv::Point rounded(const cv::Point2d& p) {
  return {static_cast<int>(std::lround(p.x)), static_cast<int>(std::lround(p.y))};
}

void draw_text(cv::Mat& canvas, const std::string& text, cv::Point origin, double scale) {
  cv::putText(canvas, text, origin, kPlotFont, scale, kPlotBlack, 1, cv::LINE_AA);
}

/// `text` turned a quarter to the left (reading upwards), centred on row `centre_y`.
void draw_vertical_text(
    cv::Mat& canvas, const std::string& text, int x, int centre_y, double scale) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, kPlotFont, scale, 1, &baseline);
  cv::Mat strip(size.height + baseline + 2, size.width + 2, CV_8UC3, kPlotWhite);
  cv::putText(strip, text, {1, size.height + 1}, kPlotFont, scale, kPlotBlack, 1, cv::LINE_AA);
  cv::Mat turned;
  cv::rotate(strip, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  cv::Rect target(x, centre_y - turned.rows / 2, turned.cols, turned.rows);
  const cv::Rect visible = target & cv::Rect(0, 0, canvas.cols, canvas.rows);
  if (visible.empty()) return;
  turned(cv::Rect(visible.x - target.x, visible.y - target.y, visible.width, visible.height))
      .copyTo(canvas(visible));
}

}  // namespace

cv::Point2d PlotFrame::to_pixel(double x, double y) const {
  const double lo = axis_value(x_min, x_scale);
  const double hi = axis_value(x_max, x_scale);
  const double u = (axis_value(x, x_scale) - lo) / (hi - lo);
  const double v = (y - y_min) / (y_max - y_min);
  return {area.x + u * (area.width - 1), area.y + (area.height - 1) * (1.0 - v)};
}

std::vector<double> nice_ticks(double low, double high, int target) {
  if (!std::isfinite(low) || !std::isfinite(high) || !(high > low) || target < 1) return {};
  const double rough = (high - low) / target;
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  const double fraction = rough / power;
  double step = 10.0 * power;
  if (fraction < 1.5) {
    step = power;
  } else if (fraction < 3.5) {
    step = 2.0 * power;
  } else if (fraction < 7.5) {
    step = 5.0 * power;
  }
  std::vector<double> ticks;
  // Each tick is k * step (not a running sum), so 0.3 prints as 0.3, not 0.30000000000000004.
  for (auto k = static_cast<long long>(std::ceil(low / step - 1e-9));
       static_cast<double>(k) * step <= high + 1e-9 * step; ++k) {
    ticks.push_back(static_cast<double>(k) * step);
  }
  return ticks;
}

cv::Scalar series_colour(std::size_t i) { return category_colour(i); }

PlotFrame plot_frame(const std::vector<LineSeries>& series, const LinePlotOptions& options) {
  check_options(options);
  check_series(series, options);
  return layout_of(series, options).frame;
}

cv::Mat line_plot(const std::vector<LineSeries>& series, const LinePlotOptions& options) {
  check_options(options);
  check_series(series, options);
  const LineLayout layout = layout_of(series, options);
  const PlotFrame& frame = layout.frame;
  const Fonts& f = layout.fonts;
  const cv::Rect& area = frame.area;
  cv::Mat canvas(options.height, options.width, CV_8UC3, kPlotWhite);
  const int right_edge = area.x + area.width - 1;
  const int bottom_edge = area.y + area.height - 1;

  for (const auto& t : layout.y_ticks) {
    const int row = rounded(frame.to_pixel(frame.x_min, t.value)).y;
    cv::line(canvas, {area.x, row}, {right_edge, row}, kGrid, 1);
    cv::line(canvas, {area.x - f.tick_length, row}, {area.x, row}, kPlotBlack, 1);
    const cv::Size size = cv::getTextSize(t.text, kPlotFont, f.tick, 1, nullptr);
    draw_text(canvas, t.text,
              {area.x - f.tick_length - f.pad / 2 - size.width, row + size.height / 2}, f.tick);
  }
  for (const auto& t : layout.x_ticks) {
    const int column = rounded(frame.to_pixel(t.value, frame.y_min)).x;
    cv::line(canvas, {column, area.y}, {column, bottom_edge}, kGrid, 1);
    cv::line(canvas, {column, bottom_edge}, {column, bottom_edge + f.tick_length}, kPlotBlack, 1);
    const cv::Size size = cv::getTextSize(t.text, kPlotFont, f.tick, 1, nullptr);
    draw_text(canvas, t.text,
              {column - size.width / 2, bottom_edge + f.tick_length + f.pad / 2 + size.height},
              f.tick);
  }
  cv::rectangle(canvas, {area.x, area.y}, {right_edge, bottom_edge}, kPlotBlack, 1);

  const int cap = std::max(3, options.marker_radius + 2);
  for (std::size_t s = 0; s < series.size(); ++s) {
    const cv::Scalar colour = series_colour(s);
    const LineSeries& line = series[s];
    std::vector<cv::Point> points;
    for (std::size_t i = 0; i < line.x.size(); ++i) {
      if (!plotted(line.x[i], line.y[i])) continue;
      const cv::Point p = rounded(frame.to_pixel(line.x[i], line.y[i]));
      points.push_back(p);
      if (const double e = error_of(line, i); e > 0.0) {
        const int top = rounded(frame.to_pixel(line.x[i], line.y[i] + e)).y;
        const int low = rounded(frame.to_pixel(line.x[i], line.y[i] - e)).y;
        cv::line(canvas, {p.x, top}, {p.x, low}, colour, 1, cv::LINE_AA);
        cv::line(canvas, {p.x - cap, top}, {p.x + cap, top}, colour, 1, cv::LINE_AA);
        cv::line(canvas, {p.x - cap, low}, {p.x + cap, low}, colour, 1, cv::LINE_AA);
      }
    }
    for (std::size_t i = 1; i < points.size(); ++i) {
      cv::line(canvas, points[i - 1], points[i], colour, options.line_thickness, cv::LINE_AA);
    }
    if (options.marker_radius > 0) {
      for (const auto& p : points) {
        cv::circle(canvas, p, options.marker_radius, colour, cv::FILLED, cv::LINE_AA);
      }
    }
  }

  if (options.legend) {
    const int row_height =
        std::max(text_size("Ag", f.tick).height, 2 * options.marker_radius) + f.pad / 2;
    int y = area.y + f.pad + row_height / 2;
    for (std::size_t s = 0; s < series.size(); ++s) {
      if (series[s].label.empty()) continue;
      const cv::Scalar colour = series_colour(s);
      const int x = layout.legend_x;
      cv::line(canvas, {x, y}, {x + 30, y}, colour, options.line_thickness, cv::LINE_AA);
      if (options.marker_radius > 0) {
        cv::circle(canvas, {x + 15, y}, options.marker_radius, colour, cv::FILLED, cv::LINE_AA);
      }
      const cv::Size size = cv::getTextSize(series[s].label, kPlotFont, f.tick, 1, nullptr);
      draw_text(canvas, series[s].label, {x + 30 + f.pad / 2, y + size.height / 2}, f.tick);
      y += row_height;
    }
  }

  if (!options.x_label.empty()) {
    const cv::Size size = cv::getTextSize(options.x_label, kPlotFont, f.label, 1, nullptr);
    draw_text(canvas, options.x_label,
              {area.x + (area.width - size.width) / 2, options.height - f.pad}, f.label);
  }
  if (!options.y_label.empty()) {
    draw_vertical_text(canvas, options.y_label, f.pad, area.y + area.height / 2, f.label);
  }
  if (!options.title.empty()) {
    const cv::Size size = cv::getTextSize(options.title, kPlotFont, layout.title_scale, 1, nullptr);
    draw_text(canvas, options.title,
              {std::max(f.pad, (options.width - size.width) / 2), f.pad + size.height},
              layout.title_scale);
  }
  return canvas;
}

}  // namespace cltci::analysis
