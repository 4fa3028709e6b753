// Issue #12: a fine-tuning step on a GPU queues its kernels without waiting for them, for both
// networks the paper fine-tunes (U-Net and DeepLabV3+ with a ResNet-50) in channels-last, with
// the augmentation on the device. The check is torch's sync debug mode
// (host_sync_test_support.h); fp16 is left out by design: its loss scaling reads the overflow
// flag back once a step, as torch.amp.GradScaler does with non-fused optimizers. Built only with
// CUDA sources (CLTCI_WITH_CUDA); the tests skip where no GPU is visible.
#include "cltci/run/finetune.h"
#include "common_test_support.h"
#include "finetune_test_support.h"
#include "host_sync_test_support.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>

namespace cltci::run {
namespace {

using testing_support::HostSyncCase;

class FinetuneHostSync : public ::testing::TestWithParam<HostSyncCase> {};

TEST_P(FinetuneHostSync, StepsQueueWithoutWaitingForTheGpu_CUDA) {
  CLTCI_REQUIRE_CUDA();
  const HostSyncCase& param = GetParam();
  testing::TempDir dir;
  // 8 labelled images in batches of 2: 4 steps in each cell's single epoch. The epoch's end
  // reads the loss back and the cell's end saves the model, so each cell forbids waiting from
  // its second step (the first initialises cuBLAS and cuDNN) to the start of its last.
  constexpr std::int64_t kSteps = 4;
  const config::FinetuneConfig c = testing_support::small_finetune_config(
      dir, "[8]",
      {"run.device=cuda", "run.precision=" + param.precision, "run.channels_last=true",
       "run.log_every=1000", "data.image_size=64", "augment.placement=device", "optim.batch_size=2",
       "optim.epochs=1", "model.arch=" + param.subject});

  std::optional<testing_support::ForbidHostSync> forbid;
  std::int64_t checked = 0;
  std::int64_t cells = 0;
  FinetuneHooks check;
  check.before_step = [&](std::int64_t step, const torch::Tensor& image,
                          const torch::Tensor& mask) {
    EXPECT_TRUE(image.is_cuda());
    EXPECT_TRUE(mask.is_cuda());
    EXPECT_TRUE(image.is_contiguous(torch::MemoryFormat::ChannelsLast));
    ASSERT_LT(step, kSteps);
    if (step == 0) ++cells;
    if (step == 1) forbid.emplace();
    if (step == kSteps - 1) forbid.reset();
    if (forbid) ++checked;
  };
  try {
    EXPECT_EQ(finetune(c, {}, check), 0);
  } catch (const c10::Error& e) {
    forbid.reset();
    FAIL() << param.subject << " " << param.precision
           << ": a step waited for the GPU: " << e.what_without_backtrace();
  }
  EXPECT_EQ(cells, c.folds.k);
  EXPECT_EQ(checked, cells * (kSteps - 2));
}

INSTANTIATE_TEST_SUITE_P(Networks,
                         FinetuneHostSync,
                         ::testing::Values(HostSyncCase{"unet", "bf16"},
                                           HostSyncCase{"unet", "fp32"},
                                           HostSyncCase{"deeplabv3plus", "bf16"},
                                           HostSyncCase{"deeplabv3plus", "fp32"}),
                         testing_support::host_sync_case_name);

}  // namespace
}  // namespace cltci::run
