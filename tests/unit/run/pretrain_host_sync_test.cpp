// Issue #12: a pre-training step on a GPU queues its kernels without waiting for them. Under
// torch's sync debug mode (host_sync_test_support.h) every CUDA operation that makes the host
// wait throws, naming the call; a step that waits once caps the GPU's busy share, since the host
// cannot queue the next kernels while it waits. Built only with CUDA sources (CLTCI_WITH_CUDA);
// the *_CUDA tests skip where no GPU is visible.
#include "cltci/common/device.h"
#include "cltci/run/pretrain.h"
#include "common_test_support.h"
#include "host_sync_test_support.h"
#include "pretrain_test_support.h"

#include <c10/cuda/CUDAFunctions.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>

namespace cltci::run {
namespace {

using testing_support::ForbidHostSync;
using testing_support::HostSyncCase;

TEST(HostSync, TheSwitchReachesTorchsCudaLibrary) {
  // The mode lives in an inline function's static: this shows that the test binary and
  // libc10_cuda share one copy of it, so that the GPU tests below cannot pass vacuously. Needs
  // no GPU.
  {
    const ForbidHostSync forbid;
    EXPECT_THROW(c10::cuda::warn_or_error_on_sync(), c10::Error);
  }
  EXPECT_NO_THROW(c10::cuda::warn_or_error_on_sync());
}

TEST(HostSync, ToDeviceAsyncUploadsWithoutWaitingWhereAPlainCopyWaits_CUDA) {
  CLTCI_REQUIRE_CUDA();
  const c10::Device gpu(c10::kCUDA, 0);
  const auto busy = torch::randn({2048, 2048}, torch::TensorOptions().device(gpu));
  torch::Tensor uploaded;
  {
    const ForbidHostSync forbid;
    const auto queued = busy.matmul(busy);
    uploaded = common::to_device_async(torch::arange(5, torch::kInt), gpu, torch::kLong);
    EXPECT_THROW(torch::arange(5).to(gpu), c10::Error);  // the check bites where a copy waits
  }
  EXPECT_EQ(uploaded.device(), gpu);
  EXPECT_EQ(uploaded.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(uploaded.cpu(), torch::arange(5, torch::kLong)));
}

class PretrainHostSync : public ::testing::TestWithParam<HostSyncCase> {};

TEST_P(PretrainHostSync, StepsQueueWithoutWaitingForTheGpu_CUDA) {
  CLTCI_REQUIRE_CUDA();
  const HostSyncCase& param = GetParam();
  testing::TempDir dir;
  config::PretrainConfig c = testing_support::tiny_config(dir, param.subject);
  c.run.device = "cuda";
  c.run.precision = param.precision;
  c.run.log_every = 1000;  // the window's losses are read back at the epoch's end only
  c.data.source.patients = 24;
  c.augment.placement = "device";
  c.method.shuffle_bn = true;
  c.optim.grad_clip = 1.0;  // LibTorch's clip_grad_norm_ would read the norm back
  c.optim.epochs = 1;

  // A first run counts the epoch's steps; the second forbids waiting from its second step (the
  // first initialises cuBLAS and cuDNN) to the start of its last, whose end reads the losses
  // back, probes the encoder and writes the checkpoint.
  std::int64_t steps = 0;
  PretrainHooks count;
  count.before_step = [&](std::int64_t, const ssl::MethodBatch&) { ++steps; };
  c.run.name = "count";
  ASSERT_EQ(pretrain(c, {}, count), 0);
  ASSERT_GE(steps, 3) << "too few steps to check one in the middle of the epoch";

  std::optional<ForbidHostSync> forbid;
  std::int64_t checked = 0;
  PretrainHooks check;
  check.before_step = [&](std::int64_t step, const ssl::MethodBatch& batch) {
    EXPECT_TRUE(batch.view1.is_cuda());
    if (step == 1) forbid.emplace();
    if (step == steps - 1) forbid.reset();
    if (forbid) ++checked;
  };
  c.run.name = "check";
  try {
    EXPECT_EQ(pretrain(c, {}, check), 0);
  } catch (const c10::Error& e) {
    forbid.reset();
    FAIL() << param.subject << " " << param.precision
           << ": a step waited for the GPU: " << e.what_without_backtrace();
  }
  EXPECT_EQ(checked, steps - 2);
}

INSTANTIATE_TEST_SUITE_P(Methods,
                         PretrainHostSync,
                         ::testing::Values(HostSyncCase{"cltci_moco", "bf16"},
                                           HostSyncCase{"cltci_moco", "fp32"},
                                           HostSyncCase{"cltci_simclr", "bf16"},
                                           HostSyncCase{"moco", "bf16"},
                                           HostSyncCase{"simclr", "bf16"}),
                         testing_support::host_sync_case_name);

}  // namespace
}  // namespace cltci::run
