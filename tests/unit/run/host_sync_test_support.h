// Torch's sync debug mode as a scope, for the tests that prove a GPU step never waits for the
// device (issue #12). Under it, every CUDA operation that makes the host wait throws c10::Error
// naming the call (Python's torch.cuda.set_sync_debug_mode("error")).
#pragma once

#include <c10/cuda/CUDAFunctions.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace cltci::run::testing_support {

/// While alive, a CUDA operation that synchronises the host with the device throws c10::Error.
class ForbidHostSync {
 public:
  ForbidHostSync() : previous_(c10::cuda::warning_state().get_sync_debug_mode()) {
    c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
  }
  ~ForbidHostSync() { c10::cuda::warning_state().set_sync_debug_mode(previous_); }
  ForbidHostSync(const ForbidHostSync&) = delete;
  ForbidHostSync& operator=(const ForbidHostSync&) = delete;
  ForbidHostSync(ForbidHostSync&&) = delete;
  ForbidHostSync& operator=(ForbidHostSync&&) = delete;

 private:
  c10::cuda::SyncDebugMode previous_;
};

/// One parameterised host-sync case: what runs (a method or a network) and its precision.
struct HostSyncCase {
  std::string subject;
  std::string precision;
};

// gtest prints a parameter in test lists and ctest's names; without this, as raw bytes.
inline void PrintTo(const HostSyncCase& step, std::ostream* out) {
  *out << step.subject << ' ' << step.precision;
}

/// The case's suffix of the test name: `cltci_moco_bf16`.
inline std::string host_sync_case_name(const ::testing::TestParamInfo<HostSyncCase>& instance) {
  return instance.param.subject + "_" + instance.param.precision;
}

}  // namespace cltci::run::testing_support
