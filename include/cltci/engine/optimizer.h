// Optimizer construction from plain options, and learning-rate updates for any torch optimizer.
#pragma once

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace cltci::engine {

struct OptimizerOptions {
  std::string name = "sgd";  ///< sgd | adam | adamw
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
