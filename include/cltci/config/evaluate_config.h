// Configuration of the `evaluate` executable: scoring a fine-tuning run, or segmenting new images.
#pragma once

#include "cltci/config/sections.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::config {

/// `evaluate --embed`: the embedding of a pre-training run's images and its t-SNE map.
struct EmbedConfig {
  double perplexity = 30.0;
  std::int64_t iterations = 1000;
  std::int64_t seed = 0;
  std::int64_t max_points = 5000;  // above: whole patients drawn by seed (exact t-SNE is O(N^2))
};

struct EvaluateConfig {
  RunConfig run;
  std::string finetune_run;  // score this fine-tuning run's cells on their held-out folds
  std::string checkpoint;    // or: segment new images with this model checkpoint
  std::string images;        // file or folder of images to segment
  std::string pretrain_run;  // or: embed this pre-training run's images (t-SNE, probes)
  EmbedConfig embed;
  std::int64_t overlays_per_fold = 4;
  std::int64_t batch_size = 8;
};

void describe(Schema& schema, EvaluateConfig& config);
void validate(const EvaluateConfig& config, Problems& problems);

EvaluateConfig load_evaluate_config(const std::filesystem::path& file,
                                    const std::vector<std::string>& overrides);
std::string dump(const EvaluateConfig& config);

}  // namespace cltci::config
