// Builds models from a plain description. The config layer turns its YAML into a ModelSpec;
// the models layer never reads configs.
#pragma once

#include "cltci/models/encoder.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cltci::models {

/// The names ModelSpec::arch takes. "resnet50" is the bare encoder's name: its segmentation
/// network is DeepLabV3+, as for "deeplabv3plus", which is what a run's config names.
inline constexpr const char* kUNetArch = "unet";
inline constexpr const char* kDeepLabV3PlusArch = "deeplabv3plus";
inline constexpr const char* kResNet50Arch = "resnet50";

/// The architectures a run's model.arch names (the config's choice list): unet, deeplabv3plus.
const std::vector<std::string>& architecture_names();

/// The U-Net norms by name, in Norm's order: batch, instance, group (the config's choice list).
const std::vector<std::string>& norm_names();

struct ModelSpec {
  std::string arch = kUNetArch;  ///< architecture_names(), or kResNet50Arch
  int64_t in_channels = 1;
  int64_t classes = 3;         ///< segmentation classes, background included
  int64_t base_channels = 32;  ///< U-Net only
  int64_t depth = 4;           ///< U-Net only: 1..kMaxUNetDepth (unet.h)
  std::string norm = "batch";  ///< U-Net only: "batch" | "instance" | "group"
  int64_t norm_groups = 8;     ///< U-Net with norm "group"
  int64_t output_stride = 16;  ///< ResNet/DeepLabV3+: 8, 16 or 32 (32 only for "resnet50")
  std::vector<int64_t> aspp_rates = {6, 12, 18};
  bool aspp_separable = false;
  double aspp_dropout = 0.1;
};

/// Every problem of the spec, one line each (empty when valid).
std::vector<std::string> validate(const ModelSpec& spec);

/// The encoder that pretraining trains: the U-Net's down path + centre for "unet", ResNet-50 for
/// "resnet50" and "deeplabv3plus". Throws common::InputError listing validate()'s problems.
std::shared_ptr<Encoder> make_encoder(const ModelSpec& spec);

/// The segmentation network: U-Net for "unet", DeepLabV3+ on ResNet-50 for "deeplabv3plus" and
/// "resnet50". When `encoder` is given (e.g. pre-trained) the network is built around it; it must
/// be the kind make_encoder(spec) returns. Logs the parameter count.
std::shared_ptr<SegmentationNet> make_segmentation_net(const ModelSpec& spec,
                                                       std::shared_ptr<Encoder> encoder = nullptr);

}  // namespace cltci::models
