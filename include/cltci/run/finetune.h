// The `finetune` executable as a library function, so tests and other programs can call it.
#pragma once

#include "cltci/config/finetune_config.h"
#include "cltci/run/run_context.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace cltci::run {

/// Observers of a fine-tuning run (tests, profilers).
struct FinetuneHooks {
  /// Called before each step's forward pass with the cell's step (0-based, counted from the
  /// cell's start, resumed steps included: it restarts at 0 for every cell) and the batch's
  /// images [B, 1, H, W] and masks [B, H, W], already on the run's device and in its memory format.
  std::function<void(std::int64_t step, const torch::Tensor& image, const torch::Tensor& mask)>
      before_step;
};

/// Runs `finetune` with a validated config; returns the process exit code.
int finetune(const config::FinetuneConfig& config,
             const RunOptions& options,
             const FinetuneHooks& hooks = {});

}  // namespace cltci::run
