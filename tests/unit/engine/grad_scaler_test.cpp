#include "cltci/engine/grad_scaler.h"

#include "cltci/common/error.h"
#include "cltci/engine/precision.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace cltci::engine {
namespace {

struct Fixture {
  torch::Tensor weight = torch::tensor({1.0F, -2.0F, 3.0F}).requires_grad_(true);
  torch::Tensor input = torch::tensor({0.5F, 0.25F, -4.0F});
  torch::optim::SGD sgd{{weight}, torch::optim::SGDOptions(0.5).momentum(0.9)};

  /// One step of loss = factor * <weight, input>; its true gradient is factor * input.
  bool step(GradScaler& scaler, float factor) {
    sgd.zero_grad();
    scaler.scale(factor * (weight * input).sum()).backward();
    scaler.unscale({weight});
    const bool stepped = scaler.step(sgd);
    scaler.update();
    return stepped;
  }
};

TEST(GradScaler, ScalesTheLossAndUnscalesTheGradientsExactly) {
  GradScaler scaler(torch::kCPU);
  EXPECT_EQ(scaler.current_scale(), 65536.0);
  const auto loss = torch::tensor(0.75F);
  EXPECT_EQ(scaler.scale(loss).item<float>(), 0.75F * 65536.0F);

  Fixture f;
  f.sgd.zero_grad();
  scaler.scale((f.weight * f.input).sum()).backward();
  EXPECT_TRUE(torch::equal(f.weight.grad(), 65536.0F * f.input));
  scaler.unscale({f.weight});
  EXPECT_TRUE(torch::equal(f.weight.grad(), f.input));
  EXPECT_TRUE(scaler.step(f.sgd));
  scaler.update();
  // SGD's first step with momentum: w - lr * g.
  EXPECT_TRUE(torch::equal(f.weight.detach(), torch::tensor({0.75F, -2.125F, 5.0F})));
  EXPECT_EQ(scaler.skipped_steps(), 0);
}

TEST(GradScaler, OverflowSkipsTheStepBacksOffAndLeavesTheOptimizerUntouched) {
  GradScaler scaler(torch::kCPU);
  Fixture f;
  // 1e35 x 2^16 exceeds fp32's 3.4e38: the scaled gradient is inf.
  EXPECT_FALSE(f.step(scaler, 1e35F));
  EXPECT_TRUE(torch::equal(f.weight.detach(), torch::tensor({1.0F, -2.0F, 3.0F})));
  EXPECT_EQ(scaler.current_scale(), 32768.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  // Momentum was never started: the next clean step is SGD's first one.
  EXPECT_TRUE(f.step(scaler, 1.0F));
  EXPECT_TRUE(torch::equal(f.weight.detach(), torch::tensor({0.75F, -2.125F, 5.0F})));
  EXPECT_EQ(scaler.current_scale(), 32768.0);
}

TEST(GradScaler, NanGradientsAreSkippedLikeInfinities) {
  GradScaler scaler(torch::kCPU);
  Fixture f;
  EXPECT_FALSE(f.step(scaler, std::numeric_limits<float>::quiet_NaN()));
  EXPECT_EQ(scaler.current_scale(), 32768.0);
}

TEST(GradScaler, GrowsAfterGrowthIntervalCleanStepsInARow) {
  GradScalerOptions options;
  options.init_scale = 4.0;
  options.growth_interval = 3;
  GradScaler scaler(torch::kCPU, options);
  Fixture f;
  // Clean, clean, overflow (backoff to 2, tracker reset), then three clean: grows to 4.
  const std::vector<float> factors{1, 1, 1e38F, 1, 1, 1};
  const std::vector<double> scales{4, 4, 2, 2, 2, 4};
  for (std::size_t i = 0; i < factors.size(); ++i) {
    f.step(scaler, factors[i]);
    EXPECT_EQ(scaler.current_scale(), scales[i]) << "after step " << i + 1;
  }
  EXPECT_EQ(scaler.skipped_steps(), 1);
}

TEST(GradScaler, SavedStateRestoresScaleTrackerAndSkippedCount) {
  GradScalerOptions options;
  options.growth_interval = 2;
  GradScaler original(torch::kCPU, options);
  Fixture f;
  f.step(original, 1e35F);  // skipped: 2^15
  f.step(original, 1.0F);   // tracker 1
  torch::serialize::OutputArchive out;
  original.save(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  GradScaler restored(torch::kCPU, options);
  restored.load(in);
  EXPECT_EQ(restored.current_scale(), 32768.0);
  EXPECT_EQ(restored.skipped_steps(), 1);
  // The tracker came along: one more clean step reaches the interval in both.
  Fixture g;
  f.step(original, 1.0F);
  g.step(restored, 1.0F);
  EXPECT_EQ(original.current_scale(), 65536.0);
  EXPECT_EQ(restored.current_scale(), 65536.0);
}

TEST(GradScaler, MisuseIsRefusedWithAMessage) {
  GradScaler scaler(torch::kCPU);
  Fixture f;
  scaler.scale((f.weight * f.input).sum()).backward();
  EXPECT_THROW(scaler.step(f.sgd), c10::Error);  // still scaled
  scaler.unscale({f.weight});
  EXPECT_THROW(scaler.unscale({f.weight}), c10::Error);
}

TEST(GradScaler, BadOptionsNameTheField) {
  const auto message = [](GradScalerOptions options) {
    try {
      options.validate();
    } catch (const common::InputError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  GradScalerOptions options;
  options.init_scale = 0;
  EXPECT_NE(message(options).find("init_scale"), std::string::npos);
  options = {};
  options.growth_factor = 1.0;
  EXPECT_NE(message(options).find("growth_factor"), std::string::npos);
  options = {};
  options.backoff_factor = 1.0;
  EXPECT_NE(message(options).find("backoff_factor"), std::string::npos);
  options = {};
  options.growth_interval = 0;
  EXPECT_NE(message(options).find("growth_interval"), std::string::npos);
  EXPECT_EQ(message(GradScalerOptions{}), "");
}

// The reason for the scaler: under fp16 autocast a gradient of 1e-8 flushes to zero on its way
// through the half-precision matmul, and survives once the loss is scaled by 2^16.
TEST(GradScaler, KeepsFp16GradientsThatWouldUnderflow_CUDA) {
  CLTCI_REQUIRE_CUDA();
  torch::manual_seed(5);
  const auto input = torch::randn({32, 64}, torch::kCUDA);
  const auto weight = torch::randn({16, 64}, torch::kCUDA);
  const auto gradient = [&](GradScaler* scaler, Precision precision) {
    auto w = weight.clone().requires_grad_(true);
    torch::Tensor loss;
    {
      AutocastScope autocast(precision, torch::kCUDA);
      loss = 1e-8 * torch::nn::functional::linear(input, w).sum();
    }
    (scaler != nullptr ? scaler->scale(loss) : loss).backward();
    if (scaler != nullptr) scaler->unscale({w});
    return w.grad().cpu();
  };
  const auto reference = gradient(nullptr, Precision::kFp32);
  EXPECT_EQ(gradient(nullptr, Precision::kFp16).abs().max().item<float>(), 0.0F);
  GradScaler scaler(torch::kCUDA);
  const auto scaled = gradient(&scaler, Precision::kFp16);
  EXPECT_TRUE(torch::allclose(scaled, reference, 2e-2, 1e-10))
      << (scaled - reference).abs().max().item<float>();
}

}  // namespace
}  // namespace cltci::engine
