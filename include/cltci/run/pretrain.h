// The `pretrain` executable as a library function, so tests and other programs can call it.
#pragma once

#include "cltci/config/pretrain_config.h"
#include "cltci/run/run_context.h"
#include "cltci/ssl/method.h"

#include <cstdint>
#include <functional>

namespace cltci::run {

/// The encoder a pre-training run exports, in its run directory (read by finetune and
/// evaluate --embed).
inline constexpr const char* kEncoderFile = "encoder.safetensors";

/// Observers of a pre-training run (tests, embedding programs).
struct PretrainHooks {
  /// Called before each step's loss with the global step (0-based, counted from the run's
  /// start, resumed steps included) and the batch, already on the run's device.
  std::function<void(std::int64_t step, const ssl::MethodBatch& batch)> before_step;
};

/// Runs `pretrain` with a validated config; returns the process exit code. Writes, in
/// `<run.output_dir>/<run.name>`, config.yaml, run.log, metrics.csv, checkpoint.pt, the trained
/// encoder as encoder.safetensors (a ResNet-50 under torchvision's names) and, last,
/// summary.json. A finished run (summary.json present) is skipped; an unfinished one resumes.
/// Values the data set or encoder cannot use throw common::InputError naming the key; a signal
/// throws common::Interrupted after saving a checkpoint.
int pretrain(const config::PretrainConfig& config,
             const RunOptions& options,
             const PretrainHooks& hooks = {});

}  // namespace cltci::run
