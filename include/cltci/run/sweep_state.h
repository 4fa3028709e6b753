// Where a sweep stands, read from the file system only, so that every runner (and `sweep plan`)
// on any machine sharing the output folder sees the same thing: a job is done when its run's
// summary.json exists (the rule the executables use to skip a run), running while a live lock
// names it, failed while a failure marker does; otherwise ready when its dependencies are done,
// else waiting. The folder <output_dir>/.sweep holds the locks, the failure markers and the
// journal (one line per job start, finish and failure, appended by every runner).
#pragma once

#include "cltci/run/sweep_graph.h"

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cltci::run {

enum class JobStatus { kDone, kRunning, kReady, kWaiting, kFailed };

const char* to_string(JobStatus status) noexcept;

struct JobState {
  JobStatus status = JobStatus::kWaiting;
  /// Failed: the message; running: the holder; waiting: what it waits for (a failed dependency
  /// says so: the job will not run this time); ready: a stale lock that will be reclaimed.
  std::string note;
  bool blocked = false;  ///< waiting on a failed dependency
};

class SweepState {
 public:
  explicit SweepState(const SweepGraph& graph);

  std::filesystem::path lock_file(const SweepJob& job) const;
  std::filesystem::path failure_file(const SweepJob& job) const;
  std::filesystem::path journal_file() const { return dir_ / "journal.log"; }

  /// Records that `job` failed with `message` (atomically, read by every runner).
  void mark_failed(const SweepJob& job, const std::string& message) const;
  std::optional<std::string> failure(const SweepJob& job) const;
  void clear_failure(const SweepJob& job) const;
  /// Appends "<time> <host> <pid> <event> <job id>[ <detail>]" to the journal in one write.
  void journal(const std::string& event, const SweepJob& job, const std::string& detail = "") const;

  /// The state of every job. `failed` adds jobs this runner saw fail (their marker may since
  /// have been cleared by a newer runner that retries them).
  std::vector<JobState> states(const std::set<std::size_t>& failed = {}) const;

 private:
  const SweepGraph& graph_;
  std::filesystem::path dir_;
};

/// A job's run has finished: its summary.json exists.
bool job_done(const SweepJob& job);

}  // namespace cltci::run
