// Configuration of the `pretrain` executable.
#pragma once

#include "cltci/config/sections.h"

#include <filesystem>
#include <string>
#include <vector>

namespace cltci::config {

struct PretrainConfig {
  RunConfig run;
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
