// ResNet-50 (Bottleneck blocks, [3, 4, 6, 3]) laid out like torchvision's, so that its state
// dict has exactly torchvision's keys (conv1.weight, bn1.running_mean,
// layer1.0.downsample.1.weight, ...) and weights move to and from torchvision and
// segmentation_models.pytorch (which prefixes them with "encoder."). No avgpool/fc: it is used
// as an encoder only.
#pragma once

#include "cltci/models/encoder.h"

#include <torch/arg.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <ostream>
#include <vector>

namespace cltci::models {

/// Options of ResNet. Example: `ResNetOptions().in_channels(1).output_stride(16)`.
struct ResNetOptions {
  /// Input image channels (torchvision: 3; X-rays: 1).
  TORCH_ARG(int64_t, in_channels) = 3;
  /// Bottleneck blocks per stage ({3, 4, 6, 3} is ResNet-50, {3, 4, 23, 3} ResNet-101).
  TORCH_ARG(std::vector<int64_t>, layers) = std::vector<int64_t>{3, 4, 6, 3};
  /// 32 (plain), 16 (layer4 dilated ×2) or 8 (layer3 ×2, layer4 ×4).
  TORCH_ARG(int64_t, output_stride) = 32;
  /// Where dilation replaces a stride, torchvision (replace_stride_with_dilation, the paper's
  /// code) keeps the previous dilation in the stage's first 3×3 conv; smp dilates every conv of
  /// the stage. Set to match smp's DeepLabV3+ encoder numerically.
  TORCH_ARG(bool, smp_dilation) = false;
};

/// torchvision's Bottleneck (expansion 4, stride on the 3×3 conv, as in ResNet v1.5).
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in_planes,
                 int64_t planes,
                 int64_t stride,
                 int64_t dilation,
                 torch::nn::Sequential downsample);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

/// The ResNet encoder. features() returns, as smp does without the identity entry:
/// relu(bn1(conv1)) (64 ch, /2), layer1 (256, /4), layer2 (512, /8), layer3 (1024, /16),
/// layer4 (2048, /32) — reductions capped at output_stride.
class ResNetImpl : public Encoder {
 public:
  explicit ResNetImpl(const ResNetOptions& options = {});

  std::vector<torch::Tensor> features(const torch::Tensor& x) override;
  std::vector<int64_t> channels() const override;
  std::vector<int64_t> reductions() const override;
  int64_t in_channels() const override { return options.in_channels(); }
  void pretty_print(std::ostream& stream) const override;

  ResNetOptions options;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace cltci::models
