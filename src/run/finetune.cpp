#include "cltci/run/finetune.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/json_writer.h"
#include "cltci/data/folds.h"
#include "cltci/data/loader.h"
#include "cltci/data/samplers.h"
#include "cltci/dist/group.h"
#include "cltci/engine/segmentation_loss.h"
#include "cltci/models/memory_format.h"
#include "cltci/models/resnet.h"
#include "cltci/models/weights_io.h"
#include "cltci/run/bridges.h"
#include "cltci/run/finetune_cells.h"
#include "cltci/run/finetune_validation.h"
#include "cltci/run/pretrain.h"
#include "cltci/run/segmentation_model.h"

#include <opencv2/core/utility.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

/// One (fold, M) cell's training: the M labelled images, jointly augmented; with validation
/// images, each scored epoch's weights are kept when they beat the earlier ones.
class SegmentationTask : public engine::TrainingTask {
 public:
  SegmentationTask(const data::CachedDataset& dataset,
                   std::vector<std::int64_t> train,
                   std::vector<std::int64_t> validation,
                   SegmentationModel& model,
                   const config::FinetuneConfig& config,
                   c10::Device device,
                   std::uint64_t seed,
                   const dist::Group& group,
                   const FinetuneHooks& hooks)
      : dataset_(dataset),
        source_(dataset),
        train_(std::move(train)),
        validation_(std::move(validation)),
        model_(model),
        config_(config),
        loss_options_(segmentation_loss_options(config.loss)),
        device_(device),
        seed_(seed),
        batch_size_(std::min<std::int64_t>(config.optim.batch_size,
                                           static_cast<std::int64_t>(train_.size()))),
        rank_(group.rank()),
        world_(group.world_size()),
        hooks_(hooks) {
    if (batch_size_ < world_) {
      throw common::InputError("optim.batch_size: the global batch of " +
                               std::to_string(batch_size_) + " images (at most M) is smaller " +
                               "than the " + std::to_string(world_) +
                               " processes of this run; use fewer processes");
    }
    loader_ = std::make_unique<data::Loader>(
        source_, loader_options(config.data, config.augment, data::LoaderMode::kSegmentation, seed,
                                device_));
    model_.net->to(device_);
    if (config.run.channels_last) models::use_channels_last(*model_.net);
    // After the moves above: the selector holds the network's tensors as they will train.
    if (!validation_.empty()) selector_.emplace(*model_.net);
  }

  /// The epoch selection, when the cell has validation images.
  const std::optional<EpochSelector>& selector() const { return selector_; }
  void restore_selected() {
    if (selector_) selector_->restore_best();
  }

