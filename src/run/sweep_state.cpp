#include "cltci/run/sweep_state.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/job_lock.h"
#include "cltci/common/run_directory.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace cltci::run {
namespace fs = std::filesystem;

const char* to_string(JobStatus status) noexcept {
  switch (status) {
    case JobStatus::kDone:
      return "done";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kReady:
      return "ready";
    case JobStatus::kWaiting:
      return "waiting";
    case JobStatus::kFailed:
      return "failed";
  }
  return "?";
}

bool job_done(const SweepJob& job) {
  std::error_code error;
  return fs::exists(job.run_dir / common::kRunSummaryFile, error);
}

SweepState::SweepState(const SweepGraph& graph) : graph_(graph), dir_(graph.state_dir) {}

namespace {
// Job ids hold one '/', between stage and run name; file names keep them flat.
std::string flat(const std::string& id) {
  std::string out = id;
  for (char& c : out) {
    if (c == '/') c = '.';
  }
  return out;
}
}  // namespace

fs::path SweepState::lock_file(const SweepJob& job) const {
  return dir_ / (flat(job.id) + ".lock");
}

fs::path SweepState::failure_file(const SweepJob& job) const {
  return dir_ / (flat(job.id) + ".failed");
}

void SweepState::mark_failed(const SweepJob& job, const std::string& message) const {
  common::write_file_atomic(failure_file(job), std::string_view(message + "\n"));
}

std::optional<std::string> SweepState::failure(const SweepJob& job) const {
  std::error_code error;
  if (!fs::exists(failure_file(job), error)) return std::nullopt;
  try {
    std::string text = common::read_file(failure_file(job));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  } catch (const common::InputError&) {
    return std::nullopt;  // cleared between the two calls
  }
}

void SweepState::clear_failure(const SweepJob& job) const {
  std::error_code error;
  fs::remove(failure_file(job), error);
}

void SweepState::journal(const std::string& event,
                         const SweepJob& job,
                         const std::string& detail) const {
  std::error_code error;
  fs::create_directories(dir_, error);
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::string line = std::string(stamp) + " " + common::host_name() + " " +
                     std::to_string(getpid()) + " " + event + " " + job.id;
  if (!detail.empty()) line += " " + detail;
  for (char& c : line) {
    if (c == '\n') c = ' ';
  }
  line += "\n";
  // One write() of an O_APPEND descriptor: lines of concurrent runners never interleave on a
  // local file system (NFS does not promise it; the journal is for people, not for decisions).
  const int fd = open(journal_file().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    throw common::Error(journal_file().string() + ": cannot append: " + std::strerror(errno));
  }
  const auto written = write(fd, line.data(), line.size());
  close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    throw common::Error(journal_file().string() + ": short write");
  }
}

std::vector<JobState> SweepState::states(const std::set<std::size_t>& failed) const {
  const double timeout = graph_.config.sweep.lock_timeout_s;
  std::vector<JobState> out(graph_.jobs.size());
  // Dependencies come before their jobs, so one pass in order settles every job.
  for (std::size_t i = 0; i < graph_.jobs.size(); ++i) {
    const SweepJob& job = graph_.jobs[i];
    JobState& state = out[i];
    if (job_done(job)) {
      state.status = JobStatus::kDone;
      continue;
    }
    if (const auto holder = common::read_lock(lock_file(job), timeout); holder && !holder->stale) {
      state.status = JobStatus::kRunning;
      state.note =
          holder->host + " pid " + std::to_string(holder->pid) + " since " + holder->started;
      continue;
    } else if (holder) {
      state.note = "stale lock of " + holder->host + " pid " + std::to_string(holder->pid) + " (" +
                   holder->why_stale + "), will be reclaimed";
    }
    if (const auto message = failure(job)) {
      state.status = JobStatus::kFailed;
      state.note = *message;
      continue;
    }
    if (failed.count(i) != 0) {
      state.status = JobStatus::kFailed;
      state.note = "failed in this runner";
      continue;
    }
    std::string waits;
    for (std::size_t dep : job.deps) {
      const JobState& d = out[dep];
      if (d.status == JobStatus::kDone) continue;
      if (d.status == JobStatus::kFailed || d.blocked) {
        state.blocked = true;
        waits = graph_.jobs[dep].id + (d.status == JobStatus::kFailed ? " failed" : " is blocked");
        break;
      }
      if (waits.empty()) waits = graph_.jobs[dep].id;
    }
    if (waits.empty()) {
      state.status = JobStatus::kReady;
    } else {
      state.status = JobStatus::kWaiting;
      state.note = (state.blocked ? "blocked: " : "on ") + waits;
    }
  }
  return out;
}

}  // namespace cltci::run
