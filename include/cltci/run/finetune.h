// The `finetune` executable as a library function, so tests and other programs can call it.
#pragma once

#include "cltci/config/finetune_config.h"
#include "cltci/run/run_context.h"

namespace cltci::run {

/// Runs `finetune` with a validated config; returns the process exit code.
int finetune(const config::FinetuneConfig& config, const RunOptions& options);

}  // namespace cltci::run
