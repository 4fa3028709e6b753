#include "cltci/models/model_factory.h"

#include "cltci/common/error.h"
#include "cltci/models/deeplabv3plus.h"
#include "cltci/models/resnet.h"
#include "cltci/models/state_dict.h"
#include "cltci/models/unet.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace cltci::models {
namespace {

bool is_unet(const ModelSpec& spec) { return spec.arch == kUNetArch; }

void require_valid(const ModelSpec& spec) {
  auto problems = validate(spec);
  if (!problems.empty()) throw common::InputError(std::move(problems));
}

UNetOptions unet_options(const ModelSpec& spec) {
  return UNetOptions(spec.in_channels, spec.classes)
      .base_channels(spec.base_channels)
      .depth(spec.depth)
      .norm(norm_from_string(spec.norm))
      .norm_groups(spec.norm_groups);
}

ResNetOptions resnet_options(const ModelSpec& spec) {
  return ResNetOptions().in_channels(spec.in_channels).output_stride(spec.output_stride);
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  }
  return out;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

const std::vector<std::string>& architecture_names() {
  static const std::vector<std::string> names{kUNetArch, kDeepLabV3PlusArch};
  return names;
}

const std::vector<std::string>& norm_names() {
  static const std::vector<std::string> names{to_string(Norm::kBatch), to_string(Norm::kInstance),
                                              to_string(Norm::kGroup)};
  return names;
}

std::vector<std::string> validate(const ModelSpec& spec) {
  std::vector<std::string> problems;
  auto positive = [&](const char* key, int64_t value) {
    if (value <= 0)
      problems.push_back(std::string("model.") + key + ": must be > 0 (got " +
                         std::to_string(value) + ")");
  };
  std::vector<std::string> arches = architecture_names();
  arches.emplace_back(kResNet50Arch);
  if (!contains(arches, spec.arch)) {
    problems.push_back("model.arch: unknown architecture '" + spec.arch + "' (choose " +
                       listed(arches) + ")");
  }
  positive("in_channels", spec.in_channels);
  positive("classes", spec.classes);
  if (is_unet(spec)) {
    positive("base_channels", spec.base_channels);
    if (spec.depth < 1 || spec.depth > kMaxUNetDepth) {
      problems.push_back("model.depth: must be in [1, " + std::to_string(kMaxUNetDepth) +
                         "] (got " + std::to_string(spec.depth) + ")");
    }
    if (!contains(norm_names(), spec.norm)) {
      problems.push_back("model.norm: unknown norm '" + spec.norm + "' (choose " +
                         listed(norm_names()) + ")");
    } else if (norm_from_string(spec.norm) == Norm::kGroup &&
               (spec.norm_groups <= 0 || spec.base_channels % spec.norm_groups != 0)) {
      problems.push_back("model.norm_groups: " + std::to_string(spec.norm_groups) +
                         " groups must divide base_channels " + std::to_string(spec.base_channels));
    }
  } else {
    const bool segmentation = spec.arch == kDeepLabV3PlusArch;
    if (spec.output_stride != 8 && spec.output_stride != 16 &&
        (segmentation || spec.output_stride != 32)) {
      problems.push_back("model.output_stride: must be 8 or 16" +
                         std::string(segmentation ? "" : " or 32") + " (got " +
                         std::to_string(spec.output_stride) + ")");
    }
    if (spec.aspp_rates.empty()) problems.push_back("model.aspp_rates: needs at least one rate");
    for (int64_t rate : spec.aspp_rates) {
      if (rate < 1) {
        problems.push_back("model.aspp_rates: rates must be >= 1 (got " + std::to_string(rate) +
                           ")");
      }
    }
    if (spec.aspp_dropout < 0.0 || spec.aspp_dropout >= 1.0) {
      problems.push_back("model.aspp_dropout: must be in [0, 1) (got " +
                         std::to_string(spec.aspp_dropout) + ")");
    }
  }
  return problems;
}

std::shared_ptr<Encoder> make_encoder(const ModelSpec& spec) {
  require_valid(spec);
  std::shared_ptr<Encoder> encoder;
  if (is_unet(spec)) {
    encoder = UNetEncoder(unet_options(spec).encoder_options()).ptr();
  } else {
    encoder = ResNet(resnet_options(spec)).ptr();
  }
  spdlog::info("[models] {} encoder: {} parameters", spec.arch,
               with_commas(count_parameters(*encoder)));
  return encoder;
}

std::shared_ptr<SegmentationNet> make_segmentation_net(const ModelSpec& spec,
                                                       std::shared_ptr<Encoder> encoder) {
  require_valid(spec);
  std::shared_ptr<SegmentationNet> net;
  if (is_unet(spec)) {
    UNetEncoder unet_encoder{nullptr};
    if (encoder) {
      auto cast = std::dynamic_pointer_cast<UNetEncoderImpl>(encoder);
      if (!cast) throw common::InputError("model.arch: unet needs a U-Net encoder");
      unet_encoder = UNetEncoder(cast);
    }
    net = UNet(unet_options(spec), unet_encoder).ptr();
  } else {
    if (spec.arch == kResNet50Arch && spec.output_stride == 32) {
      throw common::InputError("model.output_stride: DeepLabV3+ needs 8 or 16 (got 32)");
    }
    if (encoder && !std::dynamic_pointer_cast<ResNetImpl>(encoder)) {
      throw common::InputError("model.arch: " + spec.arch + " needs a ResNet-50 encoder");
    }
    net = DeepLabV3Plus(DeepLabV3PlusOptions(spec.in_channels, spec.classes)
                            .output_stride(spec.output_stride)
                            .aspp_rates(spec.aspp_rates)
                            .aspp_separable(spec.aspp_separable)
                            .aspp_dropout(spec.aspp_dropout),
                        encoder)
              .ptr();
  }
  spdlog::info("[models] {}: {} parameters ({} in the encoder)", spec.arch,
               with_commas(count_parameters(*net)), with_commas(count_parameters(*net->encoder())));
  return net;
}

}  // namespace cltci::models
