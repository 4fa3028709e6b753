// What every executable does before its real work: resolve the device, set the thread count and
// seeds, open (or resume, or skip) the run directory, write the effective config into it and
// start the log file there.
#pragma once

#include "cltci/common/run_directory.h"
#include "cltci/config/sections.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace cltci::run {

struct RunOptions {
  bool overwrite = false;  ///< --overwrite: start the run over
};

struct RunContext {
  std::filesystem::path directory;
  common::RunState state = common::RunState::kFresh;
  c10::Device device{c10::kCPU};
  int threads = 1;
  std::uint64_t seed = 0;
  /// Shared so that the context stays copyable; see common::RunDirectory for the undo rule.
  std::shared_ptr<common::RunDirectory> run_directory;

  /// The run has started cleanly (inputs checked, first files written): an overwritten run is
  /// removed for good and a later failure no longer removes this one.
  void commit() const {
    if (run_directory) run_directory->commit();
  }
};

/// What open_run would refuse about the run directory and an existing run's config, checked
/// without creating or changing anything: the executables call it before the data set's cache
/// is built, so a bad --output or a changed config costs seconds, not the cache build.
void check_run(const config::RunConfig& run,
               const std::string& effective_config,
               const RunOptions& options);

/// Prepares the run `<run.output_dir>/<run.name>`. `effective_config` (the dumped YAML) is
/// written to config.yaml when the run is fresh; when resuming, a config.yaml that differs in
/// anything but the run section's runtime keys (device, threads) is an InputError naming the
/// first differing line, so a resumed run never silently mixes two configurations. A fresh run
/// is undone (and an overwritten one put back) when an exception ends it before commit().
RunContext open_run(const config::RunConfig& run,
                    const std::string& effective_config,
                    const RunOptions& options);

}  // namespace cltci::run
