// The `sweep` executable as library functions: `plan` (the jobs, their status and an estimate
// of the work left), `run` (take ready jobs until none remain, in this process, through
// run::pretrain / finetune / evaluate / make_report), and the Slurm script. docs/sweeps.md.
#pragma once

#include "cltci/run/sweep_graph.h"

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cltci::run {

struct SweepOptions {
  std::size_t shard = 0;   ///< this runner's shard, 0-based
  std::size_t shards = 1;  ///< number of shards (1: every job)
  /// Fine-tuning images/s at 256 px per model.arch, for estimates without measured runs.
  std::map<std::string, double> images_per_second;
};

/// This runner's shard: from `text` ("I/N", as --shard), else from a Slurm array task
/// (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN), else the whole sweep.
/// Malformed values throw common::InputError naming the flag or the variables.
void resolve_shard(const std::string& text, SweepOptions& options);

/// --images-per-second items "ARCH=N" (N > 0) into options.images_per_second; InputError naming
/// the flag otherwise.
void parse_throughputs(const std::vector<std::string>& items, SweepOptions& options);

/// The plan: one line per job (status, shard when sharded, note), then the estimate and how it
/// was made.
std::string sweep_plan(const SweepGraph& graph, const SweepOptions& options);

/// Runs this shard's ready jobs until every one is done, failed, or blocked by a failure,
/// waiting (polling every sweep.poll_s) while one it needs is running elsewhere. A new runner
/// first clears the failure markers of its shard, so failed jobs are retried once per `sweep
/// run`. Returns 0 when every job of the shard is done, 1 when one failed or is blocked; throws
/// common::Interrupted (after the running job saved its state and the lock was released) on
/// SIGINT/SIGTERM.
int sweep_run(const SweepGraph& graph, const SweepOptions& options);

/// A Slurm batch script running the sweep as an array of `sweep run` tasks (each task reads its
/// shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT).
struct SlurmOptions {
  std::string executable;  ///< absolute path of the sweep executable
  std::string sweep_file;  ///< absolute path of the sweep file
  std::size_t array = 0;   ///< tasks; 0: the largest stage's job count
  std::size_t gpus = 1;    ///< GPUs per task
  std::size_t cpus = 8;    ///< CPU cores per task
  std::string time = "24:00:00";
  std::string partition;    ///< empty: the cluster's default
  std::string extra_flags;  ///< appended to the `sweep run` line (e.g. --device cuda)
};

std::string slurm_script(const SweepGraph& graph, const SlurmOptions& options);

/// Writes slurm_script() to `script` (default <output_dir>/<name>.sbatch) and creates the log
/// folder Slurm will not create. An existing script (perhaps edited by hand) is replaced only
/// with `overwrite`, else InputError. Returns the file written.
std::filesystem::path write_slurm_script(const SweepGraph& graph,
                                         const SlurmOptions& options,
                                         const std::filesystem::path& script,
                                         bool overwrite);

}  // namespace cltci::run