  std::vector<torch::Tensor> trainable_parameters() override { return model_.net->parameters(); }
  // The last batch may be short rather than dropped: with M below the batch size the authors'
  // drop_last loader trained nothing at all (cl-tci-reference.md sec. 6).
  // Data parallel: each rank takes its slice of every global batch; a short last batch with
  // fewer images than processes is dropped (no rank may go without images).
  std::int64_t steps_per_epoch() const override {
    const auto images = static_cast<std::int64_t>(train_.size());
    return images / batch_size_ + (images % batch_size_ >= world_ ? 1 : 0);
  }
  std::int64_t samples_per_step() const override { return batch_size_; }
  std::vector<torch::Tensor> replicated_tensors() override {
    std::vector<torch::Tensor> tensors = model_.net->parameters();
    for (const auto& buffer : model_.net->buffers()) tensors.push_back(buffer);
    return tensors;
  }
  void begin_epoch(std::int64_t epoch, std::int64_t first_step) override {
    const auto order = data::shuffled_epoch(train_, seed_, epoch);
    data::EpochShard shard =
        data::shard_epoch(data::make_batches(order, batch_size_, false), rank_, world_, 1, false);
    global_sizes_ = std::move(shard.global_sizes);
    loader_->start_epoch(epoch, std::move(shard.batches), std::move(shard.first_positions));
    for (std::int64_t skipped = 0; skipped < first_step; ++skipped) loader_->next();
  }
  torch::Tensor forward_step(std::int64_t epoch, std::int64_t step) override {
    const auto gathered = loader_->next();
    TORCH_CHECK(gathered.has_value(), "finetune: the loader ran out of batches at epoch ", epoch,
                " step ", step);
    const data::LoaderBatch batch = loader_->to_device(*gathered, device_);
    const auto image = models::channels_last_input(batch.image, config_.run.channels_last);
    const auto& mask = batch.mask;
    if (hooks_.before_step) hooks_.before_step(epoch * steps_per_epoch() + step, image, mask);
    const auto logits = model_.net->forward(image);
    auto loss = engine::segmentation_loss(logits, mask, loss_options_);
    if (world_ > 1) {
      // Slices may differ by an image: weighting each rank's mean by its share makes the
      // averaged gradient the global batch's mean.
      const auto global = static_cast<double>(global_sizes_.at(static_cast<std::size_t>(step)));
      loss = loss * (static_cast<double>(mask.size(0) * world_) / global);
    }
    return loss;
  }
  std::vector<std::string> metric_columns() const override {
    if (!selector_) return {};
    return {"val_dice"};
  }
  std::vector<double> end_epoch(std::int64_t epoch, double /*mean_loss*/) override {
    if (!selector_) return {};
    const std::int64_t done = epoch + 1;  // 1-based, as metrics.csv counts
    if (done % config_.validation.every != 0 && done != config_.optim.epochs) {
      return {std::numeric_limits<double>::quiet_NaN()};
    }
    const double dice = validation_dice(*model_.net, dataset_, validation_, config_.model.classes,
                                        device_, config_.optim.batch_size);
    const bool best = selector_->record(done, dice);
    spdlog::info("[finetune] epoch {} validation Dice {:.4f}{}", done, dice,
                 best ? " (best so far)"
                      : fmt::format(" (best {:.4f} at epoch {})", selector_->best_dice(),
                                    selector_->best_epoch()));
    return {dice};
  }
  // The selection's state travels in the checkpoint, so a resumed cell keeps the best-so-far
  // weights of the epochs it will not run again.
  void save_state(torch::serialize::OutputArchive& archive) override {
    model_.net->save(archive);
    if (selector_) {
      torch::serialize::OutputArchive selection;
      selector_->save(selection);
      archive.write("selection", selection);
    }
  }
  void load_state(torch::serialize::InputArchive& archive) override {
    model_.net->load(archive);
    if (selector_) {
      torch::serialize::InputArchive selection;
      archive.read("selection", selection);
      selector_->load(selection);
    }
  }
  void set_training(bool training) override { model_.net->train(training); }

 private:
  const data::CachedDataset& dataset_;
  data::CachedSource source_;
  std::vector<std::int64_t> train_;
  std::vector<std::int64_t> validation_;
  SegmentationModel& model_;
  const config::FinetuneConfig& config_;
  engine::SegmentationLossOptions loss_options_;
  c10::Device device_;
  std::uint64_t seed_;
  std::int64_t batch_size_;
  int rank_ = 0;
  int world_ = 1;
  const FinetuneHooks& hooks_;
  std::vector<std::int64_t> global_sizes_;
  std::unique_ptr<data::Loader> loader_;
  std::optional<EpochSelector> selector_;
};

/// A Dice with every digit (%.17g), so the recorded one can be compared exactly.
const common::JsonNumber kEveryDigit = common::JsonNumber::significant(17);
/// A loss or rate: std::ostream's default 6 significant digits.
const common::JsonNumber kFigure = common::JsonNumber::significant(6);

