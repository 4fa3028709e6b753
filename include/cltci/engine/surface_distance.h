// Surface distances for lung segmentation, per class of one image: the 95th-percentile Hausdorff
// distance (HD95) and the average symmetric surface distance (ASSD), defined as MONAI 1.6 computes
// them with compute_hausdorff_distance(percentile=95) and
// compute_average_surface_distance(symmetric=True) (euclidean, include_background=False), so that
// reviewers can compare our numbers with theirs (tests/python/surface_vs_monai.py checks it):
//
// - Edges (surface) of a mask: its pixels that binary erosion with the 4-connected cross removes,
//   i.e. foreground pixels with a 4-neighbour that is background or outside the image (scipy's
//   binary_erosion default structure and border_value 0; MONAI's crop to the bounding box with a
//   margin of 1 does not change which pixels are edges).
// - Directed distances A -> B: for every edge pixel of A, the Euclidean distance, in the units of
//   `spacing`, to the nearest edge pixel of B (0 where the edges coincide).
// - HD95 = max of the 95th percentiles (numpy's default "linear" interpolation) of the two directed
//   distance sets; ASSD = mean of the two sets concatenated (so each edge pixel weighs the same).
//
// Empty-mask rule (kSurfaceEmptyRule, stated in outputs): a class absent from both maps is
// excluded (both_empty); a class absent from one map only is reported as prediction_empty or
// target_empty. In these cases both values are NaN: never 0 and never a huge number (MONAI gives
// nan or inf there). Pixels whose target is ignore_index (255) count as background in both maps,
// so a prediction over an unlabelled region neither costs nor earns anything.
#pragma once

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace cltci::engine {

inline constexpr const char* kSurfaceEmptyRule =
    "HD95 and ASSD are reported only when a class is present in both prediction and ground truth; "
    "absent from both: excluded (both_empty); absent from one: prediction_empty or target_empty, "
    "never a number; pixels labelled 255 in the ground truth count as background in both";

enum class SurfaceStatus {
  kDefined,          ///< present in both maps: hd95 and assd are numbers
  kBothEmpty,        ///< absent from both: excluded from averages
  kPredictionEmpty,  ///< present in the target only
  kTargetEmpty,      ///< present in the prediction only
};

/// "defined", "both_empty", "prediction_empty", "target_empty".
const std::string& to_string(SurfaceStatus status);

/// One class of one image. Values are in the units of `spacing` (pixels when it is {1, 1}).
struct SurfaceDistances {
  double hd95 = std::numeric_limits<double>::quiet_NaN();  ///< NaN unless status is kDefined
  double assd = std::numeric_limits<double>::quiet_NaN();  ///< NaN unless status is kDefined
  SurfaceStatus status = SurfaceStatus::kBothEmpty;
};

/// HD95 and ASSD for classes 1 .. classes-1 (entry c-1 is class c) of one image. `prediction` and
/// `target` are integer label maps of the same [H, W] shape (any integer dtype, any device: they
/// are copied to the CPU); `spacing` is {row, column} pixel size (e.g. mm), both > 0. Throws
/// c10::Error on a bad shape, dtype, class count or spacing.
std::vector<SurfaceDistances> surface_distances(const torch::Tensor& prediction,
                                                const torch::Tensor& target,
                                                std::int64_t classes,
                                                std::array<double, 2> spacing = {1.0, 1.0},
                                                std::int64_t ignore_index = 255);

}  // namespace cltci::engine
