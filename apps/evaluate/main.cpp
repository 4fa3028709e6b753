// `evaluate`: score a fine-tuning run on its held-out folds, segment new images, or embed a
// pre-training run's images (probes and t-SNE map).
#include "cli_common.h"
#include "cltci/common/error.h"
#include "cltci/config/evaluate_config.h"
#include "cltci/run/evaluate.h"

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  cltci::apps::CommonFlags flags;
  std::string finetune_run, checkpoint, images, pretrain_run;
  bool embed = false;
  return cltci::apps::run_main(
      "evaluate", "Score a fine-tuning run on its held-out folds, or segment new images", argc,
      argv, flags,
      [&](CLI::App& app) {
        cltci::apps::add_common_flags(app, flags);
        app.add_option("--finetune-run", finetune_run, "fine-tuning run to score (finetune_run)");
        app.add_option("--checkpoint", checkpoint, "model to segment new images with (checkpoint)");
        app.add_option("--images", images, "image file or folder to segment (images)");
        app.add_flag(
            "--embed", embed,
            "embed a pre-training run's images: embeddings.csv, probes, t-SNE map (tsne.png)");
        app.add_option("--pretrain-run", pretrain_run, "pre-training run to embed (pretrain_run)");
      },
      [&] {
        auto overrides = cltci::apps::overrides(flags);
        if (!finetune_run.empty()) overrides.push_back("finetune_run=" + finetune_run);
        if (!checkpoint.empty()) overrides.push_back("checkpoint=" + checkpoint);
        if (!images.empty()) overrides.push_back("images=" + images);
        if (embed && pretrain_run.empty()) {
          throw cltci::common::InputError(
              "--embed: give the pre-training run with --pretrain-run DIR");
        }
        if (!pretrain_run.empty()) overrides.push_back("pretrain_run=" + pretrain_run);
        const auto config = cltci::config::load_evaluate_config(flags.config, overrides);
        if (flags.dump_config) {
          std::cout << cltci::config::dump(config);
          return 0;
        }
        return cltci::run::evaluate(config, cltci::apps::run_options(flags));
      });
}
