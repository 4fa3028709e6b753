#include "cltci/run/bridges.h"

#include "cltci/common/error.h"
#include "cltci/data/batch_augment.h"
#include "cltci/data/dataset_from_manifest.h"
#include "cltci/data/importer.h"
#include "cltci/data/manifest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

/// The enumerator `text` names in `names` (its owner's registry, in declaration order). The
/// schema's choice list already refused any other text; this guards a list that drifted apart.
template <typename Enum>
Enum parse_choice(const std::vector<std::string>& names, const std::string& text, const char* key) {
  const auto found = std::find(names.begin(), names.end(), text);
  if (found == names.end()) {
    throw common::InputError(std::string(key) + ": unknown choice '" + text + "'");
  }
  return static_cast<Enum>(found - names.begin());
}

}  // namespace

models::ModelSpec model_spec(const config::ModelConfig& model) {
  models::ModelSpec spec;
  spec.arch = model.arch;
  spec.in_channels = model.in_channels;
  spec.classes = model.classes;
  spec.base_channels = model.base_channels;
  spec.depth = model.depth;
  spec.norm = model.norm;
  spec.output_stride = model.output_stride;
  spec.aspp_rates = model.aspp_rates;
  spec.aspp_separable = model.aspp_separable;
  return spec;
}

ssl::PositiveOptions positive_options(const config::MethodConfig& method) {
  ssl::PositiveOptions options;
  options.rule = parse_choice<ssl::PositiveRule>(ssl::positive_rule_names(), method.positives,
                                                 "method.positives");
  options.max_days = method.max_days;
  options.time_scale_days = method.time_scale_days;
  return options;
}

ssl::MethodOptions method_options(const config::PretrainConfig& config,
                                  const data::CachedDataset& dataset) {
  const std::int64_t dataset_size = dataset.size();
  ssl::MethodOptions options;
  const auto& m = config.method;
  options.name = m.name;
  options.temperature = m.temperature;
  options.base_temperature = m.base_temperature;
  options.embedding_dim = m.embedding_dim;
  options.queue_size = m.queue_size;
  options.momentum = m.momentum;
  options.shuffle_bn = m.shuffle_bn;
  options.pirl_negatives = m.pirl_negatives;
  options.pirl_bank_momentum = m.pirl_bank_momentum;
  options.loss_memory_bytes = static_cast<std::int64_t>(m.loss_memory_mib * 1024.0 * 1024.0);
  options.dataset_size = dataset_size;
  options.image_size = config.data.image_size;
  options.seed = static_cast<std::uint64_t>(config.run.seed);
  options.positives = positive_options(m);
  if (options.positives.needs_days()) options.image_days = dataset.image_days();
  if (options.positives.needs_studies()) options.image_studies = dataset.study_indices();
  return options;
}

data::AugmentOptions augment_options(const config::AugmentConfig& augment) {
  data::AugmentOptions options;
  options.rotation_deg = augment.rotation_deg;
  options.translate = augment.translate;
  options.crop_area_min = augment.crop_area[0];
  options.crop_area_max = augment.crop_area[1];
  options.crop_aspect_min = augment.crop_aspect[0];
  options.crop_aspect_max = augment.crop_aspect[1];
  options.contrast_min = augment.contrast[0];
  options.contrast_max = augment.contrast[1];
  options.brightness_min = augment.brightness[0];
  options.brightness_max = augment.brightness[1];
  options.gamma_min = augment.gamma[0];
  options.gamma_max = augment.gamma[1];
  options.flip_probability = augment.hflip ? 0.5 : 0.0;
  return options;
}

data::LoaderOptions loader_options(const config::DataConfig& data,
                                   const config::AugmentConfig& augment,
                                   data::LoaderMode mode,
                                   std::uint64_t seed,
                                   c10::Device device) {
  data::LoaderOptions options;
  options.mode = mode;
  options.workers = static_cast<int>(data.workers);
  options.prefetch = static_cast<int>(data.prefetch_batches);
  options.seed = seed;
  options.augment = augment_options(augment);
  const auto placement = parse_choice<data::AugmentPlacement>(
      data::augment_placement_names(), augment.placement, "augment.placement");
  options.defer_augmentation = data::augments_on_device(placement, device);
  options.pin_memory = device.is_cuda();
  spdlog::info("[data] augmentation {}{}",
               options.defer_augmentation
                   ? "on " + device.str() + ", batched"
                   : "in " + std::to_string(options.workers) + " loader thread(s)",
               options.pin_memory ? ", batches pinned for asynchronous copies" : "");
  return options;
}

