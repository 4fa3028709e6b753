#include "cltci/common/run_directory.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <string>
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
      state_(other.state_),
      created_(other.created_),
      pending_(std::exchange(other.pending_, false)),
      exceptions_(other.exceptions_) {}

RunDirectory& RunDirectory::operator=(RunDirectory&& other) noexcept {
  if (this != &other) {
    if (pending_) commit();
    root_ = std::move(other.root_);
    moved_aside_ = std::move(other.moved_aside_);
    state_ = other.state_;
    created_ = other.created_;
    pending_ = std::exchange(other.pending_, false);
    exceptions_ = other.exceptions_;
  }
  return *this;
}

RunDirectory::~RunDirectory() {
  if (!pending_) return;
  if (std::uncaught_exceptions() > exceptions_) {
    roll_back();
  } else {
    commit();
  }
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
  if (created_ || !moved_aside_.empty()) {
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

RunDirectory open_run_directory(const fs::path& root, bool overwrite) {
  std::error_code ec;
  const fs::file_status status = fs::status(root, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw InputError(root.string() + ": exists and is not a directory");
  }
  const bool exists = fs::exists(status);
  const bool is_run = exists && fs::exists(root / kRunConfigFile, ec);
  const bool is_empty = !exists || fs::is_empty(root, ec);
  if (!is_empty && !is_run) {
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

  RunDirectory opened;
  opened.root_ = root;
  opened.exceptions_ = std::uncaught_exceptions();
  if (is_run && !overwrite) {
    opened.state_ =
        fs::exists(root / kRunSummaryFile, ec) ? RunState::kFinished : RunState::kResume;
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
  opened.pending_ = true;  // from here on, a failure undoes what was done
  fs::create_directories(root, ec);
  if (ec) throw InputError(root.string() + ": cannot create directory: " + ec.message());
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
