#include "cltci/engine/grad_clip.h"

#include "cltci/common/error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

namespace cltci::engine {

at::Tensor clip_grad_norm(const std::vector<at::Tensor>& parameters, double max_norm) {
  common::require_input(
      std::isfinite(max_norm) && max_norm > 0.0,
      "gradient clipping: max_norm must be finite and > 0, got " + std::to_string(max_norm));
  std::vector<at::Tensor> grads;
  for (const auto& parameter : parameters) {
    if (parameter.grad().defined()) grads.push_back(parameter.grad());
  }
  if (grads.empty()) return at::zeros({}, at::kFloat);
  const c10::Device device = grads.front().device();
  std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  for (auto& norm : norms) {
    TORCH_CHECK(norm.device() == device, "gradient clipping: gradients on ", device, " and ",
                norm.device());
    norm = norm.to(at::kFloat);
  }
  at::Tensor total = at::stack(norms).norm(2);
  // Multiplied by a factor clamped to 1 even when nothing needs clipping: deciding on the host
  // would read the norm back.
  const at::Tensor factor = (max_norm / (total + 1e-6)).clamp_max(1.0);
  at::_foreach_mul_(grads, factor);
  return total;
}

}  // namespace cltci::engine
