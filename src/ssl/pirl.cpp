// PIRL jigsaw baseline, after the paper's reference (research/cl-tci-reference.md §5), minus its
// uint8 wrap-around: patches are plain copies of the input pixels.
#include "cltci/ssl/pirl.h"

#include "cltci/common/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace cltci::ssl {
namespace {

namespace F = torch::nn::functional;

at::Generator cpu_generator(std::uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

void check_temperature(double temperature) {
  common::require_input(
      temperature > 0.0 && std::isfinite(temperature),
      "pirl: temperature must be a finite number > 0, got " + std::to_string(temperature));
}

}  // namespace

JigsawGeometry jigsaw_geometry(std::int64_t image_size, std::int64_t slack) {
  common::require_input(image_size >= 9,
                        "jigsaw: image size must be at least 9 px (3 px per cell), got " +
                            std::to_string(image_size));
  JigsawGeometry g;
  g.image_size = image_size;
  g.cell = image_size / 3;
  g.slack = slack >= 0 ? slack
                       : std::max<std::int64_t>(
                             1, static_cast<std::int64_t>(std::lround(g.cell * 5.0 / 85.0)));
  common::require_input(g.slack < g.cell, "jigsaw: slack " + std::to_string(g.slack) +
                                              " leaves no patch in a cell of " +
                                              std::to_string(g.cell) + " px");
  g.patch = g.cell - g.slack;
  return g;
}

JigsawPatches extract_jigsaw_patches(const at::Tensor& images,
                                     const JigsawGeometry& geometry,
                                     std::uint64_t seed) {
  TORCH_CHECK(images.defined() && images.dim() == 4, "jigsaw: images must be [B, C, S, S]");
  TORCH_CHECK(images.size(2) == geometry.image_size && images.size(3) == geometry.image_size,
              "jigsaw: images are ", images.size(2), "x", images.size(3), ", the geometry is for ",
              geometry.image_size);
  const std::int64_t b = images.size(0);
  JigsawPatches out;
  out.offsets = torch::empty({b, 9, 2}, torch::kLong);
  // Offsets drawn on the CPU from the seed: the same patches whatever the device.
  out.offsets.copy_(torch::randint(0, geometry.slack + 1, {b, 9, 2}, cpu_generator(seed),
                                   torch::TensorOptions().dtype(torch::kLong)));
  auto off = out.offsets.accessor<std::int64_t, 3>();
  std::vector<at::Tensor> per_image;
  per_image.reserve(static_cast<std::size_t>(b));
  for (std::int64_t i = 0; i < b; ++i) {
    std::vector<at::Tensor> cells;
    cells.reserve(9);
    for (std::int64_t c = 0; c < 9; ++c) {
      off[i][c][0] += (c / 3) * geometry.cell;
      off[i][c][1] += (c % 3) * geometry.cell;
      cells.push_back(images[i]
                          .narrow(1, off[i][c][0], geometry.patch)
                          .narrow(2, off[i][c][1], geometry.patch));
    }
    per_image.push_back(torch::stack(cells));
  }
  out.patches = torch::stack(per_image);
  return out;
}

at::Tensor jigsaw_permutations(std::int64_t batch, std::uint64_t seed) {
  TORCH_CHECK(batch >= 0, "jigsaw: batch must be >= 0");
  // argsort of uniform noise: a uniformly random permutation per row from one generator call.
  return torch::rand({batch, 9}, cpu_generator(seed), torch::kDouble)
      .argsort(/*dim=*/std::int64_t{1});
}

at::Tensor permute_patches(const at::Tensor& x, const at::Tensor& permutation) {
  TORCH_CHECK(x.dim() >= 2 && x.size(1) == 9, "jigsaw: expected [B, 9, ...], got ", x.sizes());
  TORCH_CHECK(permutation.sizes() == at::IntArrayRef({x.size(0), 9}),
              "jigsaw: permutation must be [", x.size(0), ", 9], got ", permutation.sizes());
  std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  shape[1] = 9;
  const at::Tensor index = permutation.to(x.device(), torch::kLong).view(shape).expand(x.sizes());
  return x.gather(1, index);
}

PirlMemoryBank::PirlMemoryBank(
    std::int64_t size, std::int64_t dim, std::uint64_t seed, double momentum, c10::Device device)
    : momentum_(momentum) {
  common::require_input(size >= 2,
                        "pirl memory bank: needs at least 2 images, got " + std::to_string(size));
  common::require_input(dim > 0, "pirl memory bank: dim must be > 0, got " + std::to_string(dim));
  common::require_input(
      momentum >= 0.0 && momentum <= 1.0,
      "pirl memory bank: momentum must be in [0, 1], got " + std::to_string(momentum));
  bank_ = F::normalize(torch::randn({size, dim}, cpu_generator(seed), torch::kFloat),
                       F::NormalizeFuncOptions().dim(1))
              .to(device);
}

at::Tensor PirlMemoryBank::entries(const at::Tensor& indices) const {
  return bank_.index_select(0, indices.to(bank_.device(), torch::kLong).flatten())
      .view({indices.numel(), bank_.size(1)});
}

at::Tensor PirlMemoryBank::sample_negatives(const at::Tensor& indices,
                                            std::int64_t k,
                                            std::uint64_t seed) const {
  common::require_input(k > 0, "pirl: number of negatives must be > 0, got " + std::to_string(k));
  TORCH_CHECK(indices.dim() == 1, "pirl: indices must be [B]");
  const at::Tensor own = indices.to(torch::kCPU, torch::kLong);
  TORCH_CHECK(own.numel() == 0 ||
                  (own.min().item<std::int64_t>() >= 0 && own.max().item<std::int64_t>() < size()),
              "pirl: index outside the memory bank of ", size());
  // Uniform over the size - 1 other entries: draw from [0, size - 2] and skip the own index.
  at::Tensor draw = torch::randint(0, size() - 1, {own.size(0), k}, cpu_generator(seed),
                                   torch::TensorOptions().dtype(torch::kLong));
  draw += (draw >= own.unsqueeze(1)).to(torch::kLong);
  return draw.to(bank_.device());
}

void PirlMemoryBank::update(const at::Tensor& indices, const at::Tensor& features) {
  TORCH_CHECK(indices.dim() == 1 && features.dim() == 2 && features.size(0) == indices.size(0) &&
                  features.size(1) == bank_.size(1),
              "pirl memory bank: update needs indices [B] and features [B, ", bank_.size(1), "]");
  const torch::NoGradGuard no_grad;
  const at::Tensor idx = indices.to(bank_.device(), torch::kLong);
  TORCH_CHECK(std::get<0>(at::_unique(idx)).numel() == idx.numel(),
              "pirl memory bank: an update must not repeat an index");
  const at::Tensor f = F::normalize(features.detach().to(bank_.device(), bank_.scalar_type()),
                                    F::NormalizeFuncOptions().dim(1));
  const at::Tensor mixed = bank_.index_select(0, idx) * momentum_ + f * (1.0 - momentum_);
  bank_.index_copy_(0, idx, F::normalize(mixed, F::NormalizeFuncOptions().dim(1)));
}

void PirlMemoryBank::load_state(const at::Tensor& bank) {
  TORCH_CHECK(bank.defined() && bank.sizes() == bank_.sizes(), "pirl memory bank state must be ",
              bank_.sizes());
  const torch::NoGradGuard no_grad;
  bank_.copy_(bank);
}

at::Tensor pirl_nce_loss(const at::Tensor& features,
                         const at::Tensor& positives,
                         const at::Tensor& negatives,
                         double temperature) {
  check_temperature(temperature);
  TORCH_CHECK(features.dim() == 2 && positives.sizes() == features.sizes(),
              "pirl: features and positives must both be [B, D]");
  TORCH_CHECK(negatives.dim() == 3 && negatives.size(0) == features.size(0) &&
                  negatives.size(2) == features.size(1),
              "pirl: negatives must be [B, k, D]");
  const at::Tensor f = F::normalize(features, F::NormalizeFuncOptions().dim(1));
  const at::Tensor pos = (f * positives.to(f.scalar_type())).sum(1, true);
  const at::Tensor neg = torch::bmm(negatives.to(f.scalar_type()), f.unsqueeze(2)).squeeze(2);
  const at::Tensor logits = torch::cat({pos, neg}, 1) / temperature;
  return F::cross_entropy(logits, torch::zeros({f.size(0)}, f.options().dtype(torch::kLong)));
}

at::Tensor pirl_loss(const at::Tensor& image_features,
                     const at::Tensor& jigsaw_features,
                     const PirlMemoryBank& bank,
                     const at::Tensor& indices,
                     std::int64_t num_negatives,
                     double temperature,
                     std::uint64_t seed) {
  check_temperature(temperature);
  const at::Tensor negative_idx = bank.sample_negatives(indices, num_negatives, seed);
  const at::Tensor positives = bank.entries(indices).to(image_features.device());
  const at::Tensor negatives = bank.entries(negative_idx)
                                   .view({negative_idx.size(0), num_negatives, bank.bank().size(1)})
                                   .to(image_features.device());
  return 0.5 * pirl_nce_loss(image_features, positives, negatives, temperature) +
         0.5 * pirl_nce_loss(jigsaw_features, positives, negatives, temperature);
}

}  // namespace cltci::ssl
