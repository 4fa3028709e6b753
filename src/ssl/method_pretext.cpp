// The pretext baselines: Rotation (4-way rotation classification) and PIRL (jigsaw + memory bank).
#include "cltci/common/error.h"
#include "cltci/common/seeding.h"
#include "cltci/dist/group.h"
#include "cltci/models/heads.h"
#include "cltci/ssl/method.h"
#include "cltci/ssl/pirl.h"
#include "cltci/ssl/rotation.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace cltci::ssl {
namespace {

namespace F = torch::nn::functional;

// Tags that keep the random streams of different draws within one step apart.
constexpr std::uint64_t kJigsawOffsetStream = 0x4a4f;
constexpr std::uint64_t kJigsawOrderStream = 0x4a50;
constexpr std::uint64_t kNegativeStream = 0x4e45;
constexpr std::uint64_t kBankStream = 0x424b;

class RotationMethod final : public Method {
 public:
  explicit RotationMethod(std::shared_ptr<models::Encoder> encoder)
      : Method("rotation", encoder),
        head_(models::RotationHeadOptions(encoder->channels().back())) {
    add_module("encoder", encoder_, true);
    add_module("head", head_.ptr(), true);
  }

  at::Tensor loss(const MethodBatch& batch, std::int64_t /*step*/) override {
    const RotationBatch rotated = make_rotation_batch(batch.view1);
    const at::Tensor logits = head_->forward(encoder_->forward(rotated.images));
    return F::cross_entropy(logits.to(torch::kFloat), rotated.labels.to(logits.device()));
  }
  double collapse_loss() const override {
    return std::log(static_cast<double>(models::RotationHeadImpl::kRotations));
  }

 private:
  models::RotationHead head_;
};

/// The jigsaw patch side must be a multiple of the encoder's output stride (its feature maps
/// must line up); the slack (random offset range inside a cell) takes the remainder, at least
/// the authors' 5/85 of the cell.
JigsawGeometry pirl_geometry(std::int64_t image_size, std::int64_t stride) {
  const JigsawGeometry authors = jigsaw_geometry(image_size);
  const std::int64_t patch = (authors.cell - authors.slack) / stride * stride;
  if (patch <= 0) {
    throw common::InputError(
        "data.image_size: " + std::to_string(image_size) + " is too small for PIRL with this " +
        "encoder: a jigsaw cell of " + std::to_string(authors.cell) +
        " px holds no patch that is a multiple of the encoder's output stride " +
        std::to_string(stride) + " (use at least " + std::to_string(3 * (stride + 1)) + ")");
  }
  return jigsaw_geometry(image_size, authors.cell - patch);
}

class PirlMethod final : public Method {
 public:
  PirlMethod(const MethodOptions& options, std::shared_ptr<models::Encoder> encoder)
      : Method("pirl", encoder),
        options_(options),
        geometry_(pirl_geometry(options.image_size, encoder->output_stride())),
        head_(models::ProjectionHeadOptions(encoder->channels().back(), options.embedding_dim)),
        jigsaw_(models::JigsawHeadOptions(encoder->channels().back(), options.embedding_dim)) {
    add_module("encoder", encoder_, true);
    add_module("head", head_.ptr(), true);
    add_module("jigsaw_head", jigsaw_.ptr(), true);
    bank_ = std::make_unique<PirlMemoryBank>(options.dataset_size, options.embedding_dim,
                                             common::derive_seed(options.seed, {kBankStream}),
                                             options.pirl_bank_momentum);
  }

