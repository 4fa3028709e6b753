#include "cltci/data/batch_augment.h"

#include "cltci/common/error.h"
#include "cltci/data/augment.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace cltci::data {
namespace {

constexpr int kInput = 96;
constexpr int kOutput = 64;

// Smooth enough that OpenCV's 1/32-pixel quantised bilinear weights and grid_sample's exact ones
// differ by little; bright enough that the tone curves matter.
cv::Mat smooth_image(int phase) {
  cv::Mat image(kInput, kInput, CV_8UC1);
  for (int y = 0; y < kInput; ++y) {
    for (int x = 0; x < kInput; ++x) {
      const double v =
          0.5 + 0.35 * std::sin((x + phase) / 9.0) * std::cos(y / 11.0) + 0.1 * y / kInput;
      image.at<std::uint8_t>(y, x) = cv::saturate_cast<std::uint8_t>(255.0 * v);
    }
  }
  return image;
}

// Left lung 1 on the image's left, right lung 2 on its right, background 0.
cv::Mat lung_labels() {
  cv::Mat labels(kInput, kInput, CV_8UC1, cv::Scalar(0));
  labels(cv::Rect(10, 15, 30, 60)).setTo(1);
  labels(cv::Rect(56, 15, 30, 60)).setTo(2);
  return labels;
}

at::Tensor as_tensor(const std::vector<cv::Mat>& planes) {
  std::vector<at::Tensor> rows;
  for (const auto& plane : planes) {
    rows.push_back(
        torch::from_blob(plane.data, {plane.rows, plane.cols}, torch::kUInt8).clone().unsqueeze(0));
  }
  return torch::stack(rows);  // [B, 1, S, S]
}

AugmentOptions strong_options() {
  AugmentOptions options;     // the paper's ranges ...
  options.rotation_deg = 25;  // ... with stronger geometry, so that borders come into view
  options.translate = 0.15;
  options.crop_area_min = 0.6;
  options.flip_probability = 0.5;
  options.output_size = kOutput;
  return options;
}

std::vector<AugmentDraw> draws_for(const AugmentOptions& options, int count) {
  std::vector<AugmentDraw> draws;
  for (int i = 0; i < count; ++i) {
    draws.push_back(draw_augment(options, kInput, 1000 + static_cast<std::uint64_t>(i)));
  }
  return draws;
}

TEST(BatchAugment, IdentityPlanReturnsTheImageScaledToUnitRange) {
  std::vector<cv::Mat> planes{smooth_image(0), smooth_image(5)};
  const at::Tensor images = as_tensor(planes);
  const AugmentDraw identity = draw_augment(AugmentOptions::identity(), kInput, 7);
  const AugmentPlan plan = plan_augment({identity, identity}, kInput, kInput);
  // theta is the identity of affine_grid up to float rounding.
  const auto eye = torch::tensor({1.0F, 0.0F, 0.0F, 0.0F, 1.0F, 0.0F}).view({1, 2, 3});
  EXPECT_TRUE(torch::allclose(plan.theta, eye.expand({2, 2, 3}), 0.0, 1e-6));
  const at::Tensor out = augment_images(images, plan, kInput, false);
  ASSERT_EQ(out.sizes(), (std::vector<std::int64_t>{2, 1, kInput, kInput}));
  EXPECT_LT((out - images.to(torch::kFloat) / 255.0).abs().max().item<float>(), 1e-5F);
}

TEST(BatchAugment, ToneCurveMatchesTheHandComputedValues) {
  // A 2x2 image: 0, 51, 153, 255 (mean 114.75 / 255 = 0.45).
  const at::Tensor images = torch::tensor({0, 51, 153, 255}, torch::kUInt8).view({1, 1, 2, 2});
  AugmentDraw draw = draw_augment(AugmentOptions::identity(), 2, 1);
  draw.contrast = 0.5;
  draw.brightness = 1.25;
  draw.gamma = 2.0;
  const at::Tensor out = augment_images(images, plan_augment({draw}, 2, 2), 2, false).flatten();
  // y = clamp(0.5 x + 0.5 * 0.45), clamp(1.25 y), y^2
  const std::vector<double> x{0.0, 0.2, 0.6, 1.0};
  for (int i = 0; i < 4; ++i) {
    const double toned = std::min(1.0, 1.25 * (0.5 * x[static_cast<std::size_t>(i)] + 0.225));
    EXPECT_NEAR(out[i].item<float>(), toned * toned, 1e-6) << "pixel " << i;
  }
}

TEST(BatchAugment, ImagesMatchTheOpenCvPathDrawForDraw) {
  for (const bool reflect : {false, true}) {
    AugmentOptions options = strong_options();
    options.reflect_border = reflect;
    constexpr int kBatch = 8;
    std::vector<cv::Mat> planes;
    for (int i = 0; i < kBatch; ++i) planes.push_back(smooth_image(3 * i));
    const auto draws = draws_for(options, kBatch);
    const at::Tensor out =
        augment_images(as_tensor(planes), plan_augment(draws, kInput, kOutput), kOutput, reflect);
    for (int i = 0; i < kBatch; ++i) {
      cv::Mat expected;
      augment(planes[static_cast<std::size_t>(i)], cv::Mat(), options, 1000 + i, expected, nullptr);
      const at::Tensor reference =
          torch::from_blob(expected.data, {kOutput, kOutput}, torch::kFloat32);
      const at::Tensor difference = (out[i][0] - reference).abs();
      EXPECT_LT(difference.max().item<float>(), 0.02F) << "sample " << i << " reflect " << reflect;
      EXPECT_LT(difference.mean().item<float>(), 2e-3F) << "sample " << i << " reflect " << reflect;
    }
  }
}

TEST(BatchAugment, LabelsMatchTheOpenCvPathWithFillAndFlipSwap) {
  AugmentOptions options = strong_options();
  options.label_fill = 255;
  constexpr int kBatch = 8;
  const cv::Mat labels = lung_labels();
  std::vector<cv::Mat> planes(kBatch, labels);
  const auto draws = draws_for(options, kBatch);
  int flipped = 0;
  for (const auto& draw : draws) flipped += draw.flip ? 1 : 0;
  ASSERT_GT(flipped, 0);
  ASSERT_LT(flipped, kBatch);
  const at::Tensor out = augment_labels(as_tensor(planes).squeeze(1),
                                        plan_augment(draws, kInput, kOutput), kOutput, 255);
  ASSERT_EQ(out.scalar_type(), torch::kLong);
  for (int i = 0; i < kBatch; ++i) {
    cv::Mat image_out, expected;
    augment(smooth_image(0), labels, options, 1000 + i, image_out, &expected);
    at::Tensor reference =
        torch::from_blob(expected.data, {kOutput, kOutput}, torch::kUInt8).to(torch::kLong);
    // Nearest neighbour differs only where a sample point falls on a pixel boundary.
    const double agreement = out[i].eq(reference).to(torch::kDouble).mean().item<double>();
    EXPECT_GT(agreement, 0.99) << "sample " << i;
    // Every class survives: lungs 1 and 2 and the fill outside the rotated source.
    for (const std::int64_t label : {0, 1, 2}) {
      EXPECT_TRUE(out[i].eq(label).any().item<bool>()) << "sample " << i << " label " << label;
    }
  }
}

TEST(BatchAugment, ViewsInOnePassEqualEachPlanAppliedAlone) {
  // Three views of four images, each view its own draws: a broadcast that mixed views or
  // images (the tone of view 0 on view 1, one image's mean for another) would show here.
  const AugmentOptions options = strong_options();
  constexpr int kBatch = 4;
  std::vector<cv::Mat> planes;
  for (int i = 0; i < kBatch; ++i) planes.push_back(smooth_image(7 * i));
  std::vector<AugmentPlan> plans;
  std::vector<std::vector<AugmentDraw>> view_draws;
  for (int view = 0; view < 3; ++view) {
    std::vector<AugmentDraw> draws;
    for (int i = 0; i < kBatch; ++i) {
      draws.push_back(draw_augment(options, kInput, 5000 + 100 * view + i));
    }
    plans.push_back(plan_augment(draws, kInput, kOutput));
    view_draws.push_back(std::move(draws));
  }
  const at::Tensor bytes = as_tensor(planes);
  for (const at::Tensor& images : {bytes, bytes.to(torch::kFloat).div(255.0)}) {
    const std::vector<at::Tensor> views = augment_views(images, plans, kOutput, false);
    ASSERT_EQ(views.size(), 3U);
    for (std::size_t view = 0; view < 3; ++view) {
      ASSERT_EQ(views[view].sizes(), (std::vector<std::int64_t>{kBatch, 1, kOutput, kOutput}));
      const at::Tensor alone = augment_images(images, plans[view], kOutput, false);
      EXPECT_LT((views[view] - alone).abs().max().item<float>(), 1e-6F) << "view " << view;
    }
    EXPECT_GT((views[1] - views[2]).abs().max().item<float>(), 0.1F);
  }
  // And against the OpenCV path, not only against the one-view call.
  const std::vector<at::Tensor> views = augment_views(bytes, plans, kOutput, false);
  for (int i = 0; i < kBatch; ++i) {
    cv::Mat expected;
    augment(planes[static_cast<std::size_t>(i)], cv::Mat(), options,
            5000 + 200 + static_cast<std::uint64_t>(i), expected, nullptr);
    const at::Tensor reference =
        torch::from_blob(expected.data, {kOutput, kOutput}, torch::kFloat32);
    EXPECT_LT((views[2][i][0] - reference).abs().mean().item<float>(), 2e-3F) << "sample " << i;
  }
  EXPECT_THROW(augment_views(bytes, {}, kOutput, false), c10::Error);
  const AugmentPlan three = plan_augment(draws_for(options, 3), kInput, kOutput);
  EXPECT_THROW(augment_views(bytes, {plans[0], three}, kOutput, false), c10::Error);
}

TEST(BatchAugment, PlanMovesWithTheBatchAndBadShapesAreRefused) {
  const auto draws = draws_for(strong_options(), 2);
  const AugmentPlan plan = plan_augment(draws, kInput, kOutput);
  const AugmentPlan moved = plan.to(torch::kCPU);
  EXPECT_TRUE(torch::equal(moved.theta, plan.theta));
  const at::Tensor images = torch::zeros({3, 1, kInput, kInput}, torch::kUInt8);
  EXPECT_THROW(augment_images(images, plan, kOutput, false), c10::Error);  // 3 images, 2 draws
  EXPECT_THROW(augment_images(images.squeeze(1), plan, kOutput, false), c10::Error);
  EXPECT_THROW(
      augment_images(torch::zeros({2, 1, kInput, kInput}, torch::kInt32), plan, kOutput, false),
      c10::Error);
  EXPECT_THROW(plan_augment(draws, 1, kOutput), common::InputError);
}

TEST(BatchAugment, GpuMatchesTheCpuOps_CUDA) {
  CLTCI_REQUIRE_CUDA();
  AugmentOptions options = strong_options();
  options.label_fill = 255;
  constexpr int kBatch = 16;
  std::vector<cv::Mat> planes;
  for (int i = 0; i < kBatch; ++i) planes.push_back(smooth_image(i));
  const at::Tensor images = as_tensor(planes);
  const at::Tensor labels = as_tensor(std::vector<cv::Mat>(kBatch, lung_labels())).squeeze(1);
  const AugmentPlan plan = plan_augment(draws_for(options, kBatch), kInput, kOutput);
  const AugmentPlan on_gpu = plan.to(torch::kCUDA);
  for (const bool reflect : {false, true}) {
    const at::Tensor cpu = augment_images(images, plan, kOutput, reflect);
    const at::Tensor gpu = augment_images(images.to(torch::kCUDA), on_gpu, kOutput, reflect);
    ASSERT_TRUE(gpu.is_cuda());
    EXPECT_LT((gpu.cpu() - cpu).abs().max().item<float>(), 1e-4F) << "reflect " << reflect;
  }
  const at::Tensor cpu_labels = augment_labels(labels, plan, kOutput, 255);
  const at::Tensor gpu_labels = augment_labels(labels.to(torch::kCUDA), on_gpu, kOutput, 255);
  EXPECT_GT(gpu_labels.cpu().eq(cpu_labels).to(torch::kDouble).mean().item<double>(), 0.999);
}

}  // namespace
}  // namespace cltci::data
