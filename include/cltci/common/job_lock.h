// One sweep job, one runner: a lock file made with open(O_CREAT | O_EXCL), which is atomic on a
// local file system and on NFSv3+ alike, holding "host pid start-time". While the job runs, a
// thread refreshes the file's mtime (the heartbeat) every few seconds; a lock whose heartbeat is
// older than the timeout, or whose holder is a dead process on this host, is stale and may be
// reclaimed.
//
// Reclaiming is two steps, so that two reclaimers never both win: (1) the reclaimer creates,
// with O_EXCL, a guard file named after the stale lock's inode and mtime; only one process can
// create it for that state of the lock, the others give up. (2) The winner checks the lock is
// still that inode with that mtime, renames it to a name unique to itself, checks the renamed
// file is the stale one (if the holder released it and someone else locked the job in between,
// it links that live lock back, which fails rather than replaces if yet another lock exists),
// then removes it. Only then does it try O_EXCL like any other runner. Guards left by a crashed
// reclaimer are stale after the same timeout and are removed.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace cltci::common {

/// What a lock file says about its holder.
struct LockHolder {
  std::string host;
  long pid = 0;
  std::string started;  ///< ISO time the lock was taken
  double heartbeat_age_s = 0.0;
  bool stale = false;
  std::string why_stale;  ///< "heartbeat 700 s old", "process 123 on this host is gone"
};

/// This machine's name, as lock files record it.
std::string host_name();

/// The holder of `file`, or nothing when there is no lock.
std::optional<LockHolder> read_lock(const std::filesystem::path& file, double timeout_s);

/// Removes `file` when it is stale (see the header comment); true when this call removed it.
bool reclaim_stale_lock(const std::filesystem::path& file, double timeout_s);

class JobLock {
 public:
  /// Takes `file` (reclaiming a stale lock first) and starts its heartbeat; nothing when another
  /// live runner holds it. Creates the lock's folder when needed.
  static std::unique_ptr<JobLock> try_acquire(const std::filesystem::path& file,
                                              double timeout_s,
                                              double heartbeat_s);
  /// Stops the heartbeat and removes the lock file if it is still this one.
  ~JobLock();
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;

  /// True when the heartbeat found the lock file replaced (this runner was taken for dead).
  bool lost() const;

 private:
  JobLock(std::filesystem::path file, int fd, double heartbeat_s);
  void beat();

  std::filesystem::path file_;
  int fd_ = -1;
  double heartbeat_s_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool lost_ = false;
  std::thread thread_;
};

}  // namespace cltci::common
