// `pretrain`: Pre-train an encoder on unlabelled chest X-rays (CL-TCI, MoCo, SimCLR, Rotation,
// PIRL).
#include "cli_common.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/run/pretrain.h"

#include <iostream>

int main(int argc, char** argv) {
  cltci::apps::CommonFlags flags;
  return cltci::apps::run_main(
      "pretrain",
      "Pre-train an encoder on unlabelled chest X-rays (CL-TCI, MoCo, SimCLR, Rotation, PIRL)",
      argc, argv, flags,
      [&](CLI::App& app) {
        cltci::apps::add_common_flags(app, flags);
        cltci::apps::add_distributed_help(app);
      },
      [&] {
        const auto config =
            cltci::config::load_pretrain_config(flags.config, cltci::apps::overrides(flags));
        if (flags.dump_config) {
          std::cout << cltci::config::dump(config);
          return 0;
        }
        return cltci::run::pretrain(config, cltci::apps::run_options(flags));
      });
}