  at::Tensor loss(const MethodBatch& batch, std::int64_t step) override {
    const auto s = static_cast<std::uint64_t>(step);
    const at::Tensor& images = batch.view1;
    // Each rank draws its own offsets, orders and negatives (the same draws on two ranks would
    // tie their batches' jigsaws together); one process keeps the draws it always had.
    const auto seed_of = [&](std::uint64_t stream) {
      if (!options_.group || !options_.group->distributed()) {
        return common::derive_seed(options_.seed, {stream, s});
      }
      return common::derive_seed(options_.seed,
                                 {stream, s, static_cast<std::uint64_t>(options_.group->rank())});
    };
    const std::int64_t n = images.size(0);
    const at::Tensor image_features = head_->forward(encoder_->forward(images));
    // Patches are cut from the float image itself: no uint8 round trip that could wrap.
    const JigsawPatches cut =
        extract_jigsaw_patches(images, geometry_, seed_of(kJigsawOffsetStream));
    const at::Tensor patches = cut.patches.flatten(0, 1);  // [B*9, C, p, p]
    at::Tensor patch_maps = encoder_->forward(patches);
    patch_maps =
        patch_maps.view({n, 9, patch_maps.size(1), patch_maps.size(2), patch_maps.size(3)});
    // The head sees the patch embeddings of each image in a random order, as in PIRL.
    const at::Tensor order = jigsaw_permutations(n, seed_of(kJigsawOrderStream));
    const at::Tensor jigsaw_features =
        jigsaw_->forward(permute_patches(patch_maps, order).flatten(0, 1));
    // pirl_loss normalises both embeddings; float32 keeps the bank dot products exact enough.
    at::Tensor result = pirl_loss(
        image_features.to(torch::kFloat), jigsaw_features.to(torch::kFloat), *bank_, batch.index,
        options_.pirl_negatives, options_.temperature, seed_of(kNegativeStream));
    pending_indices_ = batch.index;
    pending_features_ = image_features.detach();
    return result;
  }

  void after_step() override {
    if (pending_indices_.defined() && options_.group && options_.group->distributed()) {
      // The whole global batch's entries on every rank: one bank, identical everywhere (a
      // bank updated only from local images would drift apart per rank).
      dist::Group& group = *options_.group;
      pending_indices_ = group.all_gather(pending_indices_.to(group.device(), torch::kLong)).cpu();
      pending_features_ =
          group.all_gather(pending_features_.to(group.device(), torch::kFloat).contiguous())
              .to(pending_features_.device());
    }
    if (pending_indices_.defined()) bank_->update(pending_indices_, pending_features_);
    pending_indices_.reset();
    pending_features_.reset();
  }

  const PirlMemoryBank* memory_bank() const override { return bank_.get(); }
  at::Tensor project(const at::Tensor& pooled) override { return head_->forward(pooled); }
  double collapse_loss() const override {
    // NCE of one positive against pirl_negatives bank entries, all logits equal.
    return std::log(1.0 + static_cast<double>(options_.pirl_negatives));
  }

  void save_state(torch::serialize::OutputArchive& archive) const override {
    Method::save_state(archive);
    archive.write("pirl_bank", bank_->bank());
  }

  void load_state(torch::serialize::InputArchive& archive) override {
    Method::load_state(archive);
    at::Tensor bank;
    archive.read("pirl_bank", bank);
    bank_->load_state(bank);
  }

  void to(c10::Device device) override {
    Method::to(device);
    // The bank has no move of its own: a new one on the device takes over the entries.
    auto moved = std::make_unique<PirlMemoryBank>(bank_->size(), options_.embedding_dim, 0,
                                                  options_.pirl_bank_momentum, device);
    moved->load_state(bank_->bank());
    bank_ = std::move(moved);
  }

 private:
  MethodOptions options_;
  JigsawGeometry geometry_;
  models::ProjectionHead head_;
  models::JigsawHead jigsaw_;
  std::unique_ptr<PirlMemoryBank> bank_;
  at::Tensor pending_indices_;
  at::Tensor pending_features_;
};

}  // namespace

std::unique_ptr<Method> make_rotation(const MethodOptions& /*options*/,
                                      const models::ModelSpec& spec) {
  return std::make_unique<RotationMethod>(models::make_encoder(spec));
}

std::unique_ptr<Method> make_pirl(const MethodOptions& options, const models::ModelSpec& spec) {
  if (options.dataset_size < 2) {
    throw common::InputError("data.source: PIRL's memory bank needs at least 2 images (got " +
                             std::to_string(options.dataset_size) + ")");
  }
  if (options.pirl_negatives <= 0 || options.pirl_negatives > options.dataset_size - 1) {
    throw common::InputError(
        "method.pirl_negatives: must be in [1, " + std::to_string(options.dataset_size - 1) +
        "] (the other images of the data set), got " + std::to_string(options.pirl_negatives));
  }
  if (options.pirl_bank_momentum < 0.0 || options.pirl_bank_momentum > 1.0) {
    throw common::InputError("method.pirl_bank_momentum: must be in [0, 1] (got " +
                             std::to_string(options.pirl_bank_momentum) + ")");
  }
  return std::make_unique<PirlMethod>(options, models::make_encoder(spec));
}

}  // namespace cltci::ssl
