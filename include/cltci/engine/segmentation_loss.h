// The fine-tuning objective of lung segmentation: cross-entropy over every labelled pixel, plus,
// optionally, the soft Dice loss of the lung classes. Pixels labelled `ignore_index` (255: the
// augmentation's fill outside the image) take no part in either term. Both terms are computed in
// fp32 at least, whatever precision produced the logits: under bf16/fp16 autocast a log-softmax
// over low-precision logits loses the small probabilities the loss is made of.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace cltci::engine {

struct SegmentationLossOptions {
  bool soft_dice = false;  ///< add the soft Dice term to the cross-entropy
  std::int64_t ignore_index = 255;
  /// Added to the numerator and denominator of every class's soft Dice: a class absent from
  /// the batch and from the prediction scores 1, not 0/0.
  double smooth = 1.0;
};

/// 1 - the mean over classes 1 .. C-1 of (2 sum(p * y) + smooth) / (sum(p) + sum(y) + smooth),
/// with p the softmax of `logits` [B, C, H, W], y the one-hot of `target` [B, H, W] (long), the
/// sums over the batch and the pixels not labelled `ignore_index` (MONAI's DiceLoss with
/// include_background=False, softmax=True, batch=True and smooth_nr = smooth_dr = smooth).
torch::Tensor soft_dice_loss(const torch::Tensor& logits,
                             const torch::Tensor& target,
                             const SegmentationLossOptions& options = {});

/// The mean cross-entropy of the labelled pixels, plus soft_dice_loss when options.soft_dice.
torch::Tensor segmentation_loss(const torch::Tensor& logits,
                                const torch::Tensor& target,
                                const SegmentationLossOptions& options = {});

}  // namespace cltci::engine
