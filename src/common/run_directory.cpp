#include "cltci/common/run_directory.h"

#include "cltci/common/error.h"

#include <system_error>

namespace cltci::common {
namespace fs = std::filesystem;

RunState open_run_directory(const fs::path& root, bool overwrite) {
  std::error_code ec;
  if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
    throw InputError(root.string() + ": exists and is not a directory");
  }
  const bool is_run = fs::exists(root / kRunConfigFile, ec);
  const bool is_empty = !fs::exists(root, ec) || fs::is_empty(root, ec);
  if (!is_empty && !is_run) {
    throw InputError(root.string() +
                     ": directory is not empty and holds no run (no config.yaml); refusing to "
                     "write into it; choose another --output");
  }
  if (overwrite && is_run) {
    fs::remove_all(root, ec);
    if (ec) throw Error("cannot remove " + root.string() + ": " + ec.message());
  }
  fs::create_directories(root, ec);
  if (ec) throw InputError(root.string() + ": cannot create directory: " + ec.message());
  if (overwrite || !is_run) return RunState::kFresh;
  return fs::exists(root / kRunSummaryFile, ec) ? RunState::kFinished : RunState::kResume;
}

const char* to_string(RunState state) noexcept {
  switch (state) {
    case RunState::kFresh:
      return "fresh";
    case RunState::kResume:
      return "resume";
    case RunState::kFinished:
      return "finished";
  }
  return "?";
}

}  // namespace cltci::common
