#include "cltci/engine/segmentation_loss.h"

#include "cltci/engine/precision.h"
#include "common_test_support.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>

namespace cltci::engine {
namespace {

const double kLn2 = std::log(2.0);

/// [B, C, 1, 1] logits whose softmax is `probabilities` (log of each, rows summing to 1).
torch::Tensor logits_of(const torch::Tensor& probabilities) {
  return probabilities.log().unsqueeze(-1).unsqueeze(-1);
}

SegmentationLossOptions with_dice() {
  SegmentationLossOptions options;
  options.soft_dice = true;
  return options;
}

TEST(SegmentationLoss, TwoClassesOfEvenOddsGiveHandComputedTerms) {
  // One image of two pixels, both at p = (0.5, 0.5); labels 1 and 0.
  const auto logits = torch::zeros({1, 2, 1, 2});
  const auto target = torch::tensor({1, 0}, torch::kLong).view({1, 1, 2});
  // Class 1: intersection 0.5, sum p 1, sum y 1: (2 * 0.5 + 1) / (1 + 1 + 1) = 2/3.
  EXPECT_NEAR(soft_dice_loss(logits, target).item<double>(), 1.0 / 3.0, 1e-6);
  EXPECT_NEAR(segmentation_loss(logits, target).item<double>(), kLn2, 1e-6);
  EXPECT_NEAR(segmentation_loss(logits, target, with_dice()).item<double>(), kLn2 + 1.0 / 3.0,
              1e-6);
}

TEST(SegmentationLoss, IgnoredPixelsTakeNoPartInEitherTerm) {
  const auto logits = torch::zeros({1, 2, 1, 2});
  const auto target = torch::tensor({1, 255}, torch::kLong).view({1, 1, 2});
  // Only the first pixel counts: intersection 0.5, sum p 0.5, sum y 1: 2 / 2.5 = 0.8.
  EXPECT_NEAR(soft_dice_loss(logits, target).item<double>(), 0.2, 1e-6);
  EXPECT_NEAR(segmentation_loss(logits, target).item<double>(), kLn2, 1e-6);
}

TEST(SegmentationLoss, ThreeClassesPoolTheBatchAndLeaveTheBackgroundOut) {
  // Image 0: p = (1/4, 1/2, 1/4), label 1. Image 1: p = (1/2, 1/4, 1/4), label 0.
  const auto probabilities = torch::tensor({{0.25, 0.5, 0.25}, {0.5, 0.25, 0.25}});
  const auto logits = logits_of(probabilities).to(torch::kFloat32);
  const auto target = torch::tensor({1, 0}, torch::kLong).view({2, 1, 1});
  // Class 1: I = 1/2, sum p = 3/4, sum y = 1: (1 + 1) / (7/4 + 1) = 8/11.
  // Class 2: I = 0, sum p = 1/2, sum y = 0: 1 / (1/2 + 1) = 2/3. Loss 1 - (8/11 + 2/3) / 2.
  const double dice_loss = 1.0 - (8.0 / 11.0 + 2.0 / 3.0) / 2.0;
  EXPECT_NEAR(soft_dice_loss(logits, target).item<double>(), dice_loss, 1e-6);
  // Cross-entropy: (-ln 1/2 - ln 1/2) / 2.
  EXPECT_NEAR(segmentation_loss(logits, target).item<double>(), kLn2, 1e-6);

  SegmentationLossOptions unsmoothed = with_dice();
  unsmoothed.smooth = 0.0;
  // Class 1: 1 / (7/4) = 4/7; class 2: 0 / (1/2) = 0.
  EXPECT_NEAR(soft_dice_loss(logits, target, unsmoothed).item<double>(), 1.0 - 2.0 / 7.0, 1e-6);
}

TEST(SegmentationLoss, LowPrecisionLogitsGiveAnFp32LossAndItsGradient) {
  torch::manual_seed(3);
  const auto logits32 = torch::randn({2, 3, 4, 4});
  const auto target = torch::randint(0, 3, {2, 4, 4}, torch::kLong);
  const auto logits16 = logits32.to(torch::kBFloat16).requires_grad_(true);
  const auto loss = segmentation_loss(logits16, target, with_dice());
  EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
  const auto reference =
      segmentation_loss(logits16.detach().to(torch::kFloat32), target, with_dice());
  EXPECT_NEAR(loss.item<double>(), reference.item<double>(), 1e-6);
  loss.backward();
  ASSERT_TRUE(logits16.grad().defined());
  EXPECT_EQ(logits16.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::isfinite(logits16.grad()).all().item<bool>());
}

TEST(SegmentationLoss, GradientOfTheDiceTermMatchesFiniteDifferences) {
  torch::manual_seed(5);
  const auto logits =
      torch::randn({1, 3, 2, 3}, torch::TensorOptions().dtype(torch::kFloat64)).requires_grad_();
  auto target = torch::randint(0, 3, {1, 2, 3}, torch::kLong);
  target.index_put_({0, 1, 2}, 255);
  const auto loss = [&](const torch::Tensor& x) { return soft_dice_loss(x, target); };
  // fp64 logits keep the loss in fp64: central differences of step 1e-5 are good to ~1e-9.
  const auto value = loss(logits);
  ASSERT_EQ(value.scalar_type(), torch::kFloat64);
  value.backward();
  const auto analytic = logits.grad().flatten();
  const auto flat = logits.detach().flatten();
  for (std::int64_t i = 0; i < flat.numel(); ++i) {
    auto plus = flat.clone();
    auto minus = flat.clone();
    plus[i] += 1e-5;
    minus[i] -= 1e-5;
    const double numeric =
        (loss(plus.view_as(logits)).item<double>() - loss(minus.view_as(logits)).item<double>()) /
        2e-5;
    EXPECT_NEAR(analytic[i].item<double>(), numeric, 1e-8) << "logit " << i;
  }
}

TEST(SegmentationLoss, RejectsMismatchedShapesAndTypes) {
  const auto logits = torch::zeros({2, 3, 4, 4});
  EXPECT_THROW(segmentation_loss(logits, torch::zeros({2, 4, 5}, torch::kLong)), c10::Error);
  EXPECT_THROW(segmentation_loss(logits, torch::zeros({2, 4, 4})), c10::Error);
  EXPECT_THROW(soft_dice_loss(torch::zeros({2, 1, 4, 4}), torch::zeros({2, 4, 4}, torch::kLong)),
               c10::Error);
  EXPECT_THROW(soft_dice_loss(torch::zeros({3, 4, 4}), torch::zeros({3, 4}, torch::kLong)),
               c10::Error);
}

TEST(SegmentationLoss, GpuUnderBf16AutocastMatchesTheCpu_CUDA) {
  CLTCI_REQUIRE_CUDA();
  torch::manual_seed(7);
  const auto logits = torch::randn({4, 3, 32, 32});
  auto target = torch::randint(0, 3, {4, 32, 32}, torch::kLong);
  target.slice(1, 0, 2).fill_(255);
  const auto expected = segmentation_loss(logits, target, with_dice()).item<double>();
  const torch::Device gpu(torch::kCUDA);
  const auto on_gpu = logits.to(gpu).requires_grad_(true);
  torch::Tensor loss;
  {
    const AutocastScope autocast(Precision::kBf16, gpu);
    // bf16 logits as a network under autocast would give them; the loss still runs in fp32.
    loss = segmentation_loss(on_gpu.to(torch::kBFloat16), target.to(gpu), with_dice());
  }
  EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
  // bf16 keeps 8 bits of the logits: the loss agrees to a few parts in a thousand.
  EXPECT_NEAR(loss.item<double>(), expected, 5e-3 * expected);
  loss.backward();
  EXPECT_TRUE(torch::isfinite(on_gpu.grad()).all().item<bool>());
}

}  // namespace
}  // namespace cltci::engine
