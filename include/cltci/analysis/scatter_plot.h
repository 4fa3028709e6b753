// A labelled 2-D scatter plot drawn with OpenCV alone (Hershey fonts: no font files, no Python),
// for the paper's Fig. 3: a t-SNE map with one dot per image, coloured by patient, the patient id
// beside the dots. Axes are left out: t-SNE coordinates carry no units. Both axes share one scale
// so that distances in the picture are distances in the map.
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace cltci::analysis {

/// Options of scatter_plot(); invalid values are a c10::Error.
struct ScatterPlotOptions {
  int width = 1000;      ///< pixels of the whole picture (>= 64)
  int height = 1000;     ///< pixels of the whole picture (>= 64), title band included
  std::string title;     ///< one line at the top (shrunk to fit); empty: no title band
  bool annotate = true;  ///< draw each category's label beside its dots
  int point_radius = 5;  ///< pixels, 1..50
  /// Up to this many points every dot gets its label (small font); above it each category is
  /// labelled once, beside its dot nearest the category's centroid.
  std::size_t label_each_dot_up_to = 40;
};

/// The picture, CV_8UC3 (BGR), `options.height` x `options.width`: white background, a margin,
/// the dots of `xy` [N, 2] (any real dtype and device, finite) coloured by `categories` (N labels,
/// e.g. patient ids; category numbers by first appearance, see category_numbers), labels in a
/// darker shade of their category's colour on a white halo, the title centred at the top. Dots
/// are drawn in index order, labels on top of all dots. Hershey fonts are ASCII: other bytes of a
/// label print as '?'. One point, or all points equal, land in the middle of the plot area.
cv::Mat scatter_plot(const at::Tensor& xy,
                     const std::vector<std::string>& categories,
                     const ScatterPlotOptions& options = {});

/// Pixel centre (x = column, y = row) of each dot of scatter_plot(xy, ..., options): larger y
/// is higher up in the picture.
std::vector<cv::Point> dot_centres(const at::Tensor& xy, const ScatterPlotOptions& options = {});

/// The category number of each label: 0, 1, ... in order of first appearance.
std::vector<std::size_t> category_numbers(const std::vector<std::string>& categories);

}  // namespace cltci::analysis
