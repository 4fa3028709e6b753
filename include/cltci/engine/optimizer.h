// Optimizer construction from plain options, and learning-rate updates for any torch optimizer.
#pragma once

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace cltci::engine {

enum class OptimizerKind { kSgd, kAdam, kAdamW };

/// Every optimizer's name, in declaration order: the config's choice list for optim.name.
const std::vector<std::string>& optimizer_names();
const std::string& to_string(OptimizerKind kind);

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kSgd;
  double lr = 0.1;
  double momentum = 0.9;  ///< SGD
  double weight_decay = 0.0;
  double beta1 = 0.9;  ///< Adam(W)
  double beta2 = 0.999;
};

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> parameters,
                                                        const OptimizerOptions& options);

/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace cltci::engine