data::PhantomOptions phantom_options(const config::SourceConfig& source) {
  data::PhantomOptions options;
  options.version = static_cast<int>(source.phantom_version);
  options.seed = static_cast<std::uint64_t>(source.phantom_seed);
  options.patients = static_cast<int>(source.patients);
  options.min_images = static_cast<int>(source.images_per_patient[0]);
  options.max_images = static_cast<int>(source.images_per_patient[1]);
  options.height = static_cast<int>(source.native_size[0]);
  options.width = static_cast<int>(source.native_size[1]);
  return options;
}

engine::TrainerOptions trainer_options(const config::RunConfig& run,
                                       const config::OptimConfig& optim) {
  engine::TrainerOptions options;
  options.epochs = optim.epochs;
  options.checkpoint_every = run.checkpoint_every;
  options.log_every = run.log_every;
  options.warmup_epochs = optim.warmup_epochs;
  options.min_lr = optim.min_lr;
  options.schedule = parse_choice<engine::LrSchedule>(engine::lr_schedule_names(), optim.schedule,
                                                      "optim.schedule");
  options.grad_clip = optim.grad_clip;
  options.precision =
      parse_choice<engine::Precision>(engine::precision_names(), run.precision, "run.precision");
  options.optimizer.kind =
      parse_choice<engine::OptimizerKind>(engine::optimizer_names(), optim.name, "optim.name");
  options.optimizer.lr = optim.lr;
  options.optimizer.momentum = optim.momentum;
  options.optimizer.weight_decay = optim.weight_decay;
  options.optimizer.beta1 = optim.betas[0];
  options.optimizer.beta2 = optim.betas[1];
  return options;
}

engine::SegmentationLossOptions segmentation_loss_options(config::FinetuneLoss loss) {
  engine::SegmentationLossOptions options;
  options.soft_dice = loss == config::FinetuneLoss::kDiceCe;
  return options;
}

data::FoldOptions fold_options(const config::FoldsConfig& folds) {
  static const std::vector<std::string> group_names{data::to_string(data::GroupBy::kPatient),
                                                    data::to_string(data::GroupBy::kImage)};
  data::FoldOptions options;
  options.folds = static_cast<int>(folds.k);
  options.group_by = parse_choice<data::GroupBy>(group_names, folds.group_by, "folds.group_by");
  options.seed = static_cast<std::uint64_t>(folds.seed);
  return options;
}

SourceImages source_images(const config::DataConfig& data) {
  SourceImages images;
  const auto& source = data.source;
  if (source.type == config::kPhantomSource) {
    const auto options = phantom_options(source);
    options.validate();
    images.records = data::phantom_sources(options);
    images.store = "phantom-" + std::to_string(options.fingerprint());
  } else if (source.type == config::kManifestSource) {
    const auto manifest = data::load_manifest(source.path);
    images.records = data::manifest_sources(manifest);
    images.store = "manifest-" + fs::path(source.path).stem().string();
  } else {
    data::ImportOptions import;
    import.kind = source.type;
    import.root = source.path;
    import.allow_skips = source.allow_skips;
    import.frontal_only = source.frontal_only;
    const std::string name = source.type + "-" + fs::path(source.path).filename().string();
    import.output_dir = fs::path(data.cache_dir) / name;
    auto result = data::import_dataset(import);
    spdlog::info("[data] imported {}:\n{}", source.path, result.report.to_text());
    result.manifest.file = import.output_dir / "manifest.csv";
    data::save_manifest(result.manifest, result.manifest.file);
    images.records = data::manifest_sources(result.manifest);
    images.store = name;
  }
  if (images.records.empty()) throw common::InputError("data.source: the data set has no images");
  return images;
}

data::CachedDataset open_dataset(const config::DataConfig& data) {
  const SourceImages images = source_images(data);
  data::CacheOptions cache;
  cache.image_size = static_cast<int>(data.image_size);
  cache.residency = parse_choice<data::CacheResidency>(
      data::cache_residency_names(), data.cache_residency, "data.cache_residency");
  const fs::path file =
      fs::path(data.cache_dir) / (images.store + "-" + std::to_string(data.image_size) + ".cache");
  data::CacheOutcome outcome{};
  auto dataset = data::load_or_build_cache(file, images.records, cache, &outcome);
  spdlog::info("[data] {} images of {} patients, {}x{} ({} {}, {})", dataset.size(),
               dataset.patients(), data.image_size, data.image_size,
               outcome == data::CacheOutcome::kReused ? "reused" : "built", file.string(),
               dataset.streamed() ? "streamed" : "in memory");
  return dataset;
}

}  // namespace cltci::run
