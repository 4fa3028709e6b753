// Where the typed config meets the library: each function turns one config section into the
// options struct of the layer that needs it (layers below run/ never read configs).
#pragma once

#include "cltci/config/finetune_config.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/config/sections.h"
#include "cltci/data/augment.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/folds.h"
#include "cltci/data/loader.h"
#include "cltci/data/phantom.h"
#include "cltci/engine/segmentation_loss.h"
#include "cltci/engine/trainer.h"
#include "cltci/models/model_factory.h"
#include "cltci/ssl/method.h"

#include <c10/core/Device.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace cltci::run {

models::ModelSpec model_spec(const config::ModelConfig& model);

/// method.positives and its parameters as the loss reads them (the rule's name parsed here, once).
ssl::PositiveOptions positive_options(const config::MethodConfig& method);

/// The pre-training method the config describes over `dataset`: its size sizes PIRL's memory
/// bank, its acquisition times and studies feed the positive rules that read them.
ssl::MethodOptions method_options(const config::PretrainConfig& config,
                                  const data::CachedDataset& dataset);

data::AugmentOptions augment_options(const config::AugmentConfig& augment);

/// The loader of a run on `device`: data.workers and data.prefetch_batches, the augmentation's
/// ranges and where it runs (augment.placement), and pinned batches when the device is a GPU.
data::LoaderOptions loader_options(const config::DataConfig& data,
                                   const config::AugmentConfig& augment,
                                   data::LoaderMode mode,
                                   std::uint64_t seed,
                                   c10::Device device);

data::PhantomOptions phantom_options(const config::SourceConfig& source);

/// Optimizer, schedule, precision and checkpointing of the trainer (run_dir and device are the
/// caller's).
engine::TrainerOptions trainer_options(const config::RunConfig& run,
                                       const config::OptimConfig& optim);

/// The fine-tuning loss `finetune.loss` names (soft Dice added to the cross-entropy or not).
engine::SegmentationLossOptions segmentation_loss_options(config::FinetuneLoss loss);

/// The fold split's options (folds.group_by parsed into data::GroupBy).
data::FoldOptions fold_options(const config::FoldsConfig& folds);

/// The images `data.source` names, as the cache takes them, and the name of the store they are
/// cached under. Importer sources (folder, jsrt, ...) are imported into
/// `<cache_dir>/<type>-<name>/manifest.csv` first. Bad input throws common::InputError.
struct SourceImages {
  std::vector<data::SourceRecord> records;
  std::string store;  ///< `<cache_dir>/<store>-<image_size>.cache` holds them decoded
};
SourceImages source_images(const config::DataConfig& data);

/// The data set the config names (source_images), decoded once into `data.cache_dir` and reused
/// while its sources and preprocessing are unchanged. Bad input throws common::InputError.
data::CachedDataset open_dataset(const config::DataConfig& data);

}  // namespace cltci::run
