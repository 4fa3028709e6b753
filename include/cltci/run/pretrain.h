// The `pretrain` executable as a library function, so tests and other programs can call it.
#pragma once

#include "cltci/config/pretrain_config.h"
#include "cltci/run/run_context.h"

namespace cltci::run {

/// Runs `pretrain` with a validated config; returns the process exit code.
int pretrain(const config::PretrainConfig& config, const RunOptions& options);

}  // namespace cltci::run
