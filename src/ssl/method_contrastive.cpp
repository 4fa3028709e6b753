// The contrastive methods: CL-TCI-MoCo and MoCo (query/key encoders, queue), CL-TCI-SimCLR and
// SimCLR (two views through one encoder, SupCon / NT-Xent).
#include "cltci/common/device.h"
#include "cltci/common/error.h"
#include "cltci/common/seeding.h"
#include "cltci/dist/gather.h"
#include "cltci/dist/group.h"
#include "cltci/models/heads.h"
#include "cltci/ssl/method.h"
#include "cltci/ssl/moco.h"
#include "cltci/ssl/positives.h"
#include "cltci/ssl/supcon.h"

#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace cltci::ssl {
namespace {

// Tags that keep the random streams of different draws within one step apart.
constexpr std::uint64_t kShuffleBnStream = 0x5348;

/// The factor the SupCon options put on eq. 2 (tau / base_tau, or 1).
double supcon_scale(const SupConOptions& supcon) {
  return supcon.base_temperature ? supcon.temperature / *supcon.base_temperature : 1.0;
}

SupConOptions supcon_options(const MethodOptions& options) {
  SupConOptions supcon;
  supcon.temperature = options.temperature;
  if (options.base_temperature > 0.0) supcon.base_temperature = options.base_temperature;
  supcon.memory_budget_bytes = options.loss_memory_bytes;
  supcon.positives = options.positives;
  return supcon;
}

/// Each image's time and study, looked up by data set index on the method's device, for the
/// positive rules that read them (undefined tensors for the rules that do not).
class ImageAttributes {
 public:
  explicit ImageAttributes(const MethodOptions& options) : positives_(options.positives) {
    if (positives_.needs_days()) {
      days_ = torch::tensor(options.image_days, torch::kDouble);
    }
    if (positives_.needs_studies()) {
      studies_ = torch::tensor(options.image_studies, torch::kLong);
    }
  }

  /// ids (patient numbers), days, studies and images of a batch; `index` holds data set
  /// indices.
  PairAttributes of(const at::Tensor& ids, const at::Tensor& index) const {
    PairAttributes attributes;
    attributes.ids = ids;
    // The loader keeps data set indices on the host; uploaded asynchronously, they do not make
    // the step wait for the kernels already queued.
    const at::Tensor on_device = common::to_device_async(index, ids.device(), torch::kLong);
    attributes.images = on_device;
    if (days_.defined()) attributes.days = days_.index_select(0, on_device);
    if (studies_.defined()) attributes.studies = studies_.index_select(0, on_device);
    return attributes;
  }

  void to(c10::Device device) {
    if (days_.defined()) days_ = days_.to(device);
    if (studies_.defined()) studies_ = studies_.to(device);
  }

 private:
  PositiveOptions positives_;
  at::Tensor days_;
  at::Tensor studies_;
};

/// bf16/fp16 (autocast) features as float32: what the loss computes in anyway, and a dtype every
/// c10d backend reduces and gathers.
at::Tensor widened(const at::Tensor& features) {
  const bool reduced =
      features.scalar_type() == at::kBFloat16 || features.scalar_type() == at::kHalf;
  return reduced ? features.to(at::kFloat) : features;
}

/// The ranks' tensors concatenated in rank order (no gradient), on the tensor's own device;
/// undefined stays undefined (every rank has the same columns defined).
at::Tensor gathered(dist::Group& group, const at::Tensor& local) {
  if (!local.defined()) return local;
  return group.all_gather(widened(local).contiguous().to(group.device())).to(local.device());
}

PairAttributes gathered(dist::Group& group, const PairAttributes& local) {
  return {gathered(group, local.ids), gathered(group, local.days), gathered(group, local.studies),
          gathered(group, local.images)};
}

/// PositiveCounts over the anchors of several steps, summed on the device so that a step does
/// not wait for a host transfer; the means are taken once, when the epoch asks.
class PositiveCountsMean {
 public:
  void add(const ContrastiveInputs& inputs, const SupConOptions& options) {
    const at::Tensor sums = positive_count_sums(inputs, options);
    sums_ = sums_.defined() ? sums_ + sums : sums;
    anchors_ += static_cast<double>(inputs.anchors.size(0));
  }

  std::optional<PositiveCounts> take() {
    if (!(anchors_ > 0.0)) return std::nullopt;
    const PositiveCounts mean = positive_counts_of(anchors_, sums_);
    *this = PositiveCountsMean();
    return mean;
  }

 private:
  at::Tensor sums_;
  double anchors_ = 0.0;
};

/// Encoder followed by the projection head: the unit that MoCo copies and momentum-updates.
/// Its children are the very modules the method registers, so updating the tower updates them.
class TowerImpl : public torch::nn::Module {
 public:
  TowerImpl(std::shared_ptr<models::Encoder> encoder, models::ProjectionHead head)
      : encoder(register_module("encoder", std::move(encoder))),
        head(register_module("head", std::move(head))) {}
  at::Tensor forward(const at::Tensor& x) { return head->forward(encoder->forward(x)); }

