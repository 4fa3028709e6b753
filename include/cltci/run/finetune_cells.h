// The cells of the paper's protocol, shared by `finetune` (which trains them) and `evaluate`
// (which scores them): every fold of the split times every label budget M times every
// fine-tuning seed, each in its own directory `fold<k>/m<M>/seed<s>` of the fine-tuning run.
#pragma once

#include "cltci/config/finetune_config.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/folds.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::run {

inline constexpr const char* kModelFile = "model.safetensors";
inline constexpr const char* kCellSummaryFile = "summary.json";
inline constexpr const char* kSplitsFile = "splits.json";

struct Cell {
  std::int64_t fold = 0;
  std::int64_t budget = 0;  ///< M
  std::int64_t seed = 0;    ///< fine-tuning replicate (config seeds)
  std::string directory;    ///< relative to the run, e.g. "fold0/m10/seed0"
  /// Data set indices the model trains on: the M labelled images, less the validation
  /// patients' under validation.source budget.
  std::vector<std::int64_t> train;
  /// Data set indices the epoch is chosen on (validation.source; empty: the last epoch), never
  /// of the test fold; the same for every seed replicate of a (fold, M) cell.
  std::vector<std::int64_t> validation;
  std::int64_t validation_patients = 0;
};

struct CellPlan {
  std::vector<std::int64_t> labelled;  ///< data set indices of the images with label maps
  data::Folds folds;                   ///< over `labelled` (fold_of_image[i] is labelled[i]'s)
  std::vector<Cell> cells;

  /// Data set indices of fold `fold`'s held-out images.
  std::vector<std::int64_t> test(std::int64_t fold) const;
};

/// Splits the labelled images into folds (written once to `<run_dir>/splits.json`, reused and
/// checked after), draws the nested M subsets and, with validation.source set, each cell's
/// validation patients (split_validation). Problems (no labels, more folds than patients, M
/// larger than a fold's training part, a validation split with an empty side) are
/// common::InputError naming the key.
CellPlan plan_cells(const data::CachedDataset& dataset,
                    const config::FinetuneConfig& config,
                    const std::filesystem::path& run_dir);

/// The seed of a cell's training (initial weights, batch order, augmentation): a function of
/// the run seed and the cell's (fold, M, seed) only, so a cell trains the same whatever ran
/// before it and whichever process runs it.
std::uint64_t cell_seed(std::uint64_t run_seed, const Cell& cell);

/// The row name of a fine-tuning run in the paper's table: "random", "imagenet", or the
/// pre-training run's name.
std::string initialisation_name(const config::FinetuneConfig& config);

}  // namespace cltci::run
