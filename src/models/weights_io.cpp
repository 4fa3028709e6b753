#include "cltci/models/weights_io.h"

#include "cltci/common/error.h"
#include "cltci/models/safetensors.h"

#include <vector>

namespace cltci::models {

void export_weights(const torch::nn::Module& module,
                    const std::filesystem::path& file,
                    const WeightsExportOptions& options) {
  auto metadata = options.metadata;
  // safetensors.torch writes "format": "pt"; transformers-style loaders look for it.
  metadata.emplace("format", "pt");
  metadata.emplace("producer", "cltci");
  write_safetensors(file, add_prefix(state_dict(module), options.prefix), metadata);
}

TransferReport import_weights(torch::nn::Module& module,
                              const std::filesystem::path& file,
                              const WeightsImportOptions& options) {
  StateDict weights = read_safetensors(file).tensors;
  if (!options.strip_prefix.empty()) weights = strip_prefix(weights, options.strip_prefix);
  TransferReport report;
  try {
    report = load_state_dict(module, weights);
  } catch (const common::InputError& e) {
    throw common::InputError(file.string() + ": " + e.what());
  }
  if (options.require_all && !report.missing.empty()) {
    throw common::InputError(file.string() + ": " + std::to_string(report.missing.size()) +
                             " weights of the model are missing, first '" + report.missing[0] +
                             "' (prefix to strip: '" + options.strip_prefix + "')");
  }
  return report;
}

TransferReport load_torchvision_resnet(ResNetImpl& resnet, const StateDict& torchvision_weights) {
  StateDict weights;
  for (const auto& item : torchvision_weights) {
    if (item.key().rfind("fc.", 0) != 0) weights.insert(item.key(), item.value());
  }
  const int64_t in = resnet.options.in_channels();
  if (torch::Tensor* conv1 = weights.find("conv1.weight");
      conv1 != nullptr && conv1->dim() == 4 && conv1->size(1) != in) {
    const torch::Tensor source = conv1->to(torch::kFloat32);
    const int64_t source_channels = source.size(1);
    if (in == 1) {
      // smp's patch_first_conv: a grey image is R = G = B, so summing the kernels keeps the
      // activations the RGB network would give.
      *conv1 = source.sum(1, /*keepdim=*/true);
    } else {
      std::vector<torch::Tensor> cycled;
      for (int64_t c = 0; c < in; ++c) cycled.push_back(source.select(1, c % source_channels));
      *conv1 = torch::stack(cycled, 1) * (static_cast<double>(source_channels) / in);
    }
  }
  TransferReport report = load_state_dict(resnet, weights);
  if (!report.missing.empty()) {
    throw common::InputError(
        "not torchvision ResNet weights: " + std::to_string(report.missing.size()) +
        " keys are missing, first '" + report.missing[0] + "'");
  }
  for (const auto& item : torchvision_weights) {
    if (item.key().rfind("fc.", 0) == 0) report.unexpected.push_back(item.key());
  }
  return report;
}

TransferReport import_torchvision_resnet(ResNetImpl& resnet,
                                         const std::filesystem::path& file,
                                         const std::string& strip) {
  StateDict weights = read_safetensors(file).tensors;
  if (!strip.empty()) weights = strip_prefix(weights, strip);
  try {
    return load_torchvision_resnet(resnet, weights);
  } catch (const common::InputError& e) {
    throw common::InputError(file.string() + ": " + e.what());
  }
}

}  // namespace cltci::models
