#include "cltci/engine/precision.h"

#include "cltci/common/error.h"

#include <ATen/autocast_mode.h>
#include <ATen/cpu/Utils.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <cstddef>
#include <string>
#include <vector>

namespace cltci::engine {

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names{"fp32", "bf16", "fp16", "auto"};
  return names;
}

const std::string& to_string(Precision precision) {
  return precision_names().at(static_cast<std::size_t>(precision));
}

namespace {

bool cpu_has(const char* capability) {
  const auto capabilities = at::cpu::get_cpu_capabilities();
  const auto found = capabilities.find(capability);
  return found != capabilities.end() && found->second.isBool() && found->second.toBool();
}

}  // namespace

ResolvedPrecision resolve_precision(Precision requested, c10::Device device) {
  if (requested != Precision::kAuto) return {requested, ""};
  // Without the instructions bf16 is converted in software: no speed to gain for the precision
  // given up.
  if (device.is_cuda()) {
    if (at::detail::getCUDAHooks().supportsBFloat16ConvolutionWithCuDNNv8()) {
      return {Precision::kBf16, "the GPU runs bf16 convolutions natively"};
    }
    return {Precision::kFp32, "the GPU has no native bf16 convolutions"};
  }
  if (device.is_cpu()) {
    if (cpu_has("amx_bf16")) return {Precision::kBf16, "the CPU has AMX-BF16"};
    if (cpu_has("avx512_bf16")) return {Precision::kBf16, "the CPU has AVX512-BF16"};
    return {Precision::kFp32, "the CPU has no native bf16 (AVX512-BF16 or AMX)"};
  }
  return {Precision::kFp32, "bf16 support of a " + device.str() + " device is unknown"};
}

AutocastScope::AutocastScope(Precision requested, c10::Device device)
    : device_type_(device.type()) {
  // Resolved once per scope only when the caller did not (tests, benchmarks); the trainer
  // resolves, and logs, once per run.
  const Precision precision =
      requested == Precision::kAuto ? resolve_precision(requested, device).precision : requested;
  if (precision == Precision::kFp32) return;
  if (precision == Precision::kFp16 && !device.is_cuda()) {
    throw common::InputError("run.precision: fp16 autocast needs CUDA; use bf16 on the CPU");
  }
  previous_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  at::autocast::set_autocast_dtype(device_type_,
                                   precision == Precision::kBf16 ? at::kBFloat16 : at::kHalf);
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
