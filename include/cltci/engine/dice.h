// Dice scores for lung segmentation: per class (1 = left lung, 2 = right lung; background is never
// scored), both pooled over a fold (the paper's number: TP, FP, FN summed over all pixels of all
// images, cl-tci-reference.md sec. 6) and per image.
//
// Empty-mask rule (stated in every output): when a class is absent from both the prediction and
// the ground truth of an image, that image's Dice for the class is 1; when it is absent from the
// ground truth only, 0. Pixels labelled 255 in the ground truth are ignored.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace cltci::engine {

inline constexpr const char* kEmptyMaskRule =
    "per-image Dice is 1 when a class is absent from both prediction and ground truth, 0 when "
    "absent from the ground truth only; pixels labelled 255 are ignored";

struct ClassCounts {
  std::int64_t tp = 0;
  std::int64_t fp = 0;
  std::int64_t fn = 0;
  ClassCounts& operator+=(const ClassCounts& other);
};

/// Dice = 2 TP / (2 TP + FP + FN), with the empty-mask rule above.
double dice(const ClassCounts& counts);

/// Counts for classes 1 .. classes-1 of one image; `prediction` and `target` are integer label
/// maps of the same [H, W] shape.
std::vector<ClassCounts> count_classes(const torch::Tensor& prediction,
                                       const torch::Tensor& target,
                                       std::int64_t classes,
                                       std::int64_t ignore_index = 255);

}  // namespace cltci::engine
