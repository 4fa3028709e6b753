#include "cltci/models/state_dict.h"

#include "cltci/common/error.h"

#include <sstream>

namespace cltci::models {
namespace {

void collect(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    out.insert(prefix + p.key(), p.value());
  }
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    out.insert(prefix + b.key(), b.value());
  }
  for (const auto& child : module.named_children()) {
    collect(*child.value(), prefix + child.key() + ".", out);
  }
}

std::string shape_string(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

std::string join_first(const std::vector<std::string>& keys, size_t limit) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < limit; ++i) out += (i ? ", " : "") + keys[i];
  if (keys.size() > limit) out += ", ...";
  return out;
}

}  // namespace

StateDict state_dict(const torch::nn::Module& module) {
  StateDict out;
  collect(module, "", out);
  return out;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

std::string TransferReport::summary() const {
  std::string s =
      std::to_string(loaded.size()) + " loaded, " + std::to_string(missing.size()) + " missing";
  if (!missing.empty()) s += " (" + join_first(missing, 5) + ")";
  s += ", " + std::to_string(unexpected.size()) + " unexpected";
  if (!unexpected.empty()) s += " (" + join_first(unexpected, 5) + ")";
  return s;
}

TransferReport load_state_dict(torch::nn::Module& target, const StateDict& source) {
  const StateDict destination = state_dict(target);
  TransferReport report;
  // Check every shape before copying anything, so a mismatch leaves the target untouched.
  for (const auto& item : destination) {
    const torch::Tensor* given = source.find(item.key());
    if (given == nullptr) {
      report.missing.push_back(item.key());
      continue;
    }
    if (!given->sizes().equals(item.value().sizes())) {
      throw common::InputError("weights do not match the model at '" + item.key() +
                               "': " + shape_string(*given) + " in the weights, " +
                               shape_string(item.value()) + " in the model");
    }
    report.loaded.push_back(item.key());
  }
  for (const auto& item : source) {
    if (!destination.contains(item.key())) report.unexpected.push_back(item.key());
  }
  torch::NoGradGuard no_grad;
  for (const auto& key : report.loaded) destination[key].copy_(source[key]);
  return report;
}

TransferReport transfer(const torch::nn::Module& source, torch::nn::Module& target) {
  return load_state_dict(target, state_dict(source));
}

StateDict strip_prefix(const StateDict& dict, const std::string& prefix) {
  StateDict out;
  for (const auto& item : dict) {
    if (item.key().compare(0, prefix.size(), prefix) == 0) {
      out.insert(item.key().substr(prefix.size()), item.value());
    }
  }
  return out;
}

StateDict add_prefix(const StateDict& dict, const std::string& prefix) {
  StateDict out;
  for (const auto& item : dict) out.insert(prefix + item.key(), item.value());
  return out;
}

}  // namespace cltci::models
