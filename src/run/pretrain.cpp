// `pretrain`: config → data set → method → loader → trainer → exported encoder + summary.
#include "cltci/run/pretrain.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/json_writer.h"
#include "cltci/common/run_directory.h"
#include "cltci/common/seeding.h"
#include "cltci/data/loader.h"
#include "cltci/data/samplers.h"
#include "cltci/dist/group.h"
#include "cltci/engine/trainer.h"
#include "cltci/models/memory_format.h"
#include "cltci/models/weights_io.h"
#include "cltci/run/bridges.h"
#include "cltci/run/pretrain_positives.h"
#include "cltci/run/pretrain_probe.h"
#include "cltci/ssl/method.h"

#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cltci::run {
namespace fs = std::filesystem;
namespace {

/// Which images form each step's batch, for every epoch (a pure function of seed and epoch, so
/// a resumed run replays the same batches).
class BatchPlan {
 public:
  BatchPlan(const config::PretrainConfig& config,
            const data::CachedDataset& dataset,
            bool patient_batches,
            std::uint64_t seed,
            const dist::Group& group)
      : batch_size_(config.optim.batch_size),
        seed_(seed),
        rank_(group.rank()),
        world_(group.world_size()) {
    const std::int64_t images = dataset.size();
    if (patient_batches) {
      const std::int64_t k = config.method.images_per_patient;
      const std::int64_t p = batch_size_ / k;  // the config guarantees batch = P x K
      unit_ = k;  // ranks take whole patients, so a patient's positives stay on one rank
      if (p % world_ != 0) {
        throw common::InputError("optim.batch_size: " + std::to_string(batch_size_) + " = " +
                                 std::to_string(p) + " patients x " + std::to_string(k) +
                                 " images is the global batch, and its " + std::to_string(p) +
                                 " patients do not split equally over the " +
                                 std::to_string(world_) + " processes of this run");
      }
      if (p > dataset.patients()) {
        throw common::InputError(
            "optim.batch_size: " + std::to_string(batch_size_) + " = " + std::to_string(p) +
            " patients x " + std::to_string(k) + " images (method.images_per_patient), but the " +
            "data set has only " + std::to_string(dataset.patients()) + " patients");
      }
      std::map<std::int64_t, std::int64_t> per_patient;
      for (std::int64_t i = 0; i < images; ++i) ++per_patient[dataset.patient_index(i)];
      std::int64_t most = 0;
      for (const auto& entry : per_patient) most = std::max(most, entry.second);
      if (k > most) {
        // Allowed (the sampler repeats images, as different views), but worth knowing.
        spdlog::warn(
            "[pretrain] method.images_per_patient {} exceeds every patient's image count (at "
            "most {}): batches repeat images as extra views",
            k, most);
      }
      data::PatientBatchOptions options;
      options.patients_per_batch = p;
      options.images_per_patient = k;
      options.drop_last = true;  // every batch holds P x K images, as configured
      // A patient's K images are drawn so that they are positives of each other under the
      // window and study rules (the weighted rule weighs whichever images come).
      const ssl::PositiveOptions positives = positive_options(config.method);
      data::ImageTimes times;
      if (positives.rule == ssl::PositiveRule::kWindow) {
        options.window_days = positives.max_days;
        times.days = dataset.image_days();
      } else if (positives.rule == ssl::PositiveRule::kStudy) {
        options.same_study = true;
        times.study = dataset.study_indices();
      }
      sampler_.emplace(dataset.patient_indices(), options, seed, std::vector<std::int64_t>{},
                       times);
      steps_ = sampler_->batches_per_epoch();
    } else {
      if (batch_size_ % world_ != 0) {
        throw common::InputError("optim.batch_size: " + std::to_string(batch_size_) +
                                 " is the global batch and does not split equally over the " +
                                 std::to_string(world_) + " processes of this run");
      }
      if (batch_size_ > images) {
        throw common::InputError("optim.batch_size: " + std::to_string(batch_size_) +
                                 " is larger than the data set (" + std::to_string(images) +
                                 " images); lower it or add data");
      }
      all_.resize(static_cast<std::size_t>(images));
      std::iota(all_.begin(), all_.end(), std::int64_t{0});
      steps_ = images / batch_size_;  // the last, short batch is dropped (as the authors do)
    }
  }

