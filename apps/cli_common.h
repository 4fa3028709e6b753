// Flags every executable shares, and the one place where exceptions become exit codes.
#pragma once

#include "cltci/run/run_context.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cltci::apps {

struct CommonFlags {
  std::string config;
  std::vector<std::string> sets;
  bool dump_config = false;
  std::optional<std::string> device;
  // Kept as text: the config layer parses them with the same rules as --set run.seed=...
  std::optional<std::string> threads;
  std::optional<std::string> seed;
  std::optional<std::string> output;
  std::string log_level = "info";
  bool overwrite = false;
};

/// Adds --version (toolkit, LibTorch, CUDA and DICOM support of this build).
void add_version_flag(CLI::App& app);

/// Adds --config, --set, --dump-config, --device, --threads, --seed, --output, --log-level,
/// --overwrite and --version to `app`.
void add_common_flags(CLI::App& app, CommonFlags& flags);

/// The --help footer of pretrain and finetune: how a data-parallel run is started.
void add_distributed_help(CLI::App& app);

/// --set overrides followed by those the shortcut flags (--device, ...) stand for.
std::vector<std::string> overrides(const CommonFlags& flags);

run::RunOptions run_options(const CommonFlags& flags);

/// The whole `main` of an executable: builds the CLI::App named `name`, lets `define_flags` add
/// its flags (add_common_flags, for those with a config) and subcommands, parses argv, starts the
/// logging at flags.log_level, runs `body`, and maps every outcome onto the toolkit's exit codes:
/// CLI errors and InputError -> 2 (each problem on its own line), other failures -> 1,
/// Interrupted -> 130. Nothing escapes, not even a failure to build the CLI. Pass both lambdas in
/// the call, not through variables of `main`: clang-tidy's bugprone-exception-escape counts the
/// body of a lambda stored in a local as code of `main` (CLI11's add_option may throw).
int run_main(const char* name,
             const char* description,
             int argc,
             char** argv,
             const CommonFlags& flags,
             const std::function<void(CLI::App&)>& define_flags,
             const std::function<int()>& body) noexcept;

/// run_main for the programs without a config (the benchmarks): `define_flags` adds the flags to
/// the CLI::App named `name` (which shows their defaults in --help). Same exit codes: 2 for a CLI
/// error or an InputError, each on one line naming the program; 1 for any other failure, torch's
/// message without its backtrace. Nothing escapes, so `main` can be just this call.
int run_tool_main(const char* name,
                  const char* description,
                  int argc,
                  char** argv,
                  const std::function<void(CLI::App&)>& define_flags,
                  const std::function<int()>& body) noexcept;

}  // namespace cltci::apps
