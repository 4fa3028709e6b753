#include "cltci/common/job_lock.h"

#include "cltci/common/error.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace cltci::common {
namespace fs = std::filesystem;
namespace {

double seconds_since(const struct timespec& when) {
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec - when.tv_sec) +
         static_cast<double>(now.tv_nsec - when.tv_nsec) * 1e-9;
}

std::string now_iso() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

/// Stale: the heartbeat stopped for longer than the timeout, or the holder is a process of this
/// host that no longer exists (a killed runner is then taken over at once, not after minutes).
void judge(LockHolder& holder, const struct stat& info, double timeout_s) {
  holder.heartbeat_age_s = seconds_since(info.st_mtim);
  if (holder.heartbeat_age_s > timeout_s) {
    holder.stale = true;
    holder.why_stale = "heartbeat " + std::to_string(static_cast<long>(holder.heartbeat_age_s)) +
                       " s old (timeout " + std::to_string(static_cast<long>(timeout_s)) + " s)";
  } else if (holder.host == host_name() && holder.pid > 0 && kill(holder.pid, 0) != 0 &&
             errno == ESRCH) {
    holder.stale = true;
    holder.why_stale = "process " + std::to_string(holder.pid) + " on this host is gone";
  }
}

bool same_state(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

std::string unique_suffix() {
  static int counter = 0;
  return host_name() + "." + std::to_string(getpid()) + "." + std::to_string(++counter);
}

}  // namespace

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown-host";
  return name;
}

std::optional<LockHolder> read_lock(const fs::path& file, double timeout_s) {
  struct stat info {};
  if (stat(file.c_str(), &info) != 0) return std::nullopt;
  LockHolder holder;
  std::ifstream in(file);
  in >> holder.host >> holder.pid >> holder.started;
  // A lock still being written (or left empty by a crash between open and write) is judged by
  // its mtime alone.
  judge(holder, info, timeout_s);
  return holder;
}

bool reclaim_stale_lock(const fs::path& file, double timeout_s) {
  struct stat seen {};
  if (stat(file.c_str(), &seen) != 0) return false;
  const auto holder = read_lock(file, timeout_s);
  if (!holder || !holder->stale) return false;

  // (1) One reclaimer per observed state of the lock.
  const fs::path guard = file.string() + ".reclaim." + std::to_string(seen.st_ino) + "." +
                         std::to_string(seen.st_mtim.tv_sec) + "." +
                         std::to_string(seen.st_mtim.tv_nsec);
  const int guard_fd = open(guard.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (guard_fd < 0) {
    // Someone else is reclaiming; their guard only blocks us while it is fresh.
    struct stat guard_info {};
    if (stat(guard.c_str(), &guard_info) == 0 && seconds_since(guard_info.st_mtim) > timeout_s) {
      unlink(guard.c_str());
    }
    return false;
  }
  close(guard_fd);
  bool removed = false;
  struct stat now {};
  // (2) Still the lock we judged stale? Then move it out of the way under a name only we use.
  if (stat(file.c_str(), &now) == 0 && same_state(now, seen)) {
    const fs::path aside = file.string() + ".stale." + unique_suffix();
    if (rename(file.c_str(), aside.c_str()) == 0) {
      struct stat moved {};
      if (stat(aside.c_str(), &moved) == 0 && same_state(moved, seen)) {
        spdlog::warn("[lock] reclaimed the stale lock {} of {} pid {} ({})", file.string(),
                     holder->host, holder->pid, holder->why_stale);
        removed = true;
      } else if (link(aside.c_str(), file.c_str()) != 0) {
        // The holder released between our check and the rename and a third runner took the
        // job: we moved its live lock, and the lock name is taken again. Nothing to put back.
        spdlog::warn("[lock] {}: lock changed hands while reclaiming it", file.string());
      }
      unlink(aside.c_str());
    }
  }
  unlink(guard.c_str());
  return removed;
}

std::unique_ptr<JobLock> JobLock::try_acquire(const fs::path& file,
                                              double timeout_s,
                                              double heartbeat_s) {
  std::error_code error;
  fs::create_directories(file.parent_path(), error);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      const std::string content =
          host_name() + " " + std::to_string(getpid()) + " " + now_iso() + "\n";
      if (write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()) ||
          fsync(fd) != 0) {
        const std::string reason = std::strerror(errno);
        close(fd);
        unlink(file.c_str());
        throw common::Error(file.string() + ": cannot write the job lock: " + reason);
      }
      return std::unique_ptr<JobLock>(new JobLock(file, fd, heartbeat_s));
    }
    if (errno != EEXIST) {
      throw common::Error(file.string() + ": cannot create the job lock: " + std::strerror(errno));
    }
    if (attempt == 0 && !reclaim_stale_lock(file, timeout_s)) return nullptr;
  }
  return nullptr;
}

JobLock::JobLock(fs::path file, int fd, double heartbeat_s)
    : file_(std::move(file)), fd_(fd), heartbeat_s_(heartbeat_s) {
  thread_ = std::thread([this] { beat(); });
}

void JobLock::beat() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto period = std::chrono::duration<double>(heartbeat_s_);
  while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
    // The descriptor, not the name: a lock that was reclaimed from us must not be kept alive.
    futimens(fd_, nullptr);
    struct stat mine {
    }, named{};
    if (!lost_ && fstat(fd_, &mine) == 0 &&
        (stat(file_.c_str(), &named) != 0 || named.st_ino != mine.st_ino ||
         named.st_dev != mine.st_dev)) {
      lost_ = true;
      spdlog::error(
          "[lock] lost the lock {}: another process took its holder for dead (was the "
          "heartbeat stalled longer than the lock timeout?)",
          file_.string());
    }
  }
}

bool JobLock::lost() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return lost_;
}

JobLock::~JobLock() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  struct stat mine {
  }, named{};
  if (fstat(fd_, &mine) == 0 && stat(file_.c_str(), &named) == 0 && named.st_ino == mine.st_ino &&
      named.st_dev == mine.st_dev) {
    unlink(file_.c_str());
  }
  close(fd_);
}

}  // namespace cltci::common
