// Configuration of the `sweep` executable: base configs of the three stages, overrides, and the
// axes (initialisations, backbones, pre-training data, fine-tuning data, M, folds, seeds) whose
// product run::expand_sweep turns into a job graph. Format and rules: docs/sweeps.md.
//
// The sweep file is read by hand rather than through a Schema: its axes are mappings of
// user-chosen names to values, and its overrides are lists of strings, neither of which a
// describe() function can declare. Errors keep the config layer's form, one line per problem:
// `file:line:col: key.path: message`, all reported at once as common::InputError.
#pragma once

#include "cltci/config/finetune_config.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace cltci::config {

/// The stages a sweep runs, in dependency order.
enum class SweepStage { kPretrain, kFinetune, kEvaluate, kReport };

const char* to_string(SweepStage stage) noexcept;

/// Per-stage strings: `--set` overrides, or base config files.
struct StageStrings {
  std::vector<std::string> pretrain;
  std::vector<std::string> finetune;
  std::vector<std::string> evaluate;
};

/// One value of an axis: its name (part of the run names) and what it changes.
struct AxisValue {
  std::string name;
  std::string where;  ///< file:line:col of its key, for messages about it
  /// init axis only: the pre-training method (ssl::method_names()) or "random".
  std::string method;
  /// init axis only: kRandom for "random" (no pre-training job), else kPretrained.
  InitType init = InitType::kPretrained;
  StageStrings set;  ///< overrides added to the jobs this value takes part in
  /// Base config files replacing `base` for the jobs of this value (empty: keep the base).
  std::string pretrain_config;
  std::string finetune_config;
  /// Placeholders {key} of base paths and overrides; {<axis>} is always the value's name.
  std::map<std::string, std::string> vars;
  /// pretrain_data only: images in the data set, for estimates before any job has run (0:
  /// unknown).
  std::int64_t images = 0;
};

struct SweepSettings {
  std::string name;  ///< defaults to the file's stem
  std::string output_dir = "runs";
  double lock_timeout_s = 600.0;  ///< a lock whose heartbeat is older than this is stale
  double heartbeat_s = 5.0;       ///< how often a runner refreshes its lock's mtime
  double poll_s = 5.0;            ///< how often a runner waiting for others looks again
};

struct SweepConfig {
  std::filesystem::path file;  ///< the sweep file (base paths are relative to its folder)
  SweepSettings sweep;
  /// Base config files of each stage (relative to the sweep file's folder, may use {vars}).
  std::string base_pretrain;
  std::string base_finetune;
  std::string base_evaluate;
  StageStrings set;  ///< overrides of every job of a stage
  std::vector<AxisValue> inits;
  std::vector<AxisValue> backbones;
  std::vector<AxisValue> pretrain_data;
  std::vector<AxisValue> finetune_data;
  std::vector<std::int64_t> budgets;
  std::int64_t folds = 5;
  std::vector<std::int64_t> seeds{0};
};

/// The axes a sweep file may hold under `axes:`.
const std::vector<std::string>& sweep_axes();

/// Reads and checks `file`; `output_dir` (when not empty) replaces sweep.output_dir. Throws
/// common::InputError listing every problem.
SweepConfig load_sweep_config(const std::filesystem::path& file, const std::string& output_dir);

}  // namespace cltci::config
