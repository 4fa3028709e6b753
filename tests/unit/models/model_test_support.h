// Checks shared by the models' unit tests.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace cltci::models::testing {

/// Names of the parameters whose gradient is undefined or all zero after a backward pass.
inline std::vector<std::string> parameters_without_gradient(const torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& p : module.named_parameters()) {
    const auto& grad = p.value().grad();
    if (!grad.defined() || grad.abs().sum().item<double>() == 0.0) names.push_back(p.key());
  }
  return names;
}

/// Message of the exception `body` throws (empty when it throws none).
template <typename Exception, typename Body>
std::string message_of(Body&& body) {
  try {
    body();
  } catch (const Exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace cltci::models::testing
