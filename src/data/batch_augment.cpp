#include "cltci/data/batch_augment.h"

#include "cltci/common/error.h"

#include <ATen/ATen.h>
#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cltci::data {
namespace {

// grid_sampler's codes (ATen/native/GridSamplerUtils.h).
constexpr std::int64_t kBilinear = 0;
constexpr std::int64_t kNearest = 1;
constexpr std::int64_t kZeros = 0;
constexpr std::int64_t kReflection = 2;

void check_plan(const AugmentPlan& plan, std::int64_t batch, const char* what) {
  TORCH_CHECK(plan.theta.defined() && plan.theta.dim() == 3 && plan.theta.size(0) == batch &&
                  plan.theta.size(1) == 2 && plan.theta.size(2) == 3,
              what, ": the plan's theta must be [", batch, ", 2, 3], got ",
              plan.theta.defined() ? plan.theta.sizes() : at::IntArrayRef{});
  TORCH_CHECK(plan.tone.defined() && plan.tone.sizes() == at::IntArrayRef({batch, 3}), what,
              ": the plan's tone must be [", batch, ", 3]");
  TORCH_CHECK(plan.flip.defined() && plan.flip.sizes() == at::IntArrayRef({batch}), what,
              ": the plan's flip must be [", batch, "]");
}

at::Tensor sampling_grid(const AugmentPlan& plan,
                         const at::Tensor& like,
                         std::int64_t batch,
                         int output_size) {
  TORCH_CHECK(plan.theta.device() == like.device(), "augment: the plan is on ", plan.theta.device(),
              ", the batch on ", like.device(), " (AugmentPlan::to)");
  return at::affine_grid_generator(plan.theta.to(at::kFloat), {batch, 1, output_size, output_size},
                                   /*align_corners=*/true);
}

}  // namespace

const std::vector<std::string>& augment_placement_names() {
  static const std::vector<std::string> names{"auto", "loader", "device"};
  return names;
}

bool augments_on_device(AugmentPlacement placement, c10::Device device) {
  return placement == AugmentPlacement::kDevice ||
         (placement == AugmentPlacement::kAuto && device.is_cuda());
}

AugmentPlan AugmentPlan::to(c10::Device device, bool non_blocking) const {
  return {theta.to(device, non_blocking), tone.to(device, non_blocking),
          flip.to(device, non_blocking)};
}

AugmentPlan plan_augment(const std::vector<AugmentDraw>& draws, int input_size, int output_size) {
  if (input_size < 2 || output_size < 2) {
    throw common::InputError("augment: image sides must be >= 2 (input " +
                             std::to_string(input_size) + ", output " +
                             std::to_string(output_size) + ")");
  }
  const auto batch = static_cast<std::int64_t>(draws.size());
  AugmentPlan plan;
  plan.theta = at::empty({batch, 2, 3}, at::kFloat);
  plan.tone = at::empty({batch, 3}, at::kFloat);
  plan.flip = at::empty({batch}, at::kBool);
  auto theta = plan.theta.accessor<float, 3>();
  auto tone = plan.tone.accessor<float, 2>();
  auto flip = plan.flip.accessor<bool, 1>();
  // With align_corners, normalised -1 and +1 are the centres of the first and last pixels:
  // u = 2x / (n - 1) - 1. theta = (input px -> normalised) . warp^-1 . (normalised -> output px).
  const double in_half = (input_size - 1) / 2.0;
  const double out_half = (output_size - 1) / 2.0;
  for (std::int64_t b = 0; b < batch; ++b) {
    const AugmentDraw& draw = draws[static_cast<std::size_t>(b)];
    cv::Matx33d forward = cv::Matx33d::eye();
    const cv::Matx23d warp = augment_warp(draw, input_size, output_size);
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) forward(r, c) = warp(r, c);
    const cv::Matx33d to_output(out_half, 0, out_half, 0, out_half, out_half, 0, 0, 1);
    const cv::Matx33d from_input(1 / in_half, 0, -1, 0, 1 / in_half, -1, 0, 0, 1);
    const cv::Matx33d t = from_input * forward.inv() * to_output;
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 3; ++c) theta[b][r][c] = static_cast<float>(t(r, c));
    tone[b][0] = static_cast<float>(draw.contrast);
    tone[b][1] = static_cast<float>(draw.brightness);
    tone[b][2] = static_cast<float>(draw.gamma);
    flip[b] = draw.flip;
  }
  return plan;
}

