#include "cltci/ssl/rotation.h"

#include "cltci/common/error.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace cltci::ssl {

RotationBatch make_rotation_batch(const at::Tensor& images) {
  TORCH_CHECK(images.defined() && images.dim() == 4, "rotation: images must be [B, C, H, W], got ",
              images.defined() ? images.sizes() : at::IntArrayRef{});
  if (images.size(2) != images.size(3)) {
    throw common::InputError("rotation: images must be square to rotate by 90 deg, got " +
                             std::to_string(images.size(2)) + "x" + std::to_string(images.size(3)));
  }
  const std::int64_t b = images.size(0);
  RotationBatch out;
  // torch::rot90 turns from the first listed dim towards the second: dims {2, 3} (H towards W)
  // is counter-clockwise as displayed.
  out.images = torch::cat({images, torch::rot90(images, 1, {2, 3}), torch::rot90(images, 2, {2, 3}),
                           torch::rot90(images, 3, {2, 3})},
                          0);
  out.labels = torch::arange(4, torch::TensorOptions().dtype(torch::kLong).device(images.device()))
                   .repeat_interleave(b);
  return out;
}

}  // namespace cltci::ssl
