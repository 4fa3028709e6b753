#include "cltci/engine/segmentation_loss.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/options/loss.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace cltci::engine {
namespace {

void check_shapes(const torch::Tensor& logits, const torch::Tensor& target, const char* caller) {
  TORCH_CHECK(logits.dim() == 4, caller, ": logits must be [B, C, H, W], got ", logits.sizes());
  TORCH_CHECK(logits.size(1) >= 2, caller, ": at least two classes are needed, got ",
              logits.size(1));
  TORCH_CHECK(target.dim() == 3 && target.size(0) == logits.size(0) &&
                  target.size(1) == logits.size(2) && target.size(2) == logits.size(3),
              caller, ": target must be [B, H, W] = [", logits.size(0), ", ", logits.size(2), ", ",
              logits.size(3), "], got ", target.sizes());
  TORCH_CHECK(target.scalar_type() == torch::kLong, caller, ": target must be long, got ",
              target.scalar_type());
}

/// fp32 for half-precision logits; fp64 stays fp64 (the finite-difference tests need it).
torch::Tensor at_least_fp32(const torch::Tensor& logits) {
  return logits.to(torch::promote_types(logits.scalar_type(), torch::kFloat32));
}

}  // namespace

torch::Tensor soft_dice_loss(const torch::Tensor& logits,
                             const torch::Tensor& target,
                             const SegmentationLossOptions& options) {
  check_shapes(logits, target, "soft_dice_loss");
  const auto classes = logits.size(1);
  const auto probabilities = torch::softmax(at_least_fp32(logits), 1);
  const auto valid = (target != options.ignore_index).unsqueeze(1).to(probabilities.scalar_type());
  // Ignored pixels are clamped into range only to index the one-hot; `valid` zeroes them.
  const auto one_hot = torch::one_hot(target.clamp(0, classes - 1), classes)
                           .permute({0, 3, 1, 2})
                           .to(probabilities.scalar_type()) *
                       valid;
  const std::vector<std::int64_t> dims{0, 2, 3};
  const auto masked = probabilities * valid;
  const auto intersection = (masked * one_hot).sum(dims);
  const auto denominator = masked.sum(dims) + one_hot.sum(dims);
  const auto dice = (2 * intersection + options.smooth) / (denominator + options.smooth);
  return 1.0 - dice.slice(0, 1).mean();
}

torch::Tensor segmentation_loss(const torch::Tensor& logits,
                                const torch::Tensor& target,
                                const SegmentationLossOptions& options) {
  check_shapes(logits, target, "segmentation_loss");
  auto loss = torch::nn::functional::cross_entropy(
      at_least_fp32(logits), target,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(options.ignore_index));
  if (options.soft_dice) loss = loss + soft_dice_loss(logits, target, options);
  return loss;
}

}  // namespace cltci::engine
