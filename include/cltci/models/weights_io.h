// Export and import of encoder weights as safetensors, readable from Python without this
// toolkit. A ResNet's keys are torchvision's, so
//   torchvision.models.resnet50().load_state_dict(load_file(f), strict=False)  # only fc.* missing
// and smp takes them under "encoder." (export with prefix "encoder." or add it in Python).
#pragma once

#include "cltci/models/resnet.h"
#include "cltci/models/state_dict.h"

#include <torch/nn/module.h>

#include <filesystem>
#include <map>
#include <string>

namespace cltci::models {

struct WeightsExportOptions {
  std::string prefix;                           ///< prepended to every key ("encoder." for smp)
  std::map<std::string, std::string> metadata;  ///< extra "__metadata__" entries
};

/// Writes `module`'s state dict (parameters and buffers) to a safetensors file.
void export_weights(const torch::nn::Module& module,
                    const std::filesystem::path& file,
                    const WeightsExportOptions& options = {});

struct WeightsImportOptions {
  /// Only keys starting with this are used, with it removed ("encoder.", "encoder_q.").
  std::string strip_prefix;
  /// Throw common::InputError when a key of the module is missing from the file.
  bool require_all = true;
};

/// Loads a safetensors file into `module` by name. A shape mismatch throws common::InputError
/// naming the file, the first differing key and both shapes.
TransferReport import_weights(torch::nn::Module& module,
                              const std::filesystem::path& file,
                              const WeightsImportOptions& options = {});

/// Loads torchvision ResNet weights (e.g. ImageNet's, 3 input channels, with fc) into `resnet`:
/// fc.* is dropped, and conv1 is adapted as smp does when the channel counts differ — summed
/// over RGB for 1 channel, RGB kernels cycled and scaled by 3/in_channels for more. Every
/// other key must be present with torchvision's shape.
TransferReport load_torchvision_resnet(ResNetImpl& resnet, const StateDict& torchvision_weights);

/// load_torchvision_resnet from a safetensors file (strip_prefix applies first).
TransferReport import_torchvision_resnet(ResNetImpl& resnet,
                                         const std::filesystem::path& file,
                                         const std::string& strip_prefix = "");

}  // namespace cltci::models
