#include "cltci/engine/precision.h"

#include "cltci/common/error.h"

#include <ATen/autocast_mode.h>

namespace cltci::engine {

AutocastScope::AutocastScope(const std::string& precision, c10::Device device)
    : device_type_(device.type()) {
  if (precision == "fp32") return;
  if (precision != "bf16" && precision != "fp16") {
    throw common::InputError("run.precision: unknown precision '" + precision + "'");
  }
  if (precision == "fp16" && !device.is_cuda()) {
    throw common::InputError("run.precision: fp16 autocast needs CUDA; use bf16 on the CPU");
  }
  previous_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  at::autocast::set_autocast_dtype(device_type_, precision == "bf16" ? at::kBFloat16 : at::kHalf);
  at::autocast::set_autocast_enabled(device_type_, true);
  enabled_ = true;
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  at::autocast::set_autocast_enabled(device_type_, previous_enabled_);
  // Cached casts of the weights are only valid for one forward (they go stale after the step).
  at::autocast::clear_cache();
}

}  // namespace cltci::engine
