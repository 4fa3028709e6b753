// Run directories are never silently overwritten: a finished run (it has summary.json) is
// skipped, an unfinished one (it has config.yaml) is resumed, anything else that is not empty is
// refused. --overwrite starts over, but only in a directory this toolkit made (it holds
// kRunMarker), and only once the new run has started cleanly: the old run is moved aside first
// and removed on commit, or put back when the new run fails before that. While a run is open its
// directory is locked (flock on the directory itself, released by the kernel when the process
// dies), so a second process started on the same run is refused instead of interleaving
// checkpoints with the first.
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
/// Left in every run directory the toolkit creates: only such a directory may be replaced.
inline constexpr const char* kRunMarker = ".cltci-run";

/// An opened run directory. Until commit(), a fresh run can still be undone: destroyed while an
/// exception unwinds, it removes what the new run wrote (the directory itself when it created
/// it) and moves an overwritten run back. Destroyed normally, it commits.
class RunDirectory {
 public:
  RunDirectory() = default;
  RunDirectory(RunDirectory&& other) noexcept;
  RunDirectory& operator=(RunDirectory&& other) noexcept;
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;
  ~RunDirectory();

  RunState state() const { return state_; }
  const std::filesystem::path& path() const { return root_; }
  /// The new run has started cleanly: removes the overwritten run (if any) for good.
  void commit() noexcept;
  /// Undoes the new run (what the destructor does during unwinding); a no-op once committed.
  void roll_back() noexcept;

 private:
  friend RunDirectory open_run_directory(const std::filesystem::path& root, bool overwrite);

  std::filesystem::path root_;
  std::filesystem::path moved_aside_;  ///< the overwritten run, until commit
  std::filesystem::path
      created_top_;  ///< the outermost folder this open created (root or a parent)
  RunState state_ = RunState::kFresh;
  bool created_ = false;  ///< root did not exist before
  bool pending_ = false;  ///< a fresh run not yet committed
  int exceptions_ = 0;    ///< std::uncaught_exceptions() when opened
  int lock_fd_ = -1;      ///< the locked directory (closing it releases the lock)
};

/// What open_run_directory(root, overwrite) would refuse, found without changing anything, so an
/// executable can refuse a bad --output before hours of work (the data set's cache) rather than
/// after: throws InputError when `root` is a file, a non-empty directory that is not a run
/// directory, a run directory `overwrite` may not replace, or when it does not exist and cannot
/// be created (its nearest existing ancestor is a file, or a directory this process may not
/// write). Returns the state the run would open in.
RunState check_run_directory(const std::filesystem::path& root, bool overwrite);

/// Inspects (and creates when needed) the run directory `root`. With `overwrite`, an existing
/// run is moved aside to a hidden sibling and replaced by an empty directory. Throws InputError
/// when `root` is a file, a non-empty directory that is not a run directory, or (with
/// `overwrite`) a run directory without kRunMarker (the toolkit did not create it), and when
/// another process holds the run open.
RunDirectory open_run_directory(const std::filesystem::path& root, bool overwrite);

const char* to_string(RunState state) noexcept;

}  // namespace cltci::common