  std::int64_t steps_per_epoch() const { return steps_; }
  std::int64_t batch_size() const { return batch_size_; }

  /// This rank's slices of epoch `epoch`'s global batches (the batches themselves for one
  /// process): every rank draws the same global epoch from the shared seed.
  data::EpochShard epoch(std::int64_t epoch) const {
    std::vector<data::Batch> batches =
        sampler_ ? sampler_->epoch(epoch)
                 : data::make_batches(data::shuffled_epoch(all_, seed_, epoch), batch_size_, true);
    return data::shard_epoch(batches, rank_, world_, unit_);
  }

 private:
  std::int64_t batch_size_;
  std::uint64_t seed_;
  int rank_ = 0;
  int world_ = 1;
  std::int64_t unit_ = 1;
  std::int64_t steps_ = 0;
  std::vector<std::int64_t> all_;
  std::optional<data::PatientBatchSampler> sampler_;
};

class PretrainTask final : public engine::TrainingTask {
 public:
  PretrainTask(ssl::Method& method,
               const BatchPlan& plan,
               data::Loader& loader,
               PretrainProbe& probe,
               PretrainPositives* positives,
               c10::Device device,
               bool channels_last,
               const PretrainHooks& hooks,
               bool main)
      : method_(method),
        plan_(plan),
        loader_(loader),
        probe_(probe),
        positives_(positives),
        device_(device),
        channels_last_(channels_last),
        hooks_(hooks),
        main_(main) {}

  std::vector<torch::Tensor> trainable_parameters() override {
    return method_.trainable_parameters();
  }
  std::vector<torch::Tensor> replicated_tensors() override {
    std::vector<torch::Tensor> tensors;
    for (const auto& entry : method_.modules()) {
      for (const auto& parameter : entry.second->parameters()) tensors.push_back(parameter);
      for (const auto& buffer : entry.second->buffers()) tensors.push_back(buffer);
    }
    return tensors;
  }
  std::int64_t steps_per_epoch() const override { return plan_.steps_per_epoch(); }
  std::int64_t samples_per_step() const override { return plan_.batch_size(); }

  void begin_epoch(std::int64_t epoch, std::int64_t first_step) override {
    // The loader seeds augmentations by position in the epoch, so a resumed epoch is started
    // whole and its first batches are discarded: they come out exactly as before the interrupt.
    data::EpochShard shard = plan_.epoch(epoch);
    loader_.start_epoch(epoch, std::move(shard.batches), std::move(shard.first_positions));
    for (std::int64_t s = 0; s < first_step; ++s) next_batch();
  }

  torch::Tensor forward_step(std::int64_t epoch, std::int64_t step) override {
    const data::LoaderBatch batch = loader_.to_device(next_batch(), device_);
    ssl::MethodBatch input;
    input.view1 = models::channels_last_input(batch.view1, channels_last_);
    input.view2 = models::channels_last_input(batch.view2, channels_last_);
    input.patient = batch.patient;
    input.index = batch.index;  // PIRL's bank indices are gathered on the CPU
    const std::int64_t global_step = epoch * plan_.steps_per_epoch() + step;
    if (hooks_.before_step) hooks_.before_step(global_step, input);
    return method_.loss(input, global_step);
  }

  void after_step() override { method_.after_step(); }
  std::vector<std::string> metric_columns() const override {
    std::vector<std::string> columns = PretrainProbe::columns();
    if (positives_ != nullptr) {
      for (std::string& column : PretrainPositives::columns()) columns.push_back(std::move(column));
    }
    return columns;
  }
  std::vector<double> end_epoch(std::int64_t epoch, double mean_loss) override {
    // Taken before the probe: the probe's forward passes are not training steps.
    std::vector<double> counts;
    if (positives_ != nullptr) counts = positives_->end_epoch(method_, epoch);
    // Rank 0 probes (and logs) for the run; the replicas are equal, so the others need not.
    if (!main_) return {};
    std::vector<double> values = probe_.end_epoch(method_, epoch, mean_loss);
    values.insert(values.end(), counts.begin(), counts.end());
    return values;
  }
  void save_state(torch::serialize::OutputArchive& archive) override {
    method_.save_state(archive);
  }
  void load_state(torch::serialize::InputArchive& archive) override { method_.load_state(archive); }
  void set_training(bool training) override { method_.train(training); }