/// The cell summary's "validation" member: how the exported model's epoch was chosen.
void write_validation_json(common::JsonWriter& json,
                           const config::FinetuneConfig& config,
                           const data::CachedDataset& dataset,
                           const Cell& cell,
                           const EpochSelector& selector) {
  constexpr auto one_line = common::JsonWriter::Layout::kInline;
  json.key("validation").begin_object();
  json.member("rule", config::to_string(config.validation.source));
  json.member("fraction", config.validation.fraction, kEveryDigit);
  json.member("every", config.validation.every);
  json.member("score", "pooled Dice, mean of the lung classes");
  std::set<std::string> patients;
  json.key("images").begin_array(one_line);
  for (const std::int64_t image : cell.validation) {
    json.value(dataset.name(image));
    patients.insert(dataset.patient_id(image));
  }
  json.end_array();
  json.key("patients").begin_array(one_line);
  for (const std::string& patient : patients) json.value(patient);
  json.end_array();
  json.member("selected_epoch", selector.best_epoch());
  json.member("selected_dice", selector.best_dice(), kEveryDigit);
  json.member("last_epoch", selector.last_epoch());
  json.member("last_epoch_dice", selector.last_dice(), kEveryDigit);
  json.end_object();
}

/// The encoder weights of init.pretrain_run; checked before anything is written.
fs::path pretrained_encoder_file(const config::FinetuneConfig& config) {
  fs::path weights = fs::path(config.init.pretrain_run) / kEncoderFile;
  if (!fs::exists(weights)) {
    throw common::InputError("init.pretrain_run: " + weights.string() + " not found (is '" +
                             config.init.pretrain_run + "' a finished pretrain run?)");
  }
  return weights;
}

/// A fresh network with the encoder initialised as init.type says.
SegmentationModel initial_model(const config::FinetuneConfig& config) {
  SegmentationModel model;
  model.spec = model_spec(config.model);
  model.image_size = static_cast<int>(config.data.image_size);
  model.net = models::make_segmentation_net(model.spec);
  if (config.init.type == config::InitType::kPretrained) {
    const fs::path weights = pretrained_encoder_file(config);
    const auto report = models::import_weights(*model.net->encoder(), weights);
    spdlog::debug("[finetune] encoder from {}: {}", weights.string(), report.summary());
  } else if (config.init.type == config::InitType::kImagenet) {
    auto resnet = std::dynamic_pointer_cast<models::ResNetImpl>(model.net->encoder());
    if (!resnet) throw common::InputError("init.type: imagenet weights need the ResNet-50 encoder");
    models::import_torchvision_resnet(*resnet, config.init.weights);
  }
  return model;
}

}  // namespace

