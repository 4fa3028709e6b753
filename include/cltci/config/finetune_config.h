// Configuration of the `finetune` executable: the paper's 5-fold x M protocol.
#pragma once

#include "cltci/config/sections.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::config {

/// init.type: where the fine-tuned encoder's weights come from.
enum class InitType { kRandom, kPretrained, kImagenet };
/// loss: cross-entropy alone, or plus the soft Dice loss.
enum class FinetuneLoss { kCe, kDiceCe };
/// validation.source: where the images that choose the epoch come from (ValidationConfig).
enum class ValidationSource { kNone, kBudget, kRest };

/// The YAML spellings, in enum order: "random", "pretrained", "imagenet".
const std::vector<std::string>& init_type_names();
/// "ce", "dice_ce".
const std::vector<std::string>& finetune_loss_names();
/// "none", "budget", "rest".
const std::vector<std::string>& validation_source_names();

const std::string& to_string(InitType type);
const std::string& to_string(FinetuneLoss loss);
const std::string& to_string(ValidationSource source);

struct InitConfig {
  InitType type = InitType::kRandom;
  std::string pretrain_run;
  std::string weights;
};

struct FoldsConfig {
  std::int64_t k = 5;
  std::int64_t seed = 12345;
  std::string group_by = "patient";
};

/// Model selection without looking at the test fold: whole patients held out from training to
/// choose the epoch whose weights become the cell's model. `none` keeps the last epoch's.
struct ValidationConfig {
  /// none: the last epoch | budget: patients taken out of the M images (trains on fewer) |
  /// rest: patients of the training folds outside the M images (labels beyond the budget).
  ValidationSource source = ValidationSource::kNone;
  double fraction = 0.2;   ///< share of the source's images, rounded, in whole patients
  std::int64_t every = 1;  ///< score every N epochs (the last epoch always)
};

struct FinetuneConfig {
  RunConfig run;
  DataConfig data;
  ModelConfig model;
  InitConfig init;
  AugmentConfig augment = finetune_augment_defaults();
  OptimConfig optim = finetune_optim_defaults();
  FoldsConfig folds;
  std::vector<std::int64_t> budgets{10, 20};
  /// Fine-tuning replicates per (fold, M) cell: each re-draws the initial head/decoder, the
  /// batch order and the augmentation; the folds and the M images stay fixed, so two
  /// initialisations are compared on matched (fold, seed) cells.
  std::vector<std::int64_t> seeds{0};
  FinetuneLoss loss = FinetuneLoss::kCe;
  ValidationConfig validation;

  /// The authors' fine-tuning augmentation: rotation +-30 deg, no gamma (reference sec. 6).
  static AugmentConfig finetune_augment_defaults();
  /// Adam, lr 1e-4 (authors' commands), cosine to 1e-6, no warm-up, 200 epochs, batch 10.
  static OptimConfig finetune_optim_defaults();
};

void describe(Schema& schema, InitConfig& config);
void describe(Schema& schema, FoldsConfig& config);
void describe(Schema& schema, ValidationConfig& config);
void describe(Schema& schema, FinetuneConfig& config);
void validate(const FinetuneConfig& config, Problems& problems);

FinetuneConfig load_finetune_config(const std::filesystem::path& file,
                                    const std::vector<std::string>& overrides);
std::string dump(const FinetuneConfig& config);

}  // namespace cltci::config
