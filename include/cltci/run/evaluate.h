// The `evaluate` executable as a library function, so tests and other programs can call it.
#pragma once

#include "cltci/config/evaluate_config.h"
#include "cltci/run/run_context.h"

namespace cltci::run {

/// Runs `evaluate` with a validated config; returns the process exit code.
int evaluate(const config::EvaluateConfig& config, const RunOptions& options);

}  // namespace cltci::run
