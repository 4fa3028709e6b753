// What every picture of analysis/ shares, so that the t-SNE map and the line plots of one report
// look alike: the Hershey font (built into OpenCV: no font files), the page and ink colours, and
// the palette that gives category i (a patient, a method) the same colour in every plot.
#pragma once

#include <opencv2/core/types.hpp>
#include <opencv2/imgproc.hpp>

#include <cstddef>

namespace cltci::analysis {

inline constexpr int kPlotFont = cv::FONT_HERSHEY_SIMPLEX;
inline const cv::Scalar kPlotWhite{255, 255, 255};  ///< the page (BGR)
inline const cv::Scalar kPlotBlack{0, 0, 0};        ///< axes, ticks, text (BGR)

/// The colour (BGR, 0..255) of category number `i`: Kelly's (1965) colours of maximum contrast
/// without white and black (20), then golden-ratio steps around the hue circle at alternating
/// brightness, which keep any run of consecutive categories apart.
cv::Scalar category_colour(std::size_t i);

}  // namespace cltci::analysis
