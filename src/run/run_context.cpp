#include "cltci/run/run_context.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/device.h"
#include "cltci/common/error.h"
#include "cltci/common/host_allocator.h"
#include "cltci/common/logging.h"
#include "cltci/common/seeding.h"
#include "cltci/dist/launch.h"

#include <c10/core/DeviceType.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

/// Lines of a dumped config, without those that may change between a run and its resumption.
std::vector<std::string> identity_lines(const std::string& yaml) {
  std::vector<std::string> lines;
  std::istringstream in(yaml);
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(' ');
    // data.cache_residency only says where the same pixels are held, augment.placement where the
    // same draws are applied (as run.device, it may differ on the machine a run resumes on).
    if (first == 2 &&
        (line.compare(2, 7, "device:") == 0 || line.compare(2, 8, "threads:") == 0 ||
         line.compare(2, 5, "dist_") == 0 || line.compare(2, 16, "cache_residency:") == 0 ||
         line.compare(2, 10, "placement:") == 0)) {
      continue;
    }
    lines.push_back(line);
  }
  return lines;
}

/// An InputError naming the first line where the run's stored config.yaml and
/// `effective_config` differ (the runtime keys aside).
void check_same_config(const fs::path& config_file, const std::string& effective_config) {
  const auto stored = identity_lines(common::read_file(config_file));
  const auto current = identity_lines(effective_config);
  for (std::size_t i = 0; i < std::max(stored.size(), current.size()); ++i) {
    const std::string was = i < stored.size() ? stored[i] : "<end>";
    const std::string now = i < current.size() ? current[i] : "<end>";
    if (was != now) {
      throw common::InputError(config_file.string() + ":" + std::to_string(i + 1) +
                               ": the existing run was made with another config ('" + was +
                               "' now '" + now +
                               "'); use --overwrite to start over or choose another run.name");
    }
  }
}

}  // namespace

void check_run(const config::RunConfig& run,
               const std::string& effective_config,
               const RunOptions& options) {
  const fs::path directory = fs::path(run.output_dir) / run.name;
  if (common::check_run_directory(directory, options.overwrite) != common::RunState::kFresh) {
    check_same_config(directory / common::kRunConfigFile, effective_config);
  }
}

RunContext open_run(const config::RunConfig& run,
                    const std::string& effective_config,
                    const RunOptions& options) {
  RunContext context;
  common::install_host_cache();
  context.device = common::resolve_device(run.device);
  context.threads = common::apply_thread_count(static_cast<int>(run.threads));
  context.seed = static_cast<std::uint64_t>(run.seed);
  common::seed_torch(context.seed);

  context.directory = fs::path(run.output_dir) / run.name;
  context.run_directory = std::make_shared<common::RunDirectory>(
      common::open_run_directory(context.directory, options.overwrite));
  context.state = context.run_directory->state();
  const fs::path config_file = context.directory / common::kRunConfigFile;
  if (context.state == common::RunState::kFresh) {
    common::write_file_atomic(config_file, std::string_view(effective_config));
  } else {
    check_same_config(config_file, effective_config);
  }
  common::add_log_file(context.directory / common::kRunLogFile);
  spdlog::info("[run] {} ({}) on {} with {} thread(s), seed {}", context.directory.string(),
               common::to_string(context.state), context.device.str(), context.threads,
               context.seed);
  return context;
}

std::shared_ptr<dist::Group> join_group(const config::RunConfig& run) {
  const dist::LaunchInfo launch = dist::launch_from_environment();
  // One process, whoever launched it: no group, no store, nothing to wait for.
  if (!launch.distributed()) return std::make_shared<dist::Group>();
  dist::GroupOptions options;
  // Gloo's network interface, under the variable PyTorch users already set for it.
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME")) options.gloo_interface = interface;
  options.backend = dist::backend_from_string(run.dist_backend);
  options.timeout = std::chrono::seconds(run.dist_timeout_s);
  c10::Device device = common::resolve_device(run.device);
  if (device.is_cuda()) {
    // One GPU per rank, the local one ("Duplicate GPU detected" otherwise). With one visible
    // GPU per task (srun --gpus-per-task) every rank sees its own as device 0.
    const int visible = static_cast<unsigned char>(torch::cuda::device_count());
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(launch.local_rank % visible));
  }
  options.device = device;
  if (launch.rank != 0) spdlog::set_level(spdlog::level::warn);
  auto group = dist::Group::join(launch, options);
  spdlog::info("[dist] {} processes ({}), backend {}, {} on this node; rank 0 writes the run",
               launch.world_size, dist::to_string(launch.launcher),
               dist::to_string(group->backend()), launch.local_world_size);
  return group;
}

void on_main_first(dist::Group& group, const std::function<void()>& work) {
  if (!group.distributed()) {
    work();
    return;
  }
  constexpr auto one_day = std::chrono::hours(24);
  enum : std::int64_t { kDone = 0, kFailed = 1, kBadInput = 2 };
  if (group.main()) {
    try {
      work();
    } catch (const common::InputError&) {
      group.broadcast_value(kBadInput, 0, one_day);
      throw;
    } catch (...) {
      group.broadcast_value(kFailed, 0, one_day);
      throw;
    }
    group.broadcast_value(kDone, 0, one_day);
    return;
  }
  const std::int64_t status = group.broadcast_value(kDone, 0, one_day);
  if (status == kBadInput) {
    throw common::InputError("rank 0 stopped on bad input (its message says which); so does rank " +
                             std::to_string(group.rank()));
  }
  if (status != kDone) {
    throw common::Error(
        "rank 0 failed while preparing the run (its message says why); so does "
        "rank " +
        std::to_string(group.rank()));
  }
  work();
}

RunContext open_run(const config::RunConfig& run,
                    const std::string& effective_config,
                    const RunOptions& options,
                    const std::shared_ptr<dist::Group>& group) {
  if (!group || !group->distributed()) {
    RunContext context = open_run(run, effective_config, options);
    context.group = group ? group : std::make_shared<dist::Group>();
    return context;
  }
  RunContext context;
  on_main_first(*group, [&] {
    if (group->main()) {
      context = open_run(run, effective_config, options);
      return;
    }
    context.device = common::resolve_device(run.device);
    context.seed = static_cast<std::uint64_t>(run.seed);
    common::seed_torch(context.seed);
    context.directory = fs::path(run.output_dir) / run.name;
  });
  context.state = static_cast<common::RunState>(
      group->broadcast_value(static_cast<std::int64_t>(context.state)));
  context.device = group->device();
  common::install_host_cache();
  context.threads = common::apply_thread_count(static_cast<int>(run.threads),
                                               static_cast<int>(group->launch().local_world_size));
  context.group = group;
  spdlog::info("[run] {} ranks, {} thread(s) each; every rank reads {}", group->world_size(),
               context.threads, context.directory.string());
  return context;
}

}  // namespace cltci::run
