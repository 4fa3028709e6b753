#include "cltci/dist/launch.h"

#include "cltci/common/error.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

namespace cltci::dist {
namespace {

/// A non-negative decimal integer that fits an int, or an InputError naming the variable.
int parse_count(const std::string& name, const std::string& text) {
  bool digits = !text.empty() && text.size() <= 9;
  for (const char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (!digits) {
    throw common::InputError("environment variable " + name + "='" + text +
                             "': expected a non-negative integer");
  }
  return std::stoi(text);
}

std::optional<int> count_of(const Environment& environment, const std::string& name) {
  const std::optional<std::string> value = environment(name);
  if (!value) return std::nullopt;
  return parse_count(name, *value);
}

void check_rank(const LaunchInfo& info,
                const std::string& rank_name,
                const std::string& size_name) {
  if (info.world_size < 1) {
    throw common::InputError("environment variable " + size_name + "=" +
                             std::to_string(info.world_size) + ": a job has at least 1 process");
  }
  if (info.rank >= info.world_size) {
    throw common::InputError("environment variable " + rank_name + "=" + std::to_string(info.rank) +
                             " is outside [0, " + size_name + "=" +
                             std::to_string(info.world_size) + ")");
  }
}

void read_master(const Environment& environment, LaunchInfo& info) {
  if (auto addr = environment("MASTER_ADDR"); addr && !addr->empty()) info.master_addr = *addr;
  if (auto port = count_of(environment, "MASTER_PORT")) {
    if (*port < 1 || *port > 65535) {
      throw common::InputError("environment variable MASTER_PORT=" + std::to_string(*port) +
                               ": a TCP port is in [1, 65535]");
    }
    info.master_port = *port;
  }
}

}  // namespace

const char* to_string(Launcher launcher) {
  switch (launcher) {
    case Launcher::kSingle:
      return "single process";
    case Launcher::kTorchrun:
      return "torchrun/env";
    case Launcher::kSlurm:
      return "slurm";
  }
  return "?";
}

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at the first comma outside brackets.
  std::string entry;
  int depth = 0;
  for (const char c : nodelist) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (depth < 0) break;
    if (c == ',' && depth == 0) break;
    entry += c;
  }
  const auto bad = [&] {
    return common::InputError("environment variable SLURM_JOB_NODELIST='" + nodelist +
                              "': not a Slurm host list");
  };
  if (entry.empty() || depth < 0) throw bad();
  const std::size_t open = entry.find('[');
  if (open == std::string::npos) {
    if (entry.find(']') != std::string::npos) throw bad();
    return entry;
  }
  const std::size_t close = entry.find(']', open);
  if (open == 0 || close == std::string::npos) throw bad();
  // The first element of the range list keeps its zero padding ("007-009" -> "007").
  std::string first;
  for (std::size_t i = open + 1; i < close && entry[i] != ',' && entry[i] != '-'; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(entry[i]))) throw bad();
    first += entry[i];
  }
  if (first.empty()) throw bad();
  return entry.substr(0, open) + first + entry.substr(close + 1);
}

LaunchInfo launch_from_environment(const Environment& environment) {
  LaunchInfo info;
  const std::optional<int> rank = count_of(environment, "RANK");
  const std::optional<int> world = count_of(environment, "WORLD_SIZE");
  if (rank || world) {
    if (!rank || !world) {
      throw common::InputError(std::string("environment variable ") +
                               (rank ? "WORLD_SIZE" : "RANK") + " is not set, but " +
                               (rank ? "RANK" : "WORLD_SIZE") +
                               " is: a distributed launch sets both (torchrun does)");
    }
    info.launcher = Launcher::kTorchrun;
    info.rank = *rank;
    info.world_size = *world;
    check_rank(info, "RANK", "WORLD_SIZE");
    info.local_rank = count_of(environment, "LOCAL_RANK").value_or(info.rank);
    info.local_world_size = std::max(1, count_of(environment, "LOCAL_WORLD_SIZE").value_or(1));
    read_master(environment, info);
    if (auto agent = environment("TORCHELASTIC_USE_AGENT_STORE")) {
      info.agent_store = *agent == "True" || *agent == "true" || *agent == "1";
    }
    info.restart_count = count_of(environment, "TORCHELASTIC_RESTART_COUNT").value_or(0);
    info.error_file = environment("TORCHELASTIC_ERROR_FILE").value_or("");
    if (info.distributed() && (info.master_addr.empty() || info.master_port == 0)) {
      throw common::InputError(
          std::string("environment variable ") +
          (info.master_addr.empty() ? "MASTER_ADDR" : "MASTER_PORT") +
          " is not set: a job of WORLD_SIZE=" + std::to_string(info.world_size) +
          " processes needs rank 0's address and a free port (torchrun sets both)");
    }
    return info;
  }
  const std::optional<int> procid = count_of(environment, "SLURM_PROCID");
  const std::optional<int> ntasks = count_of(environment, "SLURM_NTASKS");
  if (procid && ntasks) {
    info.launcher = Launcher::kSlurm;
    info.rank = *procid;
    info.world_size = *ntasks;
    check_rank(info, "SLURM_PROCID", "SLURM_NTASKS");
    info.local_rank = count_of(environment, "SLURM_LOCALID").value_or(0);
    info.local_world_size = std::max(1, count_of(environment, "SLURM_NTASKS_PER_NODE").value_or(1));
    read_master(environment, info);
    if (info.master_addr.empty()) {
      std::optional<std::string> nodes = environment("SLURM_JOB_NODELIST");
      if (!nodes) nodes = environment("SLURM_STEP_NODELIST");
      if (nodes) info.master_addr = first_slurm_host(*nodes);
    }
    if (info.master_port == 0) {
      if (auto job = environment("SLURM_JOB_ID")) {
        const int id = parse_count("SLURM_JOB_ID", *job);
        info.master_port = 15000 + id % 10000;
      }
    }
    if (info.distributed() && (info.master_addr.empty() || info.master_port == 0)) {
      throw common::InputError(
          "a Slurm job of SLURM_NTASKS=" + std::to_string(info.world_size) +
          " tasks without SLURM_JOB_NODELIST and SLURM_JOB_ID: set MASTER_ADDR and MASTER_PORT");
    }
    return info;
  }
  return info;
}

}  // namespace cltci::dist
