#include "cli_common.h"

#include "cltci/build_info.h"
#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/common/json_writer.h"
#include "cltci/common/logging.h"

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

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
  app.add_option("--threads", flags.threads,
                 "torch threads, 0 = OMP_NUM_THREADS or the available CPUs (run.threads)");
  app.add_option("--seed", flags.seed, "seed of every random source (run.seed)");
  app.add_option("--output", flags.output, "parent directory of the run (run.output_dir)");
  app.add_option("--log-level", flags.log_level, "trace | debug | info | warn | error | off");
  app.add_flag("--overwrite", flags.overwrite, "start over even if the run directory has a run");
  add_version_flag(app);
}

void add_distributed_help(CLI::App& app) {
  const std::string name = app.get_name();
  app.footer(
      "Data-parallel runs (one process per GPU, or several CPU processes): start every process\n"
      "with the same command through a launcher; the global batch optim.batch_size is split\n"
      "over the processes and rank 0 alone writes the run directory.\n"
      "  one machine, N GPUs:  torchrun --standalone --nproc-per-node N --no-python " +
      name +
      " --config C\n"
      "  Slurm, several nodes: srun --ntasks-per-node G --gpus-per-task 1 " +
      name +
      " --config C\n"
      "  2 CPU processes:      torchrun --standalone --nproc-per-node 2 --no-python " +
      name +
      " --config C --device cpu\n"
      "  by hand:              RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT per process\n"
      "Backend and timeout: run.dist_backend (auto: nccl on cuda, gloo on cpu), "
      "run.dist_timeout_s.\n"
      "Recipes: scripts/launch/ and the README.");
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

namespace {

/// Under torchrun, the failing rank's message goes where the agent reads it, so its failure
/// report shows the reason instead of "error_file: <N/A>" (the format of torch's
/// elastic/multiprocessing/errors/error_handler.py).
void report_to_launcher(const std::string& app, const std::string& message) {
  const char* file = std::getenv("TORCHELASTIC_ERROR_FILE");
  if (file == nullptr || *file == '\0') return;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  common::JsonWriter json;
  json.begin_object();
  json.key("message").begin_object();
  json.member("message", app + ": " + message);
  json.key("extraInfo").begin_object();
  json.member("py_callstack", "(C++ executable " + app + ")");
  json.member("timestamp",
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count()));
  json.end_object();
  json.end_object();
  json.end_object();
  try {
    common::write_file_atomic(file, std::string_view(json.text()));
  } catch (const std::exception&) {
    // The launcher's report is a courtesy; the message is on stderr anyway.
  }
}

/// The exit code when the program must stop after parsing: 0 after --help or --version, 2 with
/// the parse error on one line; nullopt when it goes on.
std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);  // --help, --version
  } catch (const CLI::ParseError& error) {
    std::cerr << app.get_name() << ": " << error.what() << "\n";
    return common::kExitBadInput;
  }
  return std::nullopt;
}

}  // namespace

int run_main(const char* name,
             const char* description,
             int argc,
             char** argv,
             const CommonFlags& flags,
             const std::function<void(CLI::App&)>& define_flags,
             const std::function<int()>& body) noexcept {
  try {
    CLI::App app{description, name};
    define_flags(app);
    if (const auto code = parse_flags(app, argc, argv)) return *code;
    common::init_logging(flags.log_level);
    common::install_interrupt_handlers();
    return body();
  } catch (const common::InputError& error) {
    for (const auto& line : error.problems()) std::cerr << name << ": " << line << "\n";
    if (!error.problems().empty()) report_to_launcher(name, error.problems().front());
    return common::kExitBadInput;
  } catch (const std::exception& error) {
    const int code = common::exit_code_for(error);
    spdlog::error("{}", error.what());
    report_to_launcher(name, error.what());
    std::cerr << std::flush;
    return code;
  } catch (...) {
    std::cerr << name << ": failed with an exception that is not a std::exception\n";
    return 1;
  }
}

int run_tool_main(const char* name,
                  const char* description,
                  int argc,
                  char** argv,
                  const std::function<void(CLI::App&)>& define_flags,
                  const std::function<int()>& body) noexcept {
  try {
    CLI::App app{description, name};
    app.option_defaults()->always_capture_default();
    define_flags(app);
    if (const auto code = parse_flags(app, argc, argv)) return *code;
    return body();
  } catch (const common::InputError& error) {
    for (const auto& line : error.problems()) std::cerr << name << ": " << line << "\n";
    return common::kExitBadInput;
  } catch (const c10::Error& error) {
    std::cerr << name << ": " << error.what_without_backtrace() << "\n";
    return common::exit_code_for(error);
  } catch (const std::exception& error) {
    std::cerr << name << ": " << error.what() << "\n";
    return common::exit_code_for(error);
  } catch (...) {
    std::cerr << name << ": failed with an exception that is not a std::exception\n";
    return 1;
  }
}

}  // namespace cltci::apps
