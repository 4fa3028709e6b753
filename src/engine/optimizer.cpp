#include "cltci/engine/optimizer.h"

#include <torch/optim.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace cltci::engine {

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names{"sgd", "adam", "adamw"};
  return names;
}

const std::string& to_string(OptimizerKind kind) {
  return optimizer_names().at(static_cast<std::size_t>(kind));
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> parameters,
                                                        const OptimizerOptions& options) {
  switch (options.kind) {
    case OptimizerKind::kSgd:
      return std::make_unique<torch::optim::SGD>(std::move(parameters),
                                                 torch::optim::SGDOptions(options.lr)
                                                     .momentum(options.momentum)
                                                     .weight_decay(options.weight_decay));
    case OptimizerKind::kAdam:
      return std::make_unique<torch::optim::Adam>(std::move(parameters),
                                                  torch::optim::AdamOptions(options.lr)
                                                      .betas({options.beta1, options.beta2})
                                                      .weight_decay(options.weight_decay));
    case OptimizerKind::kAdamW:
      return std::make_unique<torch::optim::AdamW>(std::move(parameters),
                                                   torch::optim::AdamWOptions(options.lr)
                                                       .betas({options.beta1, options.beta2})
                                                       .weight_decay(options.weight_decay));
  }
  throw std::invalid_argument("make_optimizer: unknown OptimizerKind " +
                              std::to_string(static_cast<int>(options.kind)));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace cltci::engine
