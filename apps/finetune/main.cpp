// `finetune`: Fine-tune lung segmentation over K folds x label budgets M.
#include "cli_common.h"
#include "cltci/config/finetune_config.h"
#include "cltci/run/finetune.h"

#include <iostream>

int main(int argc, char** argv) {
  cltci::apps::CommonFlags flags;
  return cltci::apps::run_main(
      "finetune", "Fine-tune lung segmentation over K folds x label budgets M", argc, argv, flags,
      [&](CLI::App& app) {
        cltci::apps::add_common_flags(app, flags);
        cltci::apps::add_distributed_help(app);
      },
      [&] {
        const auto config =
            cltci::config::load_finetune_config(flags.config, cltci::apps::overrides(flags));
        if (flags.dump_config) {
          std::cout << cltci::config::dump(config);
          return 0;
        }
        return cltci::run::finetune(config, cltci::apps::run_options(flags));
      });
}
