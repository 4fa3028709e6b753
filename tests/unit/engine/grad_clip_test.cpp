#include "cltci/engine/grad_clip.h"

#include "cltci/common/error.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace cltci::engine {
namespace {

/// A parameter holding `grad` as its gradient.
torch::Tensor with_grad(const torch::Tensor& grad) {
  auto parameter = torch::zeros_like(grad).requires_grad_(true);
  parameter.mutable_grad() = grad.clone();
  return parameter;
}

TEST(GradClip, ScalesAJointNormOf13DownTo6Point5) {
  // |(3, 4)| = 5 and |12| = 12: the joint norm is sqrt(25 + 144) = 13.
  const std::vector<torch::Tensor> parameters{with_grad(torch::tensor({3.0F, 4.0F})),
                                              with_grad(torch::tensor({12.0F}))};
  const torch::Tensor norm = clip_grad_norm(parameters, 6.5);
  EXPECT_EQ(norm.dim(), 0);
  EXPECT_EQ(norm.scalar_type(), torch::kFloat);
  EXPECT_FLOAT_EQ(norm.item<float>(), 13.0F);
  const float factor = 6.5F / (13.0F + 1e-6F);
  EXPECT_FLOAT_EQ(parameters[0].grad()[0].item<float>(), 3.0F * factor);
  EXPECT_FLOAT_EQ(parameters[0].grad()[1].item<float>(), 4.0F * factor);
  EXPECT_FLOAT_EQ(parameters[1].grad()[0].item<float>(), 12.0F * factor);
}

TEST(GradClip, LeavesGradientsBelowTheLimitUnchangedAndSkipsParametersWithoutOne) {
  const auto grad = torch::tensor({0.25F, -0.5F, 1.0F});
  const std::vector<torch::Tensor> parameters{with_grad(grad),
                                              torch::ones({2}).requires_grad_(true)};
  const torch::Tensor norm = clip_grad_norm(parameters, 10.0);
  EXPECT_FLOAT_EQ(norm.item<float>(), std::sqrt(0.0625F + 0.25F + 1.0F));
  EXPECT_TRUE(torch::equal(parameters[0].grad(), grad));  // the factor is clamped to exactly 1
  EXPECT_FALSE(parameters[1].grad().defined());
  EXPECT_EQ(clip_grad_norm({torch::ones({2}).requires_grad_(true)}, 1.0).item<float>(), 0.0F);
}

TEST(GradClip, MatchesLibTorchsClipGradNormOnNetworkShapedGradients) {
  torch::manual_seed(7);
  for (const double max_norm : {0.5, 3.0, 1e3}) {
    std::vector<torch::Tensor> ours;
    std::vector<torch::Tensor> theirs;
    for (const std::vector<std::int64_t>& shape :
         {std::vector<std::int64_t>{32, 16, 3, 3}, {32}, {64, 32, 1, 1}, {10}}) {
      const auto grad = torch::randn(shape);
      ours.push_back(with_grad(grad));
      theirs.push_back(with_grad(grad));
    }
    const double reference = torch::nn::utils::clip_grad_norm_(theirs, max_norm);
    const torch::Tensor norm = clip_grad_norm(ours, max_norm);
    EXPECT_NEAR(norm.item<double>(), reference, 1e-5 * reference) << "max_norm " << max_norm;
    for (std::size_t p = 0; p < ours.size(); ++p) {
      EXPECT_TRUE(torch::allclose(ours[p].grad(), theirs[p].grad(), 1e-6, 1e-7))
          << "max_norm " << max_norm << ", parameter " << p;
    }
  }
}

TEST(GradClip, ANonFiniteNormLeavesNonFiniteGradientsAndABadLimitIsAnInputError) {
  const std::vector<torch::Tensor> parameters{
      with_grad(torch::tensor({1.0F, std::numeric_limits<float>::infinity()}))};
  EXPECT_FALSE(std::isfinite(clip_grad_norm(parameters, 1.0).item<float>()));
  EXPECT_FALSE(torch::isfinite(parameters[0].grad()).all().item<bool>());
  EXPECT_THROW(clip_grad_norm(parameters, 0.0), common::InputError);
  EXPECT_THROW(clip_grad_norm(parameters, std::nan("")), common::InputError);
}

}  // namespace
}  // namespace cltci::engine
