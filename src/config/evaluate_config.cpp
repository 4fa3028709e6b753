#include "cltci/config/evaluate_config.h"

#include "cltci/config/config_loader.h"
#include "cltci/config/config_writer.h"

#include <filesystem>
#include <string>

namespace cltci::config {

void describe(Schema& s, EvaluateConfig& c) {
  s.section("run", "run identity, output and runtime", [&] { describe(s, c.run); });
  s.field("finetune_run", c.finetune_run, "fine-tuning run directory to score");
  s.field("checkpoint", c.checkpoint, "model checkpoint for segmenting new images");
  s.field("images", c.images, "image file or folder to segment (with checkpoint)");
  s.field("pretrain_run", c.pretrain_run,
          "pre-training run whose images to embed: embeddings.csv, t-SNE map, probes");
  s.section("embed", "embedding of a pre-training run (with pretrain_run)", [&] {
    s.field("perplexity", c.embed.perplexity, "t-SNE perplexity", Rule::positive());
    s.field("iterations", c.embed.iterations, "t-SNE gradient steps", Rule::at_least(1));
    s.field("seed", c.embed.seed, "t-SNE initial map and subsample", Rule::non_negative());
    s.field("max_points", c.embed.max_points,
            "images embedded at most (exact t-SNE); above, whole patients drawn by seed",
            Rule::between(4, 5000));
  });
  s.field("overlays_per_fold", c.overlays_per_fold, "overlay pictures written per fold",
          Rule::non_negative());
  s.field("batch_size", c.batch_size, "images per forward pass", Rule::at_least(1));
}

void validate(const EvaluateConfig& c, Problems& problems) {
  validate(c.run, problems);
  const bool scoring = !c.finetune_run.empty();
  const bool segmenting = !c.checkpoint.empty() || !c.images.empty();
  const bool embedding = !c.pretrain_run.empty();
  if (static_cast<int>(scoring) + static_cast<int>(segmenting) + static_cast<int>(embedding) != 1) {
    problems.add(embedding ? "pretrain_run" : "finetune_run",
                 "give either finetune_run (score a fine-tuning run), checkpoint and images "
                 "(segment new images) or pretrain_run (embed a pre-training run's images)");
  } else if (segmenting && (c.checkpoint.empty() || c.images.empty())) {
    problems.add(c.checkpoint.empty() ? "checkpoint" : "images",
                 "segmenting new images needs both checkpoint and images");
  }
}

EvaluateConfig load_evaluate_config(const std::filesystem::path& file,
                                    const std::vector<std::string>& overrides) {
  EvaluateConfig config;
  load_config(
      file, overrides, [&](Schema& s) { describe(s, config); },
      [&](Problems& p) { validate(config, p); });
  // One evaluation directory per scored run (or "segment"), so evaluating several fine-tuning
  // runs with the same config file never collides.
  if (config.run.name.empty() && !config.finetune_run.empty()) {
    config.run.name =
        std::filesystem::path(config.finetune_run).lexically_normal().filename().string() + "_eval";
  }
  if (config.run.name.empty() && !config.checkpoint.empty()) config.run.name = "segment";
  if (config.run.name.empty() && !config.pretrain_run.empty()) {
    config.run.name =
        std::filesystem::path(config.pretrain_run).lexically_normal().filename().string() +
        "_embed";
  }
  if (config.run.name.empty() && !file.empty()) config.run.name = file.stem().string();
  if (config.run.name.empty()) config.run.name = "evaluate";
  return config;
}

std::string dump(const EvaluateConfig& config) {
  EvaluateConfig copy = config;
  return dump_config([&](Schema& s) { describe(s, copy); });
}

}  // namespace cltci::config
