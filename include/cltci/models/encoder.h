// The encoder interface shared by the U-Net and ResNet-50 backbones: pretraining trains an
// encoder plus a head, fine-tuning builds a segmentation network around the same encoder.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace cltci::models {

/// A backbone that turns an NCHW image batch into feature maps at growing reductions.
class Encoder : public torch::nn::Module {
 public:
  /// The feature maps, from the highest resolution to the deepest (the last one is the one the
  /// heads and ASPP consume).
  virtual std::vector<torch::Tensor> features(const torch::Tensor& x) = 0;
  /// Channel count of each entry of features(), in the same order.
  virtual std::vector<int64_t> channels() const = 0;
  /// Spatial reduction (input size / feature size) of each entry of features().
  virtual std::vector<int64_t> reductions() const = 0;
  /// The number of input channels the encoder expects.
  virtual int64_t in_channels() const = 0;

  /// H and W must be multiples of this for the feature maps to line up.
  int64_t output_stride() const { return reductions().back(); }
  /// The deepest feature map.
  torch::Tensor forward(const torch::Tensor& x) { return features(x).back(); }

 protected:
  using torch::nn::Module::Module;
};

/// A network that maps an NCHW image batch to per-pixel logits (N × classes × H × W).
class SegmentationNet : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  /// The backbone inside the network (shared, not copied).
  virtual std::shared_ptr<Encoder> encoder() const = 0;

 protected:
  using torch::nn::Module::Module;
};

/// Checks that `x` is an N × in_channels × H × W batch whose H and W are multiples of `multiple`;
/// the c10::Error names the nearest larger size that would work. `who` prefixes the message.
void check_image_batch(const torch::Tensor& x,
                       int64_t in_channels,
                       int64_t multiple,
                       const char* who);

}  // namespace cltci::models
