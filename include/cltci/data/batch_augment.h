// The augmentation of data/augment.h done on a whole batch with torch ops, on the device the
// batch lives on: the GPU data path. The random draws stay the loader's (draw_augment, the same
// seeds), so a run gives the same views with either path up to interpolation rounding; only
// the arithmetic moves. Uploading cached uint8 images (1 byte a pixel, not 4) and warping them
// on the GPU takes the per-pixel work off the CPU, which otherwise bounds the step rate.
//
// Same order as augment(): contrast (against the source image's mean), brightness and gamma,
// each clipped to [0, 1], then one bilinear warp (affine_grid + grid_sample, align_corners so
// that pixel centres map as OpenCV's warpAffine maps them; zeros or reflect-101 outside) and,
// for label maps, nearest neighbour with the label fill and the 1 <-> 2 swap of flipped views.
#pragma once

#include "cltci/data/augment.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cltci::data {

/// Where the augmentation runs (augment.placement).
enum class AugmentPlacement {
  kAuto,    ///< kDevice on a GPU, kLoader on a CPU
  kLoader,  ///< the loader's worker threads (OpenCV)
  kDevice,  ///< batched torch ops on the run's device, after the upload
};
/// "auto", "loader", "device".
const std::vector<std::string>& augment_placement_names();
/// Whether `placement` augments on the device for a run on `device`. On a GPU the loader's
/// threads would bound the step rate; on a CPU they overlap the step, which a batched pass in
/// the training thread would not.
bool augments_on_device(AugmentPlacement placement, c10::Device device);

/// The draws of a batch, as tensors (float32 unless noted; one row per sample).
struct AugmentPlan {
  at::Tensor theta;  ///< [B, 2, 3]: output -> input in affine_grid's normalised coordinates
  at::Tensor tone;   ///< [B, 3]: contrast, brightness, gamma
  at::Tensor flip;   ///< [B] bool: the label swap of a flipped view

  AugmentPlan to(c10::Device device, bool non_blocking = false) const;
};

/// The plan of `draws` for square inputs of side `input_size` warped to `output_size` (both >=
/// 2). Built on the host in double precision, then rounded to float32.
AugmentPlan plan_augment(const std::vector<AugmentDraw>& draws, int input_size, int output_size);

/// `images` [B, 1, S, S] uint8 (/255), uint16 (/65535) or float in [0, 1], on any device ->
/// [B, 1, O, O] float32 in [0, 1] on the same device, O the plan's output size.
at::Tensor augment_images(const at::Tensor& images,
                          const AugmentPlan& plan,
                          int output_size,
                          bool reflect_border);

/// augment_images of `images` under each of `plans` (one per view, all of B rows), the conversion
/// to float and the contrast pivot computed once for all views. Element i of the result is
/// [B, 1, O, O], equal to augment_images(images, plans[i], ...). The views are toned and warped
/// one after the other: one pass over V * B rows (broadcast source, concatenated plans) measured
/// slower on a 2-core CPU (cltci_data_bench, 0.61-0.89x), its larger working set outweighing
/// the halved op count there.
std::vector<at::Tensor> augment_views(const at::Tensor& images,
                                      const std::vector<AugmentPlan>& plans,
                                      int output_size,
                                      bool reflect_border);

/// `labels` [B, S, S] uint8 or int64 -> [B, O, O] int64, through the plan's warp with nearest
/// neighbour; pixels that map outside the source get `label_fill`.
at::Tensor augment_labels(const at::Tensor& labels,
                          const AugmentPlan& plan,
                          int output_size,
                          std::uint8_t label_fill);

}  // namespace cltci::data
