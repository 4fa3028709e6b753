// Run directories are never silently overwritten: a finished run (it has summary.json) is
// skipped, an unfinished one (it has config.yaml) is resumed, anything else that is not empty is
// refused. --overwrite starts over.
#pragma once

#include <filesystem>

namespace cltci::common {

enum class RunState {
  kFresh,     ///< created (or was empty): start from scratch
  kResume,    ///< holds an unfinished run of this toolkit: continue it
  kFinished,  ///< holds a finished run (summary.json): nothing to do
};

inline constexpr const char* kRunConfigFile = "config.yaml";
inline constexpr const char* kRunSummaryFile = "summary.json";
inline constexpr const char* kRunLogFile = "run.log";

/// Inspects (and creates when needed) the run directory `root`. With `overwrite`, an existing
/// run's contents are removed first. Throws InputError when `root` is a file, or a non-empty
/// directory that is not a run directory.
RunState open_run_directory(const std::filesystem::path& root, bool overwrite);

const char* to_string(RunState state) noexcept;

}  // namespace cltci::common
