#include "cltci/run/finetune_cells.h"

#include "cltci/common/error.h"
#include "cltci/common/seeding.h"
#include "cltci/data/folds.h"
#include "cltci/data/samplers.h"
#include "cltci/run/bridges.h"
#include "cltci/run/finetune_validation.h"

#include <utility>

namespace cltci::run {
namespace fs = std::filesystem;

std::vector<std::int64_t> CellPlan::test(std::int64_t fold) const {
  std::vector<std::int64_t> out;
  for (const auto position : folds.test(static_cast<int>(fold))) out.push_back(labelled[position]);
  return out;
}

CellPlan plan_cells(const data::CachedDataset& dataset,
                    const config::FinetuneConfig& config,
                    const fs::path& run_dir) {
  CellPlan plan;
  std::vector<std::string> patients;
  for (std::int64_t i = 0; i < dataset.size(); ++i) {
    if (!dataset.has_labels(i)) continue;
    plan.labelled.push_back(i);
    patients.push_back(dataset.patient_id(i));
  }
  if (plan.labelled.empty()) {
    throw common::InputError(
        "data.source: no image of the data set has a label map; fine-tuning needs masks");
  }
  const data::FoldOptions options = fold_options(config.folds);
  try {
    plan.folds = data::load_or_create_folds(run_dir / kSplitsFile, patients, options);
  } catch (const common::InputError& error) {
    throw common::InputError("folds: " + std::string(error.what()));
  }
  for (std::int64_t fold = 0; fold < config.folds.k; ++fold) {
    std::vector<std::int64_t> train_positions;
    std::vector<std::int64_t> fold_train;
    for (const auto position : plan.folds.train(static_cast<int>(fold))) {
      train_positions.push_back(position);
      fold_train.push_back(plan.labelled[position]);
    }
    for (const auto budget : config.budgets) {
      Cell cell;
      cell.fold = fold;
      cell.budget = budget;
      try {
        for (const auto position :
             data::labelled_subset(train_positions, budget, options.seed, static_cast<int>(fold))) {
          cell.train.push_back(plan.labelled[position]);
        }
      } catch (const common::InputError& error) {
        throw common::InputError("budgets: " + std::string(error.what()));
      }
      // Drawn from the fold's training part only, so no test-fold image can be chosen on.
      ValidationSplit split = split_validation(cell.train, fold_train, dataset.patient_ids(),
                                               config.validation, options.seed, fold, budget);
      cell.train = std::move(split.train);
      cell.validation = std::move(split.validation);
      cell.validation_patients = split.patients;
      for (const auto seed : config.seeds) {
        Cell replicate = cell;
        replicate.seed = seed;
        replicate.directory = "fold" + std::to_string(fold) + "/m" + std::to_string(budget) +
                              "/seed" + std::to_string(seed);
        plan.cells.push_back(std::move(replicate));
      }
    }
  }
  return plan;
}

std::uint64_t cell_seed(std::uint64_t run_seed, const Cell& cell) {
  return common::derive_seed(
      run_seed, {0x63656c6cULL, static_cast<std::uint64_t>(cell.fold),
                 static_cast<std::uint64_t>(cell.budget), static_cast<std::uint64_t>(cell.seed)});
}

std::string initialisation_name(const config::FinetuneConfig& config) {
  if (config.init.type == config::InitType::kPretrained) {
    return fs::path(config.init.pretrain_run).lexically_normal().filename().string();
  }
  return config::to_string(config.init.type);
}

}  // namespace cltci::run