 private:
  data::LoaderBatch next_batch() {
    auto batch = loader_.next();
    if (!batch) throw common::Error("pretrain: the loader ran out of batches within an epoch");
    return std::move(*batch);
  }

  ssl::Method& method_;
  const BatchPlan& plan_;
  data::Loader& loader_;
  PretrainProbe& probe_;
  PretrainPositives* positives_;
  c10::Device device_;
  bool channels_last_;
  const PretrainHooks& hooks_;
  bool main_;
};

/// The encoder's input size rule, checked before any work: an image side the encoder's feature
/// maps cannot line up with is a config error, not a crash in the first forward pass.
void check_image_size(const config::PretrainConfig& config, const models::Encoder& encoder) {
  const std::int64_t stride = encoder.output_stride();
  const std::int64_t size = config.data.image_size;
  if (size % stride != 0) {
    const std::int64_t up = (size + stride - 1) / stride * stride;
    throw common::InputError("data.image_size: " + std::to_string(size) + " is not a multiple of " +
                             std::to_string(stride) + ", the output stride of the " +
                             config.model.arch + " encoder (try " + std::to_string(up) + ")");
  }
}

/// The queue rule: a key stays in the queue for queue_size / B steps and its image comes back
/// about every N / B steps, so with queue_size > N - B the queue still holds an earlier key of
/// the very image being queried. For MoCo that key is a negative (the same image pushed away
/// from itself); for CL-TCI-MoCo it is a stale positive. Both make the loss misleading.
void check_queue_size(const config::PretrainConfig& config, std::int64_t images) {
  const auto& m = config.method;
  if (m.name != "moco" && m.name != "cltci_moco") return;
  const std::int64_t limit = images - config.optim.batch_size;
  if (m.queue_size > limit) {
    spdlog::warn(
        "[pretrain] method.queue_size {} exceeds the data set's {} images minus the batch {}: "
        "the queue holds earlier keys of the images being queried (stale {}); use at most {}",
        m.queue_size, images, config.optim.batch_size,
        m.name == "moco" ? "negatives of themselves" : "positives",
        std::max<std::int64_t>(limit, 1));
  }
}

/// The loss of metrics.csv's last row (when this process ran no step: resumed after the end).
double last_logged_loss(const fs::path& metrics) {
  std::ifstream in(metrics);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  std::istringstream row(last);
  std::string cell;
  for (int column = 0; column < 4 && std::getline(row, cell, ','); ++column) {
  }
  try {
    return std::stod(cell);
  } catch (const std::exception&) {
    return std::nan("");
  }
}

/// The summary's figures: 9 significant digits.
const common::JsonNumber kFigure = common::JsonNumber::significant(9);

void write_probe_json(common::JsonWriter& json,
                      const char* key,
                      const analysis::EmbeddingProbe& p) {
  json.key(key).begin_object(common::JsonWriter::Layout::kInline);
  json.member("top1", p.retrieval.top1, kFigure);
  json.member("top1_chance", p.retrieval.top1_chance, kFigure);
  json.member("map", p.retrieval.map, kFigure);
  json.member("map_chance", p.retrieval.map_chance, kFigure);
  json.member("queries", p.retrieval.queries);
  json.member("positive_cosine", p.positive_cosine, kFigure);
  json.member("negative_cosine", p.negative_cosine, kFigure);
  json.member("alignment", p.alignment, kFigure);
  json.member("uniformity", p.uniformity, kFigure);
  json.member("effective_rank", p.effective_rank, kFigure);
  json.member("dims", p.dims);
  json.end_object();
}

void write_summary(const fs::path& file,
                   const config::PretrainConfig& config,
                   const engine::TrainResult& result,
                   double final_loss,
                   double collapse_loss,
                   const ProbeFigures& probe,
                   const std::optional<ProbeFigures>& initial,
                   const std::vector<std::string>& warnings,
                   std::int64_t images,
                   const PretrainPositives* positives,
                   const std::optional<DatasetPositives>& data_positives,
                   int world_size) {
  common::JsonWriter json;
  json.begin_object();
  json.member("method", config.method.name);
  json.member("arch", config.model.arch);
  json.member("image_size", config.data.image_size);
  json.member("images", images);
  json.member("epochs", result.epochs_done);
  json.member("steps", result.steps_done);
  json.member("batch_size", config.optim.batch_size);
  json.member("final_loss", std::isfinite(final_loss) ? final_loss : 0.0, kFigure);
  json.member("collapse_loss", collapse_loss, kFigure);
  json.member("images_per_second", result.samples_per_second, kFigure);
  json.member("resumed", result.resumed);
  // Data parallel only: the layout of a single-process summary stays as it was.
  if (world_size > 1) {
    json.member("world_size", world_size);
    json.member("sync_seconds_per_step", result.sync_seconds_per_step, kFigure);
  }
  json.key("probe").begin_object();
  json.member("epoch", probe.epoch);
  json.member("images", probe.encoder.images);
  write_probe_json(json, "encoder", probe.encoder);
  if (probe.head) write_probe_json(json, "head", *probe.head);
  // The untrained encoder's figures: what pre-training added (raw anatomy already separates
  // patients a little). Known only to the process that started the run.
  if (initial) write_probe_json(json, "initial_encoder", initial->encoder);
  json.end_object();
  json.key("collapse_warnings").begin_array(common::JsonWriter::Layout::kInline);
  for (const std::string& warning : warnings) json.value(warning);
  json.end_array();
  if (positives != nullptr) {
    json.key("positives");
    positives->write_json(json, data_positives);
  }
  json.member("encoder", kEncoderFile);
  json.end_object();
  common::write_file_atomic(file, std::string_view(json.text()));
}

}  // namespace