  std::shared_ptr<models::Encoder> encoder;
  models::ProjectionHead head;
};
TORCH_MODULE(Tower);

Tower make_tower(const MethodOptions& options, const models::ModelSpec& spec) {
  auto encoder = models::make_encoder(spec);
  const std::int64_t channels = encoder->channels().back();
  return Tower(encoder, models::ProjectionHead(
                            models::ProjectionHeadOptions(channels, options.embedding_dim)));
}

class MoCoMethod final : public Method {
 public:
  MoCoMethod(const MethodOptions& options, Tower query, Tower key)
      : Method(options.name, query->encoder),
        options_(options),
        supcon_(supcon_options(options)),
        positives_(options.name == "moco" ? MoCoPositives::kOwnKey : MoCoPositives::kPatient),
        query_(std::move(query)),
        key_(std::move(key)),
        queue_(options.queue_size, options.embedding_dim),
        attributes_(options),
        group_(options.group ? options.group : std::make_shared<dist::Group>()) {
    add_module("encoder", query_->encoder, true);
    add_module("head", query_->head.ptr(), true);
    add_module("key_encoder", key_->encoder, false);
    add_module("key_head", key_->head.ptr(), false);
    init_key_encoder(*key_, *query_);
  }

  at::Tensor loss(const MethodBatch& batch, std::int64_t step) override {
    const at::Tensor queries = query_->forward(batch.view1);
    at::Tensor keys;
    {
      // The key encoder never needs gradients: inference mode also skips the version counters
      // and view tracking that no-grad still keeps for every op of its forward pass.
      const c10::InferenceMode inference;
      const std::int64_t n = batch.view2.size(0);
      const std::int64_t world = group_->world_size();
      const std::int64_t global = n * world;
      if (options_.shuffle_bn && global >= 4) {
        // Sub-batches of about 8 (at least 2 of them) of the global batch: each BatchNorm of
        // the key encoder sees statistics of a random subset, not those of the query batch.
        // Across ranks the count is rounded up to a multiple of the world size, each rank
        // encoding its share of the shuffled global batch (MoCo's shuffle-BN).
        std::int64_t splits = std::clamp<std::int64_t>(global / 8, 2, global / 2);
        splits = std::min(global, (splits + world - 1) / world * world);
        keys = shuffled_split_forward(
            [this](const at::Tensor& x) { return key_->forward(x); }, batch.view2, splits,
            common::derive_seed(options_.seed,
                                {kShuffleBnStream, static_cast<std::uint64_t>(step)}),
            *group_);
      } else {
        keys = key_->forward(batch.view2);
      }
    }
    // An inference tensor cannot be saved for backward, and the logits' gradient with respect
    // to the queries reads the keys: one copy of [B, D] makes them an ordinary tensor.
    keys = keys.clone();
    MoCoLossInputs inputs;
    inputs.queries = queries;
    inputs.keys = keys;
    inputs.query = attributes_.of(batch.patient, batch.index);
    inputs.queue_keys = queue_.keys();
    inputs.queue = queue_.attributes();
    inputs.queue_valid = queue_.valid();
    inputs.positives = positives_;
    // One ContrastiveInputs for the loss and the counts: the same pairs, built once.
    const ContrastiveInputs pairs = moco_contrastive_inputs(inputs);
    at::Tensor result = contrastive_loss(pairs, supcon_);
    if (positives_ == MoCoPositives::kPatient) counts_.add(pairs, supcon_);
    pending_keys_ = keys.detach();
    pending_ = inputs.query;
    return result;
  }

  std::optional<PositiveCounts> take_positive_counts() override { return counts_.take(); }

  void after_step() override {
    // MoCo Alg. 1 order: the query encoder has just been updated by the optimizer; the key
    // encoder follows it every step (the authors' code never calls this update), then the keys
    // of this step enter the queue with their patient ids.
    momentum_update(*key_, *query_, options_.momentum);
    if (pending_keys_.defined()) {
      if (group_->distributed()) {
        // Every rank enqueues the global batch's keys in rank order, which is the single
        // process's batch order: one queue, identical on every rank.
        pending_keys_ = gathered(*group_, pending_keys_);
        pending_ = gathered(*group_, pending_);
      }
      queue_.enqueue(pending_keys_, pending_.ids, pending_.days, pending_.studies, pending_.images);
    }
    pending_keys_.reset();
    pending_ = PairAttributes();
  }

  const MoCoQueue* queue() const override { return &queue_; }
  at::Tensor project(const at::Tensor& pooled) override { return query_->head->forward(pooled); }
  double collapse_loss() const override {
    return supcon_scale(supcon_) * std::log(1.0 + static_cast<double>(queue_.num_valid()));
  }

  void save_state(torch::serialize::OutputArchive& archive) const override {
    Method::save_state(archive);
    const MoCoQueueState state = queue_.state();
    archive.write("queue_keys", state.keys);
    archive.write("queue_ids", state.ids);
    archive.write("queue_valid", state.valid);
    archive.write("queue_pointer", state.pointer);
    archive.write("queue_days", state.days);
    archive.write("queue_studies", state.studies);
    archive.write("queue_images", state.images);
  }

