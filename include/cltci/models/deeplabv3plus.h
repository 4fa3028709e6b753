// DeepLabV3+ as the paper's code builds it (VainF's DeepLabV3Plus-Pytorch design): ASPP on the
// deepest encoder features (1×1, three 3×3 atrous branches, image pooling; 5×256 → 256 with
// BN, ReLU, Dropout 0.1), the stride-4 features projected to 48 channels, concatenation, one
// 3×3 conv 304 → 256, a 1×1 classifier with bias, and bilinear upsampling to the input size.
#pragma once

#include "cltci/models/encoder.h"

#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <vector>

namespace cltci::models {

/// Options of ASPP. Example: `ASPPOptions(2048).rates({12, 24, 36}).separable(true)`.
struct ASPPOptions {
  explicit ASPPOptions(int64_t in_channels) : in_channels_(in_channels) {}
  TORCH_ARG(int64_t, in_channels);
  /// Channels of every branch and of the output.
  TORCH_ARG(int64_t, out_channels) = 256;
  /// Dilation rates of the 3×3 branches (the paper's code: 6, 12, 18; smp: 12, 24, 36).
  TORCH_ARG(std::vector<int64_t>, rates) = std::vector<int64_t>{6, 12, 18};
  /// smp style: each atrous branch is a depthwise 3×3 followed by a pointwise 1×1.
  TORCH_ARG(bool, separable) = false;
  /// Dropout after the projection (the paper's code: 0.1; smp: 0.5).
  TORCH_ARG(double, dropout) = 0.1;
};

/// Atrous spatial pyramid pooling.
class ASPPImpl : public torch::nn::Module {
 public:
  explicit ASPPImpl(const ASPPOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& stream) const override;

  ASPPOptions options;
  /// The 1×1 branch first, then one per rate.
  torch::nn::ModuleList branches{nullptr};
  torch::nn::Sequential pooling{nullptr};
  torch::nn::Sequential project{nullptr};
};
TORCH_MODULE(ASPP);

/// Options of DeepLabV3+ over a ResNet-50 encoder (used when no encoder is given).
/// Example: `DeepLabV3PlusOptions(1, 3).output_stride(16)`.
struct DeepLabV3PlusOptions {
  DeepLabV3PlusOptions(int64_t in_channels, int64_t classes)
      : in_channels_(in_channels), classes_(classes) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, classes);
  /// 16 (the paper) or 8; inputs must be multiples of it.
  TORCH_ARG(int64_t, output_stride) = 16;
  TORCH_ARG(std::vector<int64_t>, aspp_rates) = std::vector<int64_t>{6, 12, 18};
  TORCH_ARG(bool, aspp_separable) = false;
  TORCH_ARG(double, aspp_dropout) = 0.1;
  /// Channels of the projected low-level (stride 4) features.
  TORCH_ARG(int64_t, low_level_channels) = 48;
  /// Channels of ASPP and of the decoder conv.
  TORCH_ARG(int64_t, decoder_channels) = 256;
};

class DeepLabV3PlusImpl : public SegmentationNet {
 public:
  /// Builds a ResNet-50 encoder from the options unless one is given; a given encoder must have
  /// a stride-4 feature map and `options.in_channels()` inputs.
  explicit DeepLabV3PlusImpl(const DeepLabV3PlusOptions& options,
                             std::shared_ptr<Encoder> encoder = nullptr);

  /// N × in_channels × H × W → N × classes × H × W logits; H, W multiples of the encoder's
  /// output stride.
  torch::Tensor forward(const torch::Tensor& x) override;
  std::shared_ptr<Encoder> encoder() const override { return encoder_module; }
  void pretty_print(std::ostream& stream) const override;

  DeepLabV3PlusOptions options;
  std::shared_ptr<Encoder> encoder_module;
  ASPP aspp{nullptr};
  torch::nn::Sequential low_level{nullptr};
  torch::nn::Sequential fuse{nullptr};
  torch::nn::Conv2d classifier{nullptr};

 private:
  size_t low_level_index_ = 0;
};
TORCH_MODULE(DeepLabV3Plus);

}  // namespace cltci::models