int pretrain(const config::PretrainConfig& config,
             const RunOptions& options,
             const PretrainHooks& hooks) {
  // OpenCV's own thread pool would compete with the loader's workers for the same cores.
  cv::setNumThreads(0);
  // Everything that can reject a value runs before open_run, so a bad config leaves no run
  // directory behind (a half-made one would later refuse the corrected config).
  // The run directory is checked first: a bad --output costs no cache build.
  const std::string effective_config = config::dump(config);
  const std::shared_ptr<dist::Group> group = join_group(config.run);
  // Data parallel: rank 0 checks the run and builds the cache, then the others open it.
  std::optional<data::CachedDataset> opened;
  on_main_first(*group, [&] {
    if (group->main()) check_run(config.run, effective_config, options);
    opened.emplace(open_dataset(config.data));
  });
  const data::CachedDataset& dataset = *opened;
  const auto seed = static_cast<std::uint64_t>(config.run.seed);
  // Seeded here so that the initial weights follow run.seed (open_run seeds again, identically).
  common::seed_torch(seed);
  ssl::MethodOptions method_settings = method_options(config, dataset);
  method_settings.group = group;
  auto method = ssl::make_method(method_settings, model_spec(config.model));
  check_image_size(config, *method->encoder());
  const BatchPlan plan(config, dataset, method->patient_batches(), seed, *group);
  check_queue_size(config, dataset.size());

  const RunContext context = open_run(config.run, effective_config, options, group);
  if (context.state == common::RunState::kFinished) {
    spdlog::info("[pretrain] {} is finished ({} exists); nothing to do (--overwrite starts over)",
                 context.directory.string(), common::kRunSummaryFile);
    return common::kExitSuccess;
  }
  method->to(context.device);
  if (config.run.channels_last) {
    for (const auto& entry : method->modules()) models::use_channels_last(*entry.second);
  }

  const data::CachedSource source(dataset);
  data::Loader loader(source,
                      loader_options(config.data, config.augment, data::LoaderMode::kContrastive,
                                     context.seed, context.device));

  spdlog::info(
      "[pretrain] {} on {} ({} images of {} patients, {}x{}): {} steps/epoch of {}, {} "
      "epochs",
      config.method.name, config.model.arch, dataset.size(), dataset.patients(),
      config.data.image_size, config.data.image_size, plan.steps_per_epoch(), plan.batch_size(),
      config.optim.epochs);
  PretrainProbe probe(dataset, config.probe, config.optim.epochs, context.seed, context.device);
  spdlog::info(
      "[pretrain] probes of {} un-augmented images of whole patients every {} epochs and after "
      "the last",
      probe.probe_images(), config.probe.every);
  std::optional<ProbeFigures> initial;
  if (context.state == common::RunState::kFresh && group->main()) {
    initial = probe.run(*method, 0);
    spdlog::info("[probe] before training ({} images, {:.2f} s): {}", probe.probe_images(),
                 initial->seconds, describe_probe(*initial));
  }
  std::optional<PretrainPositives> positives;
  std::optional<DatasetPositives> data_positives;
  if (ssl::uses_patient_positives(config.method.name)) {
    const ssl::PositiveOptions rule = positive_options(config.method);
    positives.emplace(rule, config.method.name == "cltci_moco");
    data_positives = dataset_positives(dataset, rule);
    spdlog::info(
        "[positives] {}: {:.2f} positives per image among its patient's other images (weight "
        "{:.2f}), {:.1f} % of images without; {} of {} images dated",
        describe_positives(rule), data_positives->positives_per_image,
        data_positives->weight_per_image, 100.0 * data_positives->share_without,
        data_positives->dated_images, data_positives->images);
  }
  PretrainTask task(*method, plan, loader, probe, positives ? &*positives : nullptr, context.device,
                    config.run.channels_last, hooks, group->main());
  engine::TrainerOptions trainer = trainer_options(config.run, config.optim);
  trainer.run_dir = context.directory;
  trainer.device = context.device;
  trainer.group = group;
  // Started cleanly: from here on a failure leaves a resumable run, and an overwritten one is gone.
  context.commit();
  const engine::TrainResult result = engine::train(task, trainer);
  if (!group->main()) {
    // Rank 0 exports and summarises; the job ends when it has (a rank that left early would
    // look like a failure to a launcher watching for the first exit).
    group->barrier(std::chrono::hours(1));
    return common::kExitSuccess;
  }

  // A run resumed after its last epoch ran no probe in this process: probe the final encoder.
  const ProbeFigures figures =
      probe.last() ? *probe.last() : probe.run(*method, result.epochs_done);
  if (!probe.last()) spdlog::info("[probe] final encoder: {}", describe_probe(figures));
  method->train(false);
  method->to(c10::Device(c10::kCPU));
  const fs::path encoder_file = context.directory / kEncoderFile;
  models::WeightsExportOptions export_options;
  export_options.metadata = {{"method", config.method.name},
                             {"arch", config.model.arch},
                             {"image_size", std::to_string(config.data.image_size)},
                             {"epochs", std::to_string(result.epochs_done)}};
  models::export_weights(*method->encoder(), encoder_file, export_options);
  const double final_loss = result.samples_per_second > 0.0
                                ? result.last_loss
                                : last_logged_loss(context.directory / engine::kMetricsFile);
  write_summary(context.directory / common::kRunSummaryFile, config, result, final_loss,
                method->collapse_loss(), figures, initial, probe.warnings(), dataset.size(),
                positives ? &*positives : nullptr, data_positives, group->world_size());
  spdlog::info(
      "[pretrain] done: final loss {:.4f} (collapse value {:.4f}), {:.1f} images/s; probe "
      "top-1 {:.3f} (chance {:.3f}); encoder {}",
      final_loss, method->collapse_loss(), result.samples_per_second,
      figures.encoder.retrieval.top1, figures.encoder.retrieval.top1_chance, encoder_file.string());
  group->barrier(std::chrono::hours(1));
  return common::kExitSuccess;
}

}  // namespace cltci::run
