// `evaluate`: Score a fine-tuning run on its held-out folds, or segment new images.
#include "cli_common.h"
#include "cltci/config/evaluate_config.h"
#include "cltci/run/evaluate.h"

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"Score a fine-tuning run on its held-out folds, or segment new images", "evaluate"};
  cltci::apps::CommonFlags flags;
  cltci::apps::add_common_flags(app, flags);
  return cltci::apps::run_main(app, argc, argv, flags, [&] {
    const auto config =
        cltci::config::load_evaluate_config(flags.config, cltci::apps::overrides(flags));
    if (flags.dump_config) {
      std::cout << cltci::config::dump(config);
      return 0;
    }
    return cltci::run::evaluate(config, cltci::apps::run_options(flags));
  });
}
