#include "cltci/models/norm.h"

#include "cltci/common/error.h"

#include <torch/torch.h>

namespace cltci::models {

Norm norm_from_string(const std::string& name) {
  if (name == "batch") return Norm::kBatch;
  if (name == "instance") return Norm::kInstance;
  if (name == "group") return Norm::kGroup;
  throw common::InputError("unknown norm '" + name + "' (choose batch, instance or group)");
}

std::string to_string(Norm norm) {
  switch (norm) {
    case Norm::kBatch:
      return "batch";
    case Norm::kInstance:
      return "instance";
    case Norm::kGroup:
      return "group";
  }
  return "?";
}

torch::nn::AnyModule make_norm(Norm norm, int64_t channels, int64_t groups) {
  switch (norm) {
    case Norm::kBatch:
      return torch::nn::AnyModule(torch::nn::BatchNorm2d(channels));
    case Norm::kInstance:
      return torch::nn::AnyModule(
          torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(channels).affine(true)));
    case Norm::kGroup:
      TORCH_CHECK(groups > 0 && channels % groups == 0, "group norm: ", groups,
                  " groups do not divide ", channels, " channels");
      return torch::nn::AnyModule(
          torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels)));
  }
  TORCH_CHECK(false, "unknown norm");
}

}  // namespace cltci::models
