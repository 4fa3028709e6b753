// What every executable does before its real work: resolve the device, set the thread count and
// seeds, open (or resume, or skip) the run directory, write the effective config into it and
// start the log file there.
#pragma once

#include "cltci/common/run_directory.h"
#include "cltci/config/sections.h"
#include "cltci/dist/group.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <functional>
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
  /// Only rank 0 of a data-parallel run holds (locks, writes) the run directory.
  std::shared_ptr<common::RunDirectory> run_directory;
  /// This process's place in a data-parallel job (the single process when not launched so).
  std::shared_ptr<dist::Group> group;

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
/// anything but the run section's runtime keys (device, threads, dist_*) is an InputError naming
/// the first differing line, so a resumed run never silently mixes two configurations. A fresh run
/// is undone (and an overwritten one put back) when an exception ends it before commit().
RunContext open_run(const config::RunConfig& run,
                    const std::string& effective_config,
                    const RunOptions& options);

/// The data-parallel group this process belongs to, from its launcher's environment
/// (dist::launch_from_environment) and run.dist_backend / run.dist_timeout_s: the single
/// process when nothing launched it so. Each rank is pinned to its local GPU (cuda:LOCAL_RANK
/// when run.device is cuda or auto and GPUs exist), and ranks other than 0 log warnings and
/// errors only. A rendezvous failure is a common::Error with one line.
std::shared_ptr<dist::Group> join_group(const config::RunConfig& run);

/// Runs `work` on rank 0 first and then, when it succeeded, on the other ranks: the pattern for
/// what must happen once per job (checking the run directory, building the data set's cache)
/// before every rank can do it read-only. When rank 0 fails, the others stop with one line
/// saying so, with exit code 2 when rank 0's failure was bad input. The wait has no timeout
/// shorter than a day: a cache build of a large archive takes hours.
void on_main_first(dist::Group& group, const std::function<void()>& work);

/// open_run on rank 0; on the other ranks the same context (directory, device, threads, seed,
/// and rank 0's run state) without touching the directory. Ranks share the cores of a node when
/// run.threads is 0 (common::default_thread_count: OMP_NUM_THREADS each where it is set, else the
/// available CPUs / LOCAL_WORLD_SIZE each).
RunContext open_run(const config::RunConfig& run,
                    const std::string& effective_config,
                    const RunOptions& options,
                    const std::shared_ptr<dist::Group>& group);

}  // namespace cltci::run
