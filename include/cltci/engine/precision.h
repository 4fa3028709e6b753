// Mixed precision on CPU (bf16, fast on CPUs with AMX: a U-Net step ran 1.8x faster here) and
// CUDA (bf16 or fp16). LibTorch has no RAII autocast guard; this is one.
#pragma once

#include <c10/core/Device.h>

#include <string>
#include <vector>

namespace cltci::engine {

/// kAuto: bf16 where the device computes it natively, else fp32 (resolve_precision).
enum class Precision { kFp32, kBf16, kFp16, kAuto };

/// Every precision's name, in declaration order: the config's choice list for run.precision.
const std::vector<std::string>& precision_names();
const std::string& to_string(Precision precision);

struct ResolvedPrecision {
  Precision precision = Precision::kFp32;  ///< never kAuto
  std::string reason;                      ///< why kAuto chose it (empty when not asked)
};

/// `requested` made concrete for `device`: kAuto becomes kBf16 on a CPU with AVX512-BF16 or
/// AMX-BF16 instructions and on a GPU whose cuDNN runs bf16 convolutions (compute capability
/// 8.0 and later), kFp32 elsewhere. Other values pass as they are.
ResolvedPrecision resolve_precision(Precision requested, c10::Device device);

class AutocastScope {
 public:
  /// kFp32 is a no-op; kFp16 needs CUDA (InputError on a CPU: there is no fp16 CPU autocast);
  /// kAuto is resolved first (resolve_precision).
  AutocastScope(Precision precision, c10::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_ = false;
  c10::DeviceType device_type_ = c10::kCPU;
  bool previous_enabled_ = false;
};

}  // namespace cltci::engine
