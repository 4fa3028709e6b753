// Channels-last (NHWC) storage for convolution weights and inputs. oneDNN on the CPU and cuDNN's
// tensor-core kernels run NHWC natively; with NCHW tensors each convolution reorders its
// operands first. LibTorch has no Module::to(memory_format) (performance.md, takeaway 3): this
// is it.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

namespace cltci::models {

/// Stores every 4-d parameter and buffer of `module` (recursively) channels-last, in place:
/// optimizers and the momentum encoder that already hold these tensors see the change.
void use_channels_last(torch::nn::Module& module);

/// `input` ([N, C, H, W]) as channels-last, or unchanged when `on` is false.
at::Tensor channels_last_input(const at::Tensor& input, bool on);

}  // namespace cltci::models
