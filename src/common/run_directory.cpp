#include "cltci/common/run_directory.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/file.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace cltci::common {
namespace fs = std::filesystem;
namespace {

/// A free hidden sibling of `root` to park an overwritten run in (same file system, so the
/// rename is atomic and nothing is copied).
fs::path aside_name(const fs::path& root) {
  const fs::path parent = root.parent_path();
  const std::string base =
      "." + root.filename().string() + ".cltci-old-" + std::to_string(::getpid());
  std::error_code ec;
  fs::path candidate = parent / base;
  for (int i = 1; fs::exists(fs::symlink_status(candidate, ec)); ++i) {
    candidate = parent / (base + "-" + std::to_string(i));
  }
  return candidate;
}

/// Locks the directory `dir` for this process: the descriptor to keep open, or -1 where the file
/// system has no flock (the run then goes on unlocked, as before). Throws when another process
/// holds the lock.
int lock_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
  const int error = errno;
  ::close(fd);
  if (error == EWOULDBLOCK) {
    throw InputError(dir.string() +
                     ": another process is running this run (the directory is locked); wait for "
                     "it to end or choose another run.name");
  }
  spdlog::debug("[run] cannot lock {}: {}; going on without a lock", dir.string(),
                std::strerror(error));
  return -1;
}

void unlock_directory(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void remove_contents(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
  }
}

}  // namespace

RunDirectory::RunDirectory(RunDirectory&& other) noexcept
    : root_(std::move(other.root_)),
      moved_aside_(std::move(other.moved_aside_)),
      created_top_(std::move(other.created_top_)),
      state_(other.state_),
      created_(other.created_),
      pending_(std::exchange(other.pending_, false)),
      exceptions_(other.exceptions_),
      lock_fd_(std::exchange(other.lock_fd_, -1)) {}

RunDirectory& RunDirectory::operator=(RunDirectory&& other) noexcept {
  if (this != &other) {
    if (pending_) commit();
    root_ = std::move(other.root_);
    moved_aside_ = std::move(other.moved_aside_);
    created_top_ = std::move(other.created_top_);
    state_ = other.state_;
    created_ = other.created_;
    pending_ = std::exchange(other.pending_, false);
    exceptions_ = other.exceptions_;
    unlock_directory(lock_fd_);
    lock_fd_ = std::exchange(other.lock_fd_, -1);
  }
  return *this;
}

RunDirectory::~RunDirectory() {
  if (pending_) {
    if (std::uncaught_exceptions() > exceptions_) {
      roll_back();
    } else {
      commit();
    }
  }
  unlock_directory(lock_fd_);
}

void RunDirectory::commit() noexcept {
  if (!pending_) return;
  pending_ = false;
  if (moved_aside_.empty()) return;
  std::error_code ec;
  fs::remove_all(moved_aside_, ec);
  if (ec) {
    spdlog::warn("[run] cannot remove the replaced run {}: {}; remove it yourself",
                 moved_aside_.string(), ec.message());
  }
}

void RunDirectory::roll_back() noexcept {
  if (!pending_) return;
  pending_ = false;
  std::error_code ec;
  if (created_) {
    fs::remove_all(created_top_.empty() ? root_ : created_top_, ec);  // missing parents too
  } else if (!moved_aside_.empty()) {
    fs::remove_all(root_, ec);
  } else {
    remove_contents(root_);  // an empty directory the user made: give it back empty
  }
  if (moved_aside_.empty()) return;
  fs::rename(moved_aside_, root_, ec);
  if (ec) {
    spdlog::error("[run] cannot move the old run back from {} to {}: {}", moved_aside_.string(),
                  root_.string(), ec.message());
  }
}

RunState check_run_directory(const fs::path& root, bool overwrite) {
  std::error_code ec;
  const fs::file_status status = fs::status(root, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw InputError(root.string() + ": exists and is not a directory");
  }
  const bool exists = fs::exists(status);
  if (!exists) {
    // The first existing ancestor decides whether the missing folders can be made.
    fs::path ancestor = fs::absolute(root, ec).parent_path();
    while (ancestor.has_parent_path() && ancestor.parent_path() != ancestor &&
           !fs::exists(ancestor, ec)) {
      ancestor = ancestor.parent_path();
    }
    if (!fs::is_directory(ancestor, ec)) {
      throw InputError(root.string() + ": cannot create directory: " +
                       std::make_error_code(std::errc::not_a_directory).message());
    }
    if (::access(ancestor.c_str(), W_OK | X_OK) != 0) {
      throw InputError(root.string() + ": cannot create directory: " + std::strerror(errno) +
                       " (in " + ancestor.string() + ")");
    }
    return RunState::kFresh;
  }
  const bool is_run = fs::exists(root / kRunConfigFile, ec);
  if (!is_run && !fs::is_empty(root, ec)) {
    throw InputError(root.string() +
                     ": directory is not empty and holds no run (no config.yaml); refusing to "
                     "write into it; choose another --output");
  }
  if (overwrite && is_run && !fs::exists(root / kRunMarker, ec)) {
    throw InputError(root.string() + ": --overwrite refused: the directory was not created by " +
                     "this toolkit (no " + kRunMarker +
                     "; runs made by older versions can be resumed or skipped but not replaced); "
                     "remove it yourself or choose another run.name");
  }
  if (!is_run || overwrite) return RunState::kFresh;
  return fs::exists(root / kRunSummaryFile, ec) ? RunState::kFinished : RunState::kResume;
}

RunDirectory open_run_directory(const fs::path& root, bool overwrite) {
  const RunState state = check_run_directory(root, overwrite);
  std::error_code ec;
  const bool exists = fs::exists(fs::status(root, ec));
  const bool is_run = exists && fs::exists(root / kRunConfigFile, ec);

  RunDirectory opened;
  opened.root_ = root;
  opened.exceptions_ = std::uncaught_exceptions();
  // The existing run is locked before it is resumed or moved aside; a new directory is locked
  // as soon as it exists. Until then a second process would find nothing to collide with.
  if (exists) opened.lock_fd_ = lock_directory(root);
  if (state != RunState::kFresh) {
    opened.state_ = state;
    return opened;
  }
  opened.state_ = RunState::kFresh;
  opened.created_ = !exists;
  if (is_run) {
    const fs::path aside = aside_name(root);
    fs::rename(root, aside, ec);
    if (ec) {
      throw Error("cannot move the old run " + root.string() + " aside to " + aside.string() +
                  ": " + ec.message());
    }
    opened.moved_aside_ = aside;
  }
  if (!exists) {
    // The outermost missing folder: a failed first run in a new --output leaves nothing behind.
    fs::path top = fs::absolute(root, ec);
    while (top.has_parent_path() && top.parent_path() != top &&
           !fs::exists(fs::symlink_status(top.parent_path(), ec))) {
      top = top.parent_path();
    }
    opened.created_top_ = top;
  }
  opened.pending_ = true;  // from here on, a failure undoes what was done
  fs::create_directories(root, ec);
  if (ec) throw InputError(root.string() + ": cannot create directory: " + ec.message());
  if (!exists || is_run) {
    unlock_directory(opened.lock_fd_);  // the old run, now aside, is no longer ours to guard
    opened.lock_fd_ = lock_directory(root);
  }
  write_file_atomic(root / kRunMarker, std::string_view("created by cltci; --overwrite may "
                                                        "replace this run directory\n"));
  return opened;
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
