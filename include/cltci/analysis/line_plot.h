// A line plot with axes drawn with OpenCV alone (Hershey fonts: no font files, no Python), for
// the report's Dice-vs-M figure (one line per initialisation, error bars = std over folds x seeds)
// and the training curves of a run (loss, learning rate, probe top-1 against the step). Ticks,
// tick labels, axis labels and a legend beside the plot area; x linear or logarithmic.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace cltci::analysis {

/// One line. Points whose x or y is not finite are left out (the line joins their neighbours),
/// so a metrics.csv column filled every N epochs plots as a line through its filled rows.
struct LineSeries {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> error;  ///< half-length of each point's error bar; empty: no bars
};

enum class AxisScale { kLinear, kLog };

/// Options of line_plot(); invalid values are a c10::Error.
struct LinePlotOptions {
  int width = 900;                         ///< pixels of the whole picture (>= 200)
  int height = 600;                        ///< pixels of the whole picture (>= 150)
  std::string title;                       ///< one line at the top; empty: no title band
  std::string x_label;                     ///< under the x tick labels; empty: none
  std::string y_label;                     ///< rotated, left of the y tick labels; empty: none
  AxisScale x_scale = AxisScale::kLinear;  ///< kLog needs every plotted x > 0
  /// Where the x ticks go (e.g. exactly the M values of a table); empty: chosen automatically.
  std::vector<double> x_ticks;
  /// x values the axis covers besides the data and the ticks: stacked panels share one x range.
  std::vector<double> x_include;
  bool legend = true;      ///< labels in a column right of the plot area (series with a label)
  int line_thickness = 2;  ///< pixels, 1..10
  int marker_radius = 4;   ///< pixels, 0 (no markers)..20
};

/// Where data land in the picture: the plot area and the data range its edges stand for.
struct PlotFrame {
  cv::Rect area;  ///< pixels; x_min maps to column area.x, y_max to row area.y
  double x_min = 0.0, x_max = 1.0;
  double y_min = 0.0, y_max = 1.0;
  AxisScale x_scale = AxisScale::kLinear;

  /// Pixel (x = column, y = row, unrounded) of a data point; larger y is higher up.
  cv::Point2d to_pixel(double x, double y) const;
};

/// The frame line_plot() draws in: the data range (error bars included) widened by 5 % of its
/// span on each side (on a log axis, of the log span). A zero span (one point) first opens by 10 %
/// of the value on each side (+-1 around 0; a factor of 2 on a log axis); nothing to plot gives
/// [0, 1] ([0.5, 2] on a log axis), widened. The area is what the margins for the ticks, labels,
/// title and legend leave.
PlotFrame plot_frame(const std::vector<LineSeries>& series, const LinePlotOptions& options = {});

/// About `target` ticks in [low, high] at a step of 1, 2 or 5 times a power of ten, each an
/// exact multiple of the step (Heckbert's "nice numbers", Graphics Gems 1990).
std::vector<double> nice_ticks(double low, double high, int target = 5);

/// The picture, CV_8UC3 (BGR), `options.height` x `options.width`, white background: a grey grid
/// at the ticks, the black frame, each series in its colour (series_colour(i)): error bars, then
/// the line, then a filled marker at each point; the legend, the labels and the title in black.
cv::Mat line_plot(const std::vector<LineSeries>& series, const LinePlotOptions& options = {});

/// The colour (BGR) of series number `i`: the scatter plot's category colours.
cv::Scalar series_colour(std::size_t i);

}  // namespace cltci::analysis
