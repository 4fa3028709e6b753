// Configuration of the `pretrain` executable.
#pragma once

#include "cltci/config/sections.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::config {

/// Representation probes of the pre-training run (analysis/probes.h). Declared under `run:`
/// in the YAML (run.probe_every, ...), since they are a property of the run, not of the method.
struct ProbeConfig {
  std::int64_t every = 10;     // epochs between probes; the last epoch always probes
  std::int64_t images = 2000;  // probe set size: whole patients, drawn by the run seed
  std::int64_t collapse_patience = 5;
  double collapse_min_rank = 2.0;
};

struct PretrainConfig {
  RunConfig run;
  ProbeConfig probe;
  DataConfig data;
  ModelConfig model;
  MethodConfig method;
  AugmentConfig augment;
  OptimConfig optim;
};

void describe(Schema& schema, PretrainConfig& config);
void validate(const PretrainConfig& config, Problems& problems);

/// Defaults, then `file` (may be empty), then `overrides` ("key.path=value"); throws
/// common::InputError listing every problem.
PretrainConfig load_pretrain_config(const std::filesystem::path& file,
                                    const std::vector<std::string>& overrides);
std::string dump(const PretrainConfig& config);

}  // namespace cltci::config
