// Configuration of the `evaluate` executable: scoring a fine-tuning run, or segmenting new images.
#pragma once

#include "cltci/config/sections.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::config {

struct EvaluateConfig {
  RunConfig run;
  std::string finetune_run;  // score this fine-tuning run's cells on their held-out folds
  std::string checkpoint;    // or: segment new images with this model checkpoint
  std::string images;        // file or folder of images to segment
  std::int64_t overlays_per_fold = 4;
  std::int64_t batch_size = 8;
};

void describe(Schema& schema, EvaluateConfig& config);
void validate(const EvaluateConfig& config, Problems& problems);

EvaluateConfig load_evaluate_config(const std::filesystem::path& file,
                                    const std::vector<std::string>& overrides);
std::string dump(const EvaluateConfig& config);

}  // namespace cltci::config
