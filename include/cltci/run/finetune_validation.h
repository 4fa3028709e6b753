// Model selection for `finetune` without looking at the test fold (issue #10 item 5): whole
// patients held out from a cell's training part score the model after every
// `validation.every` epochs, and the best-scoring epoch's weights become the cell's model.
//
// Two sources of validation images (`validation.source`):
// - budget (the primary rule): patients taken out of the M labelled images, so the model trains
//   on fewer than M but uses no label outside its budget — the honest reading of "M labels";
// - rest: patients of the training folds that have no image among the M. The model keeps all M
//   images, but the choice of epoch uses labels the budget does not grant, so its Dice is not an
//   M-label result; it is there to measure what the budget rule costs.
#pragma once

#include "cltci/config/finetune_config.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/models/encoder.h"

#include <c10/core/Device.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cltci::run {

struct ValidationSplit {
  std::vector<std::int64_t> train;       ///< data set indices the model trains on, ascending
  std::vector<std::int64_t> validation;  ///< data set indices the epoch is chosen on, ascending
  std::int64_t patients = 0;             ///< distinct patients of `validation`
};

/// The validation split of one (fold, M) cell. `budget_images` are the M images,
/// `fold_train_images` the fold's whole training part (a superset of them), `patient_ids` the
/// patient of every data set index. Whole patients of the source's pool are taken, in an order
/// seeded by (seed, fold, M) only, until they hold at least round(fraction x pool) images; so
/// every seed replicate of a cell validates on the same images, and no patient is on both sides.
/// source none: train = budget_images, no validation. Throws common::InputError naming
/// validation.fraction, with the numbers, when a side would be empty.
ValidationSplit split_validation(const std::vector<std::int64_t>& budget_images,
                                 const std::vector<std::int64_t>& fold_train_images,
                                 const std::vector<std::string>& patient_ids,
                                 const config::ValidationConfig& config,
                                 std::uint64_t seed,
                                 std::int64_t fold,
                                 std::int64_t budget);

/// The selection score: the mean over the lung classes (1 .. classes-1) of the Dice pooled over
/// `images` (engine::count_classes summed, then engine::dice), on un-augmented images, without
/// gradients. Leaves `net` in eval mode.
double validation_dice(models::SegmentationNet& net,
                       const data::CachedDataset& dataset,
                       const std::vector<std::int64_t>& images,
                       std::int64_t classes,
                       c10::Device device,
                       std::int64_t batch_size = 16);

/// Keeps the best-scoring epoch's weights (parameters and buffers) in memory, and saves them
/// into a checkpoint so that a resumed cell selects what an uninterrupted one does.
class EpochSelector {
 public:
  /// Starts with a copy of `net`'s current weights (so a fresh selector's checkpoint layout is
  /// the same as a used one's) and no epoch scored.
  explicit EpochSelector(models::SegmentationNet& net);

  /// Records epoch `epoch` (1-based, as in metrics.csv) with score `dice`; keeps a copy of the
  /// weights when it beats every earlier epoch (ties keep the earlier one). Returns whether it
  /// did.
  bool record(std::int64_t epoch, double dice);
  std::int64_t best_epoch() const { return best_epoch_; }  ///< 0: none scored yet
  double best_dice() const { return best_dice_; }
  std::int64_t last_epoch() const { return last_epoch_; }
  double last_dice() const { return last_dice_; }
  /// Copies the kept weights back into the network.
  void restore_best();

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  std::vector<torch::Tensor> live_;  // the network's parameters, then its buffers
  std::vector<torch::Tensor> best_;  // their copies at the best epoch
  std::int64_t best_epoch_ = 0;
  double best_dice_ = -1.0;
  std::int64_t last_epoch_ = 0;
  double last_dice_ = -1.0;
};

}  // namespace cltci::run
