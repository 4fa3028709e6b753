// A sweep file expanded into its jobs: each pre-training once (per initialisation x backbone x
// pre-training data), the fine-tuning runs that start from it (per fine-tuning data set; one run
// covers all its folds x M x seeds cells), their evaluations, and one report per fine-tuning data
// set x backbone. Jobs are listed stage by stage, so every job's dependencies come before it and
// no cycle can occur: the format has no explicit dependencies, only these four stages.
#pragma once

#include "cltci/config/evaluate_config.h"
#include "cltci/config/finetune_config.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/config/sweep_config.h"
#include "cltci/run/report.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cltci::run {

/// What a report job writes besides its summary.json.
inline constexpr const char* kReportTableFile = "table.txt";

struct SweepJob {
  std::string id;  ///< "<stage>/<run name>", unique in the sweep
  config::SweepStage stage = config::SweepStage::kPretrain;
  std::string run_name;
  std::filesystem::path run_dir;  ///< finished when run_dir/summary.json exists
  std::vector<std::size_t> deps;  ///< indices of the jobs this one needs, all before it
  std::size_t stage_index = 0;    ///< position among the jobs of its stage (sharding)
  std::string backbone;           ///< the backbone axis value (estimates, slurm)

  // Exactly one of these is set, by stage.
  std::optional<config::PretrainConfig> pretrain;
  std::optional<config::FinetuneConfig> finetune;
  std::optional<config::EvaluateConfig> evaluate;
  std::optional<ReportOptions> report;

  /// Pre-training: images in its data set for estimates (0: unknown) and where that came from.
  std::int64_t images = 0;
  std::string images_basis;
};

struct SweepGraph {
  config::SweepConfig config;
  std::vector<SweepJob> jobs;
  /// The folder of locks, failure markers and the journal: <output_dir>/.sweep
  std::filesystem::path state_dir;

  std::size_t count(config::SweepStage stage) const;
};

/// Expands `config` into jobs and loads every job's config (base file, then the sweep's
/// overrides, then the axis values', then the run names and paths the sweep sets, then `extra`,
/// e.g. run.device=cuda), so that any bad key surfaces now, before anything runs. Throws
/// common::InputError naming the sweep file and job for each problem.
SweepGraph expand_sweep(const config::SweepConfig& config,
                        const std::vector<std::string>& extra = {});

/// The shard (0 <= shard < count) that runs `job`: the k-th job of each stage goes to shard
/// k mod count, so every stage is spread over all shards and each job has exactly one.
std::size_t shard_of(const SweepJob& job, std::size_t count);

}  // namespace cltci::run