int finetune(const config::FinetuneConfig& config,
             const RunOptions& options,
             const FinetuneHooks& hooks) {
  cv::setNumThreads(0);  // OpenCV's own pool would compete with the loader's workers
  // Everything that can reject the input runs before open_run: a bad encoder file or manifest
  // must neither touch a run being overwritten nor leave a half-made directory. The initial
  // model is built once here because that reads (and so checks) init.pretrain_run's weights.
  // The run directory is checked first: a bad --output costs no cache build.
  const std::string effective_config = config::dump(config);
  const std::shared_ptr<dist::Group> group = join_group(config.run);
  // Data parallel: rank 0 checks the run and builds the cache, then the others open it.
  std::optional<data::CachedDataset> opened;
  on_main_first(*group, [&] {
    if (group->main()) check_run(config.run, effective_config, options);
    initial_model(config);
    opened.emplace(open_dataset(config.data));
  });
  const data::CachedDataset& dataset = *opened;
  const auto context = open_run(config.run, effective_config, options, group);
  if (context.state == common::RunState::kFinished) {
    spdlog::info("[finetune] {} is finished; nothing to do (--overwrite to start over)",
                 context.directory.string());
    return 0;
  }
  // Writes splits.json, or checks the one of a resumed run; an InputError here unwinds through
  // the context, which removes the fresh directory again (and restores an overwritten run).
  // The other ranks read and check rank 0's.
  std::optional<CellPlan> planned;
  on_main_first(*group, [&] { planned.emplace(plan_cells(dataset, config, context.directory)); });
  const CellPlan& plan = *planned;
  context.commit();

  std::vector<std::string> finished;
  for (const auto& cell : plan.cells) {
    const fs::path cell_dir = context.directory / cell.directory;
    // Rank 0's view of what is done decides for every rank.
    if (group->broadcast_value(group->main() && fs::exists(cell_dir / kCellSummaryFile)) != 0) {
      spdlog::info("[finetune] {} done already; skipped", cell.directory);
      finished.push_back(cell.directory);
      continue;
    }
    spdlog::info(
        "[finetune] fold {} M={} seed {}: {} training images, {} test images{}", cell.fold,
        cell.budget, cell.seed, cell.train.size(),
        plan.folds.test(static_cast<int>(cell.fold)).size(),
        cell.validation.empty()
            ? std::string()
            : fmt::format(", {} validation images of {} patient(s) ({})", cell.validation.size(),
                          cell.validation_patients, config::to_string(config.validation.source)));
    const std::uint64_t seed = cell_seed(context.seed, cell);
    torch::manual_seed(seed);  // same initial head for a cell whatever ran before it
    auto model = initial_model(config);
    SegmentationTask task(dataset, cell.train, cell.validation, model, config, context.device, seed,
                          *group, hooks);
    auto trainer = trainer_options(config.run, config.optim);
    trainer.run_dir = cell_dir;
    trainer.device = context.device;
    trainer.group = group;
    const auto result = engine::train(task, trainer);
    if (!group->main()) {
      finished.push_back(cell.directory);
      continue;
    }
    // The exported model is the selected epoch's (the last one's without validation).
    task.restore_selected();
    model.net->to(torch::kCPU);
    save_segmentation_model(model, cell_dir / kModelFile);
    common::JsonWriter summary;
    summary.begin_object();
    summary.member("fold", cell.fold).member("budget", cell.budget).member("seed", cell.seed);
    summary.key("train_images").begin_array(common::JsonWriter::Layout::kInline);
    for (const std::int64_t image : cell.train) summary.value(dataset.name(image));
    summary.end_array();
    summary.member("epochs", result.epochs_done);
    summary.member("final_loss", result.last_loss, kFigure);
    summary.member("images_per_second", result.samples_per_second, kFigure);
    if (const auto& selector = task.selector()) {
      write_validation_json(summary, config, dataset, cell, *selector);
      spdlog::info(
          "[finetune] fold {} M={} seed {}: exported epoch {} of {} (validation Dice {:.4f}, last "
          "epoch {:.4f}; {} images of {} patient(s), {})",
          cell.fold, cell.budget, cell.seed, selector->best_epoch(), result.epochs_done,
          selector->best_dice(), selector->last_dice(), cell.validation.size(),
          cell.validation_patients, config::to_string(config.validation.source));
    }
    summary.member("model", kModelFile);
    summary.end_object();
    common::write_file_atomic(cell_dir / kCellSummaryFile, std::string_view(summary.text()));
    spdlog::info("[finetune] fold {} M={} seed {}: loss {:.4f}, {:.1f} img/s", cell.fold,
                 cell.budget, cell.seed, result.last_loss, result.samples_per_second);
    finished.push_back(cell.directory);
  }

  if (!group->main()) {
    group->barrier(std::chrono::hours(1));  // the job ends when rank 0 has written its summary
    return 0;
  }
  constexpr auto one_line = common::JsonWriter::Layout::kInline;
  common::JsonWriter summary;
  summary.begin_object();
  summary.member("initialisation", initialisation_name(config));
  summary.member("arch", config.model.arch);
  summary.member("folds", config.folds.k);
  summary.key("budgets").begin_array(one_line);
  for (const auto budget : config.budgets) summary.value(budget);
  summary.end_array();
  summary.key("seeds").begin_array(one_line);
  for (const auto seed : config.seeds) summary.value(seed);
  summary.end_array();
  summary.key("cells").begin_array(one_line);
  for (const std::string& cell : finished) summary.value(cell);
  summary.end_array();
  summary.end_object();
  common::write_file_atomic(context.directory / common::kRunSummaryFile,
                            std::string_view(summary.text()));
  spdlog::info("[finetune] {} cells written under {}", finished.size(), context.directory.string());
  group->barrier(std::chrono::hours(1));
  return 0;
}

}  // namespace cltci::run
