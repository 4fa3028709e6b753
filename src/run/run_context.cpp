#include "cltci/run/run_context.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/device.h"
#include "cltci/common/error.h"
#include "cltci/common/logging.h"
#include "cltci/common/seeding.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
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
    if (first == 2 && (line.compare(2, 7, "device:") == 0 || line.compare(2, 8, "threads:") == 0)) {
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

}  // namespace cltci::run