  void load_state(torch::serialize::InputArchive& archive) override {
    Method::load_state(archive);
    MoCoQueueState state;
    archive.read("queue_keys", state.keys);
    archive.read("queue_ids", state.ids);
    archive.read("queue_valid", state.valid);
    archive.read("queue_pointer", state.pointer);
    // Checkpoints written before the queue stored times, studies and images lack them; the
    // queue then restores them as unknown.
    for (auto& [key, tensor] : {std::pair<const char*, at::Tensor*>{"queue_days", &state.days},
                                {"queue_studies", &state.studies},
                                {"queue_images", &state.images}}) {
      if (!archive.try_read(key, *tensor)) tensor->reset();
    }
    queue_.load_state(state);
  }

  void to(c10::Device device) override {
    Method::to(device);
    queue_.to(device);
    attributes_.to(device);
  }

 private:
  MethodOptions options_;
  SupConOptions supcon_;
  MoCoPositives positives_;
  Tower query_;
  Tower key_;
  MoCoQueue queue_;
  ImageAttributes attributes_;
  PositiveCountsMean counts_;
  std::shared_ptr<dist::Group> group_;
  at::Tensor pending_keys_;
  PairAttributes pending_;
};

class SimCLRMethod final : public Method {
 public:
  SimCLRMethod(const MethodOptions& options, Tower tower)
      : Method(options.name, tower->encoder),
        supcon_(supcon_options(options)),
        patient_labels_(options.name == "cltci_simclr"),
        tower_(std::move(tower)),
        attributes_(options),
        group_(options.group ? options.group : std::make_shared<dist::Group>()) {
    add_module("encoder", tower_->encoder, true);
    add_module("head", tower_->head.ptr(), true);
  }

  bool patient_batches() const override { return patient_labels_; }
  at::Tensor project(const at::Tensor& pooled) override { return tower_->head->forward(pooled); }
  double collapse_loss() const override {
    // Every view is contrasted with the other 2B - 1 views of its batch.
    return batch_views_ > 1
               ? supcon_scale(supcon_) * std::log(static_cast<double>(batch_views_ - 1))
               : 0.0;
  }

  at::Tensor loss(const MethodBatch& batch, std::int64_t /*step*/) override {
    // Both views in one forward pass, as the authors do: BatchNorm sees all 2B views.
    const std::int64_t n = batch.view1.size(0);
    const at::Tensor out = tower_->forward(torch::cat({batch.view1, batch.view2}, 0));
    const at::Tensor features = torch::stack({out.slice(0, 0, n), out.slice(0, n)}, 1);
    PairAttributes images;
    // Without labels every image is its own class: NT-Xent.
    if (patient_labels_) images = attributes_.of(batch.patient, batch.index);
    if (!group_->distributed()) {
      batch_views_ = 2 * n;
      if (!patient_labels_) return supcon_loss(features, at::Tensor(), supcon_);
      const ContrastiveInputs pairs = supcon_contrastive_inputs(features, images);
      counts_.add(pairs, supcon_);
      return contrastive_loss(pairs, supcon_);
    }
    // Data parallel: the global batch's features (with gradient) and labels, this rank's views
    // as anchors against all of them; the positives and negatives are the single process's.
    const at::Tensor all = dist::all_gather_with_grad(widened(features).contiguous(), group_);
    batch_views_ = 2 * all.size(0);
    const ContrastiveInputs pairs =
        rank_anchors(supcon_contrastive_inputs(all, gathered(*group_, images)), 2, group_->rank(),
                     group_->world_size());
    if (patient_labels_) counts_.add(pairs, supcon_);
    return contrastive_loss(pairs, supcon_);
  }

  std::optional<PositiveCounts> take_positive_counts() override { return counts_.take(); }

  void to(c10::Device device) override {
    Method::to(device);
    attributes_.to(device);
  }

 private:
  SupConOptions supcon_;
  bool patient_labels_;
  Tower tower_;
  ImageAttributes attributes_;
  PositiveCountsMean counts_;
  std::shared_ptr<dist::Group> group_;
  std::int64_t batch_views_ = 0;
};

}  // namespace

std::unique_ptr<Method> make_moco(const MethodOptions& options, const models::ModelSpec& spec) {
  if (options.queue_size <= 0) {
    throw common::InputError("method.queue_size: must be > 0 (got " +
                             std::to_string(options.queue_size) + ")");
  }
  if (options.momentum < 0.0 || options.momentum > 1.0) {
    throw common::InputError("method.momentum: must be in [0, 1] (got " +
                             std::to_string(options.momentum) + ")");
  }
  return std::make_unique<MoCoMethod>(options, make_tower(options, spec),
                                      make_tower(options, spec));
}

std::unique_ptr<Method> make_simclr(const MethodOptions& options, const models::ModelSpec& spec) {
  return std::make_unique<SimCLRMethod>(options, make_tower(options, spec));
}

}  // namespace cltci::ssl
