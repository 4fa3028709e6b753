// State dicts in PyTorch's sense (parameters and persistent buffers, by dotted name), and the
// transfer of weights between modules by name. Copying buffers matters: a segmentation network
// that received only an encoder's parameters would lose its BatchNorm running statistics.
#pragma once

#include <torch/nn/module.h>
#include <torch/ordered_dict.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cltci::models {

using StateDict = torch::OrderedDict<std::string, torch::Tensor>;

/// Parameters and buffers of `module` in PyTorch's order (a module's own parameters, then its
/// buffers, then its children's, recursively). The tensors are the module's own (not copies).
StateDict state_dict(const torch::nn::Module& module);

/// Number of elements of all parameters (buffers excluded).
int64_t count_parameters(const torch::nn::Module& module);

/// What a load or transfer did, by key.
struct TransferReport {
  std::vector<std::string> loaded;      ///< copied into the target
  std::vector<std::string> missing;     ///< in the target, absent from the source (left as is)
  std::vector<std::string> unexpected;  ///< in the source, absent from the target (ignored)

  /// "318 loaded, 0 missing, 2 unexpected (fc.weight, fc.bias)".
  std::string summary() const;
};

/// Copies every tensor of `source` whose name the target has into `target` (values, dtype of the
/// target kept). A key present in both with different shapes throws common::InputError naming
/// the first such key (in the target's order) and both shapes; nothing is copied then.
TransferReport load_state_dict(torch::nn::Module& target, const StateDict& source);

/// load_state_dict(target, state_dict(source)).
TransferReport transfer(const torch::nn::Module& source, torch::nn::Module& target);

/// The entries whose key starts with `prefix`, with the prefix removed ("encoder_q." for a MoCo
/// checkpoint's query encoder).
StateDict strip_prefix(const StateDict& dict, const std::string& prefix);

/// Every key with `prefix` prepended ("encoder." for smp).
StateDict add_prefix(const StateDict& dict, const std::string& prefix);

}  // namespace cltci::models
