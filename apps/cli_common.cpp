#include "cli_common.h"

#include "cltci/build_info.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/common/logging.h"

#include <spdlog/spdlog.h>

#include <iostream>

namespace cltci::apps {

void add_version_flag(CLI::App& app) {
  app.set_version_flag("--version", std::string("cltci ") + CLTCI_VERSION + " (LibTorch " +
                                        CLTCI_TORCH_VERSION + ", CUDA " +
                                        (CLTCI_WITH_CUDA ? "on" : "off") + ", DICOM " +
                                        (CLTCI_WITH_DICOM ? "on" : "off") + ")");
}

void add_common_flags(CLI::App& app, CommonFlags& flags) {
  app.add_option("-c,--config", flags.config, "YAML config file");
  app.add_option("--set", flags.sets, "override a config key: --set optim.lr=0.05 (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  app.add_flag("--dump-config", flags.dump_config, "print the effective config and exit");
  app.add_option("--device", flags.device, "auto | cpu | cuda | cuda:N (run.device)");
  app.add_option("--threads", flags.threads, "torch threads, 0 = all cores (run.threads)");
  app.add_option("--seed", flags.seed, "seed of every random source (run.seed)");
  app.add_option("--output", flags.output, "parent directory of the run (run.output_dir)");
  app.add_option("--log-level", flags.log_level, "trace | debug | info | warn | error | off");
  app.add_flag("--overwrite", flags.overwrite, "start over even if the run directory has a run");
  add_version_flag(app);
}

std::vector<std::string> overrides(const CommonFlags& flags) {
  std::vector<std::string> all = flags.sets;
  if (flags.device) all.push_back("run.device=" + *flags.device);
  if (flags.threads) all.push_back("run.threads=" + *flags.threads);
  if (flags.seed) all.push_back("run.seed=" + *flags.seed);
  if (flags.output) all.push_back("run.output_dir=" + *flags.output);
  return all;
}

run::RunOptions run_options(const CommonFlags& flags) {
  run::RunOptions options;
  options.overwrite = flags.overwrite;
  return options;
}

int run_main(CLI::App& app,
             int argc,
             char** argv,
             const CommonFlags& flags,
             const std::function<int()>& body) {
  const std::string name = app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);  // --help, --version
  } catch (const CLI::ParseError& error) {
    std::cerr << name << ": " << error.what() << "\n";
    return common::kExitBadInput;
  }
  try {
    common::init_logging(flags.log_level);
    common::install_interrupt_handlers();
    return body();
  } catch (const common::InputError& error) {
    for (const auto& line : error.problems()) std::cerr << name << ": " << line << "\n";
    return common::kExitBadInput;
  } catch (const std::exception& error) {
    const int code = common::exit_code_for(error);
    spdlog::error("{}", error.what());
    std::cerr << std::flush;
    return code;
  }
}

}  // namespace cltci::apps
