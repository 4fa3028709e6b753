// Where this process sits in a data-parallel job, read from the variables its launcher sets:
// torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_*), Slurm's srun
// (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_JOB_NODELIST, SLURM_JOB_ID) or a user who
// exports the torchrun names by hand. Precedence as PyTorch and Lightning have it: torchrun's
// names first, then Slurm's, else a single process.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace cltci::dist {

enum class Launcher {
  kSingle,    ///< no launcher variables: one process, no process group at all
  kTorchrun,  ///< RANK / WORLD_SIZE (torchrun, or exported by hand)
  kSlurm,     ///< SLURM_PROCID / SLURM_NTASKS (srun)
};

const char* to_string(Launcher launcher);

struct LaunchInfo {
  Launcher launcher = Launcher::kSingle;
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  /// Processes on this node (LOCAL_WORLD_SIZE, SLURM_NTASKS_PER_NODE; 1 when unknown).
  int local_world_size = 1;
  std::string master_addr;  ///< host of the rendezvous store (rank 0's host)
  int master_port = 0;
  /// torchrun's agent already serves the store: every rank connects as a client, under the
  /// prefix of the restart attempt (torch/distributed/rendezvous.py does the same).
  bool agent_store = false;
  int restart_count = 0;
  /// TORCHELASTIC_ERROR_FILE: where torchrun wants a failing rank's message (empty: none).
  std::string error_file;

  bool distributed() const { return world_size > 1; }
};

/// Looks a variable up; nullopt when unset. The default reads the process environment.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
Environment process_environment();

/// The launch of this process. A partial or inconsistent set of variables (RANK without
/// WORLD_SIZE, a rank outside [0, WORLD_SIZE), a non-numeric value, a world of several
/// processes without MASTER_ADDR / MASTER_PORT under torchrun) is a common::InputError naming
/// the variable. Under Slurm, MASTER_ADDR defaults to the first host of SLURM_JOB_NODELIST (or
/// SLURM_STEP_NODELIST) and MASTER_PORT to 15000 + the last four digits of SLURM_JOB_ID, as
/// Lightning does, so every task of a job agrees without a wrapper script.
LaunchInfo launch_from_environment(const Environment& environment = process_environment());

/// The first host of a Slurm host list: "gnode[10,20-25],cpu3" -> "gnode10", "node[007-009]"
/// -> "node007", "a,b" -> "a". Throws common::InputError on an empty or malformed list.
std::string first_slurm_host(const std::string& nodelist);

}  // namespace cltci::dist
