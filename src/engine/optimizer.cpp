#include "cltci/engine/optimizer.h"

#include "cltci/common/error.h"

#include <torch/optim.h>

#include <utility>

namespace cltci::engine {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> parameters,
                                                        const OptimizerOptions& options) {
  if (options.name == "sgd") {
    return std::make_unique<torch::optim::SGD>(std::move(parameters),
                                               torch::optim::SGDOptions(options.lr)
                                                   .momentum(options.momentum)
                                                   .weight_decay(options.weight_decay));
  }
  if (options.name == "adam") {
    return std::make_unique<torch::optim::Adam>(std::move(parameters),
                                                torch::optim::AdamOptions(options.lr)
                                                    .betas({options.beta1, options.beta2})
                                                    .weight_decay(options.weight_decay));
  }
  if (options.name == "adamw") {
    return std::make_unique<torch::optim::AdamW>(std::move(parameters),
                                                 torch::optim::AdamWOptions(options.lr)
                                                     .betas({options.beta1, options.beta2})
                                                     .weight_decay(options.weight_decay));
  }
  throw common::InputError("optim.name: unknown optimizer '" + options.name + "'");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace cltci::engine
