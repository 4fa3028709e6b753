#include "cltci/run/sweep.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/common/job_lock.h"
#include "cltci/common/run_directory.h"
#include "cltci/run/evaluate.h"
#include "cltci/run/finetune.h"
#include "cltci/run/pretrain.h"
#include "cltci/run/report.h"
#include "cltci/run/report_tables.h"
#include "cltci/run/sweep_estimate.h"
#include "cltci/run/sweep_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
using config::SweepStage;

namespace {

bool mine(const SweepJob& job, const SweepOptions& options) {
  return options.shards <= 1 || shard_of(job, options.shards) == options.shard;
}

/// The report job: the table of its evaluations, written like a run (summary.json last).
void write_report(const SweepJob& job) {
  const Report report = make_report(*job.report);
  const std::string text = "Dice (%) pooled over each test fold, mean(std) over folds x seeds\n" +
                           report.table +
                           (report.comparisons.empty() ? "" : "\n" + report.comparisons);
  common::write_file_atomic(job.run_dir / kReportTableFile, std::string_view(text));
  // The paper-ready files (Markdown, CSV, LaTeX per metric, the Dice-vs-M figure) before the
  // summary: summary.json is what marks the job done.
  const std::vector<std::filesystem::path> files =
      write_tables(report.tables, job.run_dir / "tables");
  if (!report.tables_note.empty()) spdlog::info("[sweep] {}: {}", job.id, report.tables_note);
  common::write_file_atomic(job.run_dir / common::kRunSummaryFile, std::string_view(report.json));
  spdlog::info("[sweep] {}: {} table files in {}:\n{}", job.id, files.size(),
               (job.run_dir / "tables").string(), text);
}

int dispatch(const SweepJob& job) {
  const RunOptions options;
  switch (job.stage) {
    case SweepStage::kPretrain:
      return pretrain(*job.pretrain, options);
    case SweepStage::kFinetune:
      return finetune(*job.finetune, options);
    case SweepStage::kEvaluate:
      return evaluate(*job.evaluate, options);
    case SweepStage::kReport:
      write_report(job);
      return 0;
  }
  return 1;
}

std::string one_line(const std::exception& error) {
  if (const auto* input = dynamic_cast<const common::InputError*>(&error)) {
    std::string out;
    for (const auto& line : input->problems()) out += (out.empty() ? "" : "; ") + line;
    return out;
  }
  return error.what();
}

/// Sleeps `seconds`, waking early for a signal.
void nap(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until && !common::interrupt_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::optional<std::size_t> parse_count(const std::string& text) {
  std::size_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

void resolve_shard(const std::string& text, SweepOptions& options) {
  if (!text.empty()) {
    const auto slash = text.find('/');
    const auto index = parse_count(text.substr(0, slash));
    const auto count =
        slash == std::string::npos ? std::nullopt : parse_count(text.substr(slash + 1));
    if (!index || !count || *count == 0 || *index >= *count) {
      throw common::InputError("--shard: expected I/N with 0 <= I < N, got '" + text + "'");
    }
    options.shard = *index;
    options.shards = *count;
    return;
  }
  const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
  const char* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
  if (id == nullptr || count == nullptr) return;
  const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");
  const auto i = parse_count(id);
  const auto n = parse_count(count);
  const auto low = min != nullptr ? parse_count(min) : std::optional<std::size_t>(0);
  if (!i || !n || !low || *n == 0 || *i < *low || *i - *low >= *n) {
    throw common::InputError(std::string("SLURM_ARRAY_TASK_ID=") + id +
                             ", SLURM_ARRAY_TASK_COUNT=" + count +
                             ": not a task of a contiguous array; pass --shard I/N");
  }
  options.shard = *i - *low;
  options.shards = *n;
}

void parse_throughputs(const std::vector<std::string>& items, SweepOptions& options) {
  for (const auto& item : items) {
    const auto equal = item.find('=');
    double value = 0.0;
    const std::string number = equal == std::string::npos ? "" : item.substr(equal + 1);
    const auto result = std::from_chars(number.data(), number.data() + number.size(), value);
    if (equal == 0 || equal == std::string::npos || result.ec != std::errc() ||
        result.ptr != number.data() + number.size() || !(value > 0)) {
      throw common::InputError("--images-per-second: expected ARCH=N with N > 0, got '" + item +
                               "'");
    }
    options.images_per_second[item.substr(0, equal)] = value;
  }
}

std::filesystem::path write_slurm_script(const SweepGraph& graph,
                                         const SlurmOptions& options,
                                         const std::filesystem::path& script,
                                         bool overwrite) {
  std::filesystem::path target = script.empty()
                                     ? std::filesystem::path(graph.config.sweep.output_dir) /
                                           (graph.config.sweep.name + ".sbatch")
                                     : script;
  std::error_code error;
  if (!overwrite && std::filesystem::exists(std::filesystem::symlink_status(target, error))) {
    throw common::InputError("--script: " + target.string() +
                             " exists (it may hold your edits); pass --overwrite to replace it");
  }
  // Slurm does not create the folder of --output: the script's log folder must exist.
  std::filesystem::create_directories(std::filesystem::absolute(graph.state_dir) / "slurm");
  common::write_file_atomic(target, std::string_view(slurm_script(graph, options)));
  return target;
}

std::string sweep_plan(const SweepGraph& graph, const SweepOptions& options) {
  const SweepState state(graph);
  const auto states = state.states();
  const auto estimate = estimate_sweep(graph, states, options.images_per_second);
  std::ostringstream out;
  out << "sweep " << graph.config.sweep.name << ": " << graph.jobs.size() << " jobs ("
      << graph.count(SweepStage::kPretrain) << " pretrain, " << graph.count(SweepStage::kFinetune)
      << " finetune, " << graph.count(SweepStage::kEvaluate) << " evaluate, "
      << graph.count(SweepStage::kReport) << " report) in " << graph.config.sweep.output_dir
      << "\n";
  std::size_t width = 0;
  for (const auto& job : graph.jobs) width = std::max(width, job.id.size());
  std::map<JobStatus, std::size_t> counts;
  for (std::size_t i = 0; i < graph.jobs.size(); ++i) {
    const SweepJob& job = graph.jobs[i];
    ++counts[states[i].status];
    char head[512];
    std::snprintf(head, sizeof head, "  %-8s %-*s", to_string(states[i].status),
                  static_cast<int>(width), job.id.c_str());
    out << head;
    if (options.shards > 1) out << "  shard " << shard_of(job, options.shards);
    if (estimate.jobs[i].seconds > 0) out << "  ~" << format_duration(estimate.jobs[i].seconds);
    if (!estimate.jobs[i].known) out << "  (size unknown)";
    if (!states[i].note.empty()) out << "  " << states[i].note;
    out << "\n";
  }
  out << "status:";
  for (JobStatus s : {JobStatus::kDone, JobStatus::kRunning, JobStatus::kReady, JobStatus::kWaiting,
                      JobStatus::kFailed}) {
    out << " " << counts[s] << " " << to_string(s);
  }
  out << "\nwork left: ~" << format_duration(estimate.seconds)
      << " on one worker (pre-training: epochs x images x method cost; fine-tuning: epochs x M "
         "per unfinished cell; evaluation and reports not counted";
  if (estimate.unknown > 0) {
    out << "; " << estimate.unknown
        << " pre-training(s) of unknown size left out: give axes.pretrain_data.<name>.images";
  }
  out << ")\n";
  if (!estimate.assumptions.empty()) out << "throughput assumed (images/s):\n";
  for (const auto& line : estimate.assumptions) out << "  " << line << "\n";
  if (options.shards > 1) {
    out << "with " << options.shards << " shards: about ~"
        << format_duration(estimate.seconds / static_cast<double>(options.shards))
        << " if the work spreads evenly\n";
  }
  return out.str();
}

int sweep_run(const SweepGraph& graph, const SweepOptions& options) {
  const SweepState state(graph);
  const auto& settings = graph.config.sweep;
  // A new runner retries what failed before it started; what fails while it runs stays failed
  // for it (failed_here), even if a newer runner clears the marker to retry it.
  for (const SweepJob& job : graph.jobs) {
    if (mine(job, options) && state.failure(job)) {
      state.clear_failure(job);
      state.journal("retry", job);
    }
  }
  std::set<std::size_t> failed_here;
  std::size_t ran = 0;
  auto last_wait_log = std::chrono::steady_clock::now() - std::chrono::hours(1);
  spdlog::info("[sweep] {}: {} jobs{}", settings.name, graph.jobs.size(),
               options.shards > 1 ? ", shard " + std::to_string(options.shard) + "/" +
                                        std::to_string(options.shards)
                                  : std::string());
  while (true) {
    common::throw_if_interrupted("the running job's state");
    const auto states = state.states(failed_here);
    bool pending = false;
    bool started = false;
    std::string waiting_for;
    for (std::size_t i = 0; i < graph.jobs.size() && !started; ++i) {
      const SweepJob& job = graph.jobs[i];
      if (!mine(job, options)) continue;
      const JobState& s = states[i];
      if (s.status == JobStatus::kDone || s.status == JobStatus::kFailed || s.blocked) continue;
      if (s.status != JobStatus::kReady) {
        pending = true;
        if (waiting_for.empty()) waiting_for = job.id + " (" + s.note + ")";
        continue;
      }
      const auto lock = common::JobLock::try_acquire(state.lock_file(job), settings.lock_timeout_s,
                                                     settings.heartbeat_s);
      if (!lock) {
        pending = true;  // another runner took it between our look and our lock
        continue;
      }
      // Under the lock, look again: it may have finished or failed in the meantime.
      if (job_done(job) || state.failure(job)) continue;
      started = true;
      ++ran;
      state.journal("start", job);
      spdlog::info("[sweep] start {}", job.id);
      const auto begin = std::chrono::steady_clock::now();
      std::string failure;
      try {
        const int code = dispatch(job);
        if (code != 0) {
          failure = "exit code " + std::to_string(code);
        } else if (!job_done(job)) {
          failure = "finished without writing " + (job.run_dir / "summary.json").string();
        }
      } catch (const common::Interrupted&) {
        state.journal("interrupted", job);
        throw;
      } catch (const std::exception& error) {
        failure = one_line(error);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
      if (lock->lost()) {
        spdlog::error("[sweep] {}: the lock was taken over while it ran", job.id);
      }
      if (failure.empty()) {
        state.journal("done", job, format_duration(seconds));
        spdlog::info("[sweep] done {} in {}", job.id, format_duration(seconds));
      } else {
        failed_here.insert(i);
        state.mark_failed(job, failure);
        state.journal("failed", job, failure);
        spdlog::error("[sweep] failed {}: {}", job.id, failure);
      }
    }
    if (started) continue;
    if (!pending) break;
    if (std::chrono::steady_clock::now() - last_wait_log > std::chrono::minutes(1)) {
      spdlog::info("[sweep] waiting for {}", waiting_for.empty() ? "a lock" : waiting_for);
      last_wait_log = std::chrono::steady_clock::now();
    }
    nap(settings.poll_s);
  }

  const auto states = state.states(failed_here);
  std::size_t done = 0, failed = 0, blocked = 0, total = 0;
  for (std::size_t i = 0; i < graph.jobs.size(); ++i) {
    if (!mine(graph.jobs[i], options)) continue;
    ++total;
    if (states[i].status == JobStatus::kDone) ++done;
    if (states[i].status == JobStatus::kFailed) {
      ++failed;
      spdlog::error("[sweep] {} failed: {}", graph.jobs[i].id, states[i].note);
    }
    if (states[i].blocked) ++blocked;
  }
  spdlog::info(
      "[sweep] {} of {} jobs done ({} run by this runner), {} failed, {} not run after a "
      "failure",
      done, total, ran, failed, blocked);
  return failed + blocked > 0 ? common::kExitRuntimeFailure : common::kExitSuccess;
}

std::string slurm_script(const SweepGraph& graph, const SlurmOptions& options) {
  std::size_t array = options.array;
  if (array == 0) {
    for (SweepStage stage : {SweepStage::kPretrain, SweepStage::kFinetune, SweepStage::kEvaluate,
                             SweepStage::kReport}) {
      array = std::max(array, graph.count(stage));
    }
  }
  array = std::max<std::size_t>(array, 1);
  const fs::path logs = fs::absolute(graph.state_dir) / "slurm";
  std::ostringstream out;
  out << "#!/bin/bash\n"
      << "# Sweep " << graph.config.sweep.name << ": " << graph.jobs.size()
      << " jobs as an array of " << array
      << " `sweep run` tasks, each taking its shard (SLURM_ARRAY_TASK_ID of\n"
      << "# SLURM_ARRAY_TASK_COUNT) and waiting for dependencies run by other tasks.\n"
      << "# Submit it with sbatch; resubmit after a time-out: finished jobs are skipped, "
      << "unfinished ones resume.\n"
      << "#SBATCH --job-name=" << graph.config.sweep.name << "\n"
      << "#SBATCH --array=0-" << array - 1 << "\n"
      << "#SBATCH --ntasks=1\n"
      << "#SBATCH --gpus-per-task=" << options.gpus << "\n"
      << "#SBATCH --cpus-per-task=" << options.cpus << "\n"
      << "#SBATCH --time=" << options.time << "\n";
  if (!options.partition.empty()) out << "#SBATCH --partition=" << options.partition << "\n";
  // Slurm sends SIGTERM at the time limit: the running job saves a checkpoint and the runner
  // exits 130; --signal gives it two minutes' warning to do so before the limit.
  out << "#SBATCH --signal=TERM@120\n"
      << "#SBATCH --output=" << logs.string() << "/%A_%a.out\n"
      << "set -euo pipefail\n"
      << "mkdir -p " << logs.string() << "\n"
      << "srun " << options.executable << " run " << options.sweep_file;
  if (!options.extra_flags.empty()) out << " " << options.extra_flags;
  out << "\n";
  return out.str();
}

}  // namespace cltci::run