at::Tensor augment_images(const at::Tensor& images,
                          const AugmentPlan& plan,
                          int output_size,
                          bool reflect_border) {
  return augment_views(images, {plan}, output_size, reflect_border).front();
}

std::vector<at::Tensor> augment_views(const at::Tensor& images,
                                      const std::vector<AugmentPlan>& plans,
                                      int output_size,
                                      bool reflect_border) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 1 && images.size(2) == images.size(3),
              "augment_images: expected [B, 1, S, S], got ", images.sizes());
  TORCH_CHECK(!plans.empty(), "augment_views: no plan given");
  const std::int64_t batch = images.size(0);
  for (const AugmentPlan& plan : plans) check_plan(plan, batch, "augment_images");
  at::Tensor x;
  switch (images.scalar_type()) {
    case at::kByte:
      x = images.to(at::kFloat).div_(255.0);
      break;
    // uint16 has few kernels: widened through int32 first.
    case at::kUInt16:
      x = images.to(at::kInt).to(at::kFloat).div_(65535.0);
      break;
    case at::kFloat:
      x = images.clamp(0.0, 1.0);
      break;
    default:
      TORCH_CHECK(false, "augment_images: uint8, uint16 or float32 images, got ",
                  images.scalar_type());
  }
  // The contrast pivot is the source image's mean, before any other step (augment.cpp).
  const at::Tensor mean = x.mean({1, 2, 3}, /*keepdim=*/true);
  std::vector<at::Tensor> out;
  for (const AugmentPlan& plan : plans) {
    // Per-sample factors broadcast over [1, S, S].
    const at::Tensor tone = plan.tone.to(x.device(), at::kFloat).view({batch, 3, 1, 1});
    const at::Tensor contrast = tone.narrow(1, 0, 1);
    const at::Tensor brightness = tone.narrow(1, 1, 1);
    const at::Tensor gamma = tone.narrow(1, 2, 1);
    at::Tensor y = (x * contrast + (1 - contrast) * mean).clamp_(0.0, 1.0);
    y.mul_(brightness).clamp_(0.0, 1.0).pow_(gamma);
    const at::Tensor grid = sampling_grid(plan, y, batch, output_size);
    out.push_back(at::grid_sampler(y, grid, kBilinear, reflect_border ? kReflection : kZeros,
                                   /*align_corners=*/true));
  }
  return out;
}

at::Tensor augment_labels(const at::Tensor& labels,
                          const AugmentPlan& plan,
                          int output_size,
                          std::uint8_t label_fill) {
  TORCH_CHECK(labels.dim() == 3 && labels.size(1) == labels.size(2),
              "augment_labels: expected [B, S, S], got ", labels.sizes());
  TORCH_CHECK(labels.scalar_type() == at::kByte || labels.scalar_type() == at::kLong,
              "augment_labels: uint8 or int64 labels, got ", labels.scalar_type());
  const std::int64_t batch = labels.size(0);
  check_plan(plan, batch, "augment_labels");
  // Shifted by one so that zero padding marks "outside the source" apart from label 0; labels up
  // to 255 are exact in float32.
  const at::Tensor shifted = labels.to(at::kFloat).add_(1.0).unsqueeze(1);
  const at::Tensor grid = sampling_grid(plan, shifted, batch, output_size);
  const at::Tensor sampled =
      at::grid_sampler(shifted, grid, kNearest, kZeros, /*align_corners=*/true).squeeze(1);
  at::Tensor out = sampled.round().to(at::kLong).sub_(1);
  out.masked_fill_(out.lt(0), static_cast<std::int64_t>(label_fill));
  // The patient's left lung of a flipped view lies where the right one belongs.
  const at::Tensor flipped = plan.flip.to(out.device()).view({batch, 1, 1});
  const at::Tensor ones = out.eq(1).logical_and_(flipped);
  const at::Tensor twos = out.eq(2).logical_and_(flipped);
  out.masked_fill_(ones, 2).masked_fill_(twos, 1);
  return out;
}

}  // namespace cltci::data
