// The normalisation layer of the U-Net's conv blocks. The paper's code uses BatchNorm; small
// fine-tuning batches (M = 10 labelled images) make batch statistics noisy, hence the choice.
#pragma once

#include <torch/nn/modules/container/any.h>

#include <cstdint>
#include <string>

namespace cltci::models {

enum class Norm { kBatch, kInstance, kGroup };

/// "batch" | "instance" | "group" → Norm; throws common::InputError listing the choices otherwise.
Norm norm_from_string(const std::string& name);
std::string to_string(Norm norm);

/// A norm layer over `channels` channels. Instance norm is affine without running statistics;
/// group norm uses `groups` groups, which must divide `channels`.
torch::nn::AnyModule make_norm(Norm norm, int64_t channels, int64_t groups);

}  // namespace cltci::models
