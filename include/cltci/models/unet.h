// The U-Net of the paper's code (CL-TCI network/unet2d.py): `depth` levels of two 3×3
// conv + norm + LeakyReLU(0.01) blocks with 2×2 max-pooling, widths base·2^i, a centre of two
// 3×3 convs with ReLU and no norm at base·2^depth, transposed-conv ×2 upsampling that halves the
// channels, skip concatenation, two conv blocks per level, and a 1×1 output conv without bias.
// "The encoder" is the down path plus the centre.
#pragma once

#include "cltci/models/encoder.h"
#include "cltci/models/norm.h"

#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <vector>

namespace cltci::models {

/// The deepest U-Net the encoder builds (model.depth states the same range to users): the input
/// side must be a multiple of 2^depth, so 8 already needs 256-pixel images and gives a 32-channel
/// U-Net a centre of 8192 channels.
inline constexpr int64_t kMaxUNetDepth = 8;

/// Options of the U-Net's encoder. Example: `UNetEncoderOptions(1).base_channels(32).depth(4)`.
struct UNetEncoderOptions {
  explicit UNetEncoderOptions(int64_t in_channels) : in_channels_(in_channels) {}
  /// Input image channels (1 for X-rays).
  TORCH_ARG(int64_t, in_channels);
  /// Width of the first level; level i has base·2^i channels, the centre base·2^depth.
  TORCH_ARG(int64_t, base_channels) = 32;
  /// Number of down levels, 1..kMaxUNetDepth (each halves the resolution); inputs must be
  /// multiples of 2^depth.
  TORCH_ARG(int64_t, depth) = 4;
  /// Norm of the conv blocks (the paper: batch).
  TORCH_ARG(Norm, norm) = Norm::kBatch;
  /// Groups of Norm::kGroup; must divide base_channels.
  TORCH_ARG(int64_t, norm_groups) = 8;
};

/// The down path and the centre. features() returns each level's output before pooling, then
/// the centre's output.
class UNetEncoderImpl : public Encoder {
 public:
  explicit UNetEncoderImpl(const UNetEncoderOptions& options);

  std::vector<torch::Tensor> features(const torch::Tensor& x) override;
  std::vector<int64_t> channels() const override;
  std::vector<int64_t> reductions() const override;
  int64_t in_channels() const override { return options.in_channels(); }
  void pretty_print(std::ostream& stream) const override;

  UNetEncoderOptions options;
  torch::nn::ModuleList levels{nullptr};
  torch::nn::Sequential centre{nullptr};
  torch::nn::MaxPool2d pool{nullptr};
};
TORCH_MODULE(UNetEncoder);

/// Options of the whole U-Net. Example: `UNetOptions(1, 3).base_channels(32).norm(Norm::kGroup)`.
struct UNetOptions {
  UNetOptions(int64_t in_channels, int64_t classes)
      : in_channels_(in_channels), classes_(classes) {}
  /// Input image channels.
  TORCH_ARG(int64_t, in_channels);
  /// Output channels (logits per class, background included).
  TORCH_ARG(int64_t, classes);
  /// See UNetEncoderOptions.
  TORCH_ARG(int64_t, base_channels) = 32;
  TORCH_ARG(int64_t, depth) = 4;
  TORCH_ARG(Norm, norm) = Norm::kBatch;
  TORCH_ARG(int64_t, norm_groups) = 8;

 public:
  UNetEncoderOptions encoder_options() const;
};

/// The U-Net; `encoder` may be a pre-trained one (it is shared, not copied).
class UNetImpl : public SegmentationNet {
 public:
  explicit UNetImpl(const UNetOptions& options, UNetEncoder encoder = nullptr);

  /// N × in_channels × H × W → N × classes × H × W logits; H, W multiples of 2^depth.
  torch::Tensor forward(const torch::Tensor& x) override;
  std::shared_ptr<Encoder> encoder() const override { return encoder_module.ptr(); }
  void pretty_print(std::ostream& stream) const override;

  UNetOptions options;
  UNetEncoder encoder_module{nullptr};
  /// up[i] upsamples from level i+1 (or the centre) to level i.
  torch::nn::ModuleList up{nullptr};
  /// decode[i] fuses level i's skip with up[i]'s output.
  torch::nn::ModuleList decode{nullptr};
  torch::nn::Conv2d head{nullptr};
};
TORCH_MODULE(UNet);

}  // namespace cltci::models
