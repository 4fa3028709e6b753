// Rotation prediction pretext task (Gidaris et al. 2018; the paper's Rotation baseline).
#pragma once

#include <ATen/core/Tensor.h>

namespace cltci::ssl {

struct RotationBatch {
  at::Tensor images;  ///< [4B, C, H, W]: all B images at 0 deg, then at 90, 180, 270 deg
  at::Tensor labels;  ///< [4B] int64: k for the block rotated by k * 90 deg
};

/// Each image of [B, C, H, W] (H == W, so the batch stays one tensor) in its four rotations.
/// Rotation k turns the image k * 90 deg counter-clockwise as displayed (row 0 at the top):
/// out[k*B + b, c, i, j] for k = 1 equals in[b, c, j, W - 1 - i].
RotationBatch make_rotation_batch(const at::Tensor& images);

}  // namespace cltci::ssl
