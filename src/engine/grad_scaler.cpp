#include "cltci/engine/grad_scaler.h"

#include "cltci/common/error.h"

#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/_amp_update_scale.h>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace cltci::engine {

void GradScalerOptions::validate() const {
  const auto positive_finite = [](double value) { return std::isfinite(value) && value > 0.0; };
  if (!positive_finite(init_scale)) {
    throw common::InputError("grad scaler: init_scale must be a positive finite number, got " +
                             std::to_string(init_scale));
  }
  if (!(std::isfinite(growth_factor) && growth_factor > 1.0)) {
    throw common::InputError("grad scaler: growth_factor must be > 1, got " +
                             std::to_string(growth_factor));
  }
  if (!(backoff_factor > 0.0 && backoff_factor < 1.0)) {
    throw common::InputError("grad scaler: backoff_factor must be in (0, 1), got " +
                             std::to_string(backoff_factor));
  }
  if (growth_interval < 1) {
    throw common::InputError("grad scaler: growth_interval must be >= 1, got " +
                             std::to_string(growth_interval));
  }
}

GradScaler::GradScaler(c10::Device device, GradScalerOptions options) : options_(options) {
  options_.validate();
  const auto on_device = torch::TensorOptions().device(device);
  scale_ = torch::full({1}, options_.init_scale, on_device.dtype(torch::kFloat));
  growth_tracker_ = torch::zeros({1}, on_device.dtype(torch::kInt));
  found_inf_ = torch::zeros({1}, on_device.dtype(torch::kFloat));
}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const {
  TORCH_CHECK(loss.device() == scale_.device(), "GradScaler::scale: the loss is on ", loss.device(),
              ", the scaler on ", scale_.device());
  return loss.to(torch::kFloat) * scale_;
}

void GradScaler::unscale(const std::vector<torch::Tensor>& parameters) {
  TORCH_CHECK(!unscaled_, "GradScaler::unscale called twice in one step");
  const torch::NoGradGuard no_grad;
  // The fused kernel takes one dtype per call (parameters of a mixed model may differ).
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& parameter : parameters) {
    const torch::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    TORCH_CHECK(grad.device() == scale_.device(), "GradScaler::unscale: a gradient is on ",
                grad.device(), ", the scaler on ", scale_.device());
    by_dtype[grad.scalar_type()].push_back(grad);
  }
  // Computed in double and rounded once: 1/2^k is exact in fp32 anyway.
  const torch::Tensor inverse = scale_.to(torch::kDouble).reciprocal().to(torch::kFloat);
  for (auto& [dtype, grads] : by_dtype) {
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, inverse);
  }
  unscaled_ = true;
}

bool GradScaler::step(torch::optim::Optimizer& optimizer) {
  TORCH_CHECK(unscaled_, "GradScaler::step before unscale: the gradients are still scaled");
  const bool overflowed = found_inf_.item<float>() != 0.0F;
  if (overflowed) {
    ++skipped_;
    return false;
  }
  optimizer.step();
  return true;
}

void GradScaler::update() {
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, options_.growth_factor,
                         options_.backoff_factor, options_.growth_interval);
  found_inf_.zero_();
  unscaled_ = false;
}

double GradScaler::current_scale() const { return scale_.item<float>(); }

void GradScaler::save(torch::serialize::OutputArchive& archive) const {
  archive.write("scale", scale_.cpu());
  archive.write("growth_tracker", growth_tracker_.cpu());
  archive.write("skipped", torch::tensor(skipped_));
}

void GradScaler::load(torch::serialize::InputArchive& archive) {
  torch::Tensor scale, tracker, skipped;
  archive.read("scale", scale);
  archive.read("growth_tracker", tracker);
  archive.read("skipped", skipped);
  TORCH_CHECK(scale.numel() == 1 && tracker.numel() == 1, "grad scaler state has ", scale.numel(),
              " scale(s) and ", tracker.numel(), " tracker(s), expected one each");
  scale_.copy_(scale.reshape({1}));
  growth_tracker_.copy_(tracker.reshape({1}));
  skipped_ = skipped.item<std::int64_t>();
}

}  // namespace cltci::engine
