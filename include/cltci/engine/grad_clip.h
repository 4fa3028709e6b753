// Gradient-norm clipping that leaves the norm on the device. LibTorch's
// torch::nn::utils::clip_grad_norm_ returns the norm as a double, so on a GPU every clipped step
// waits for the backward pass to finish before the host can queue the optimizer; Python's
// torch.nn.utils.clip_grad_norm_ returns a tensor and does not. This is the Python one's rule.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace cltci::engine {

/// Scales the gradients of `parameters` in place so that their joint 2-norm is at most
/// `max_norm` (by max_norm / (norm + 1e-6) when above it, as torch does) and returns the norm
/// before clipping as a 0-d float32 tensor on the gradients' device, without reading it back.
/// Parameters without a gradient are skipped; with none at all the norm is 0. A non-finite norm
/// leaves non-finite gradients, as torch's error_if_nonfinite=false does: the trainer's loss
/// check, not the clipping, stops such a run.
at::Tensor clip_grad_norm(const std::vector<at::Tensor>& parameters, double max_norm);

}  // namespace cltci::engine
