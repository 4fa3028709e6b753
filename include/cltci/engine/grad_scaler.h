// Dynamic loss scaling for fp16 training. fp16's smallest normal number is 6e-5: gradients of a
// contrastive loss divided over a batch fall below it and flush to zero unless the loss is
// multiplied first. Scales are powers of two, so scaling and unscaling a finite gradient is exact;
// a step whose gradients overflowed is skipped and the scale halved, and after `growth_interval`
// clean steps in a row it doubles (the rule of torch.amp.GradScaler, through the same ATen kernels,
// on CPU and CUDA alike). bf16 has fp32's exponent range and needs none of this.
#pragma once

#include <c10/core/Device.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace cltci::engine {

struct GradScalerOptions {
  double init_scale = 65536.0;  ///< 2^16, torch.amp.GradScaler's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  std::int64_t growth_interval = 2000;  ///< clean steps before the scale grows

  /// Throws common::InputError naming the bad field.
  void validate() const;
};

class GradScaler {
 public:
  /// The scale and its bookkeeping live on `device`, beside the gradients, so that scaling,
  /// unscaling and updating never copy to the host.
  explicit GradScaler(c10::Device device, GradScalerOptions options = {});

  /// loss x scale, in fp32 (an fp16 loss times 2^16 could overflow before backward starts).
  torch::Tensor scale(const torch::Tensor& loss) const;
  /// Divides every defined gradient of `parameters` by the scale, in place, and records whether
  /// any of them holds an inf or a NaN. Call once per step, after the gradient all-reduce and
  /// before clipping (the clip threshold is meant for true gradients).
  void unscale(const std::vector<torch::Tensor>& parameters);
  /// optimizer.step() unless unscale() found a non-finite gradient; returns whether it stepped.
  /// Reads one flag back from the device: the step cannot be skipped otherwise without the
  /// optimizer's momentum and weight decay moving anyway (torch's GradScaler reads it too).
  bool step(torch::optim::Optimizer& optimizer);
  /// Backs the scale off after a skipped step, grows it after growth_interval clean ones, and
  /// clears the step's flag. Asynchronous.
  void update();

  double current_scale() const;
  std::int64_t skipped_steps() const { return skipped_; }

  /// Scale and growth tracker, for an exact resume.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  GradScalerOptions options_;
  torch::Tensor scale_;           // [1] fp32
  torch::Tensor growth_tracker_;  // [1] int32: clean steps since the last change
  torch::Tensor found_inf_;       // [1] fp32: 1 when this step's gradients overflowed
  bool unscaled_ = false;
  std::int64_t skipped_ = 0;
};

}  // namespace cltci::engine
