// The Method base (module bookkeeping and checkpoint state) and the factory.
#include "cltci/ssl/method.h"

#include "cltci/common/error.h"
#include "cltci/ssl/positives.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cltci::ssl {

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names{"cltci_moco", "cltci_simclr", "moco",
                                              "simclr",     "rotation",     "pirl"};
  return names;
}

bool uses_patient_positives(const std::string& method_name) {
  return method_name == "cltci_moco" || method_name == "cltci_simclr";
}

Method::Method(std::string name, std::shared_ptr<models::Encoder> encoder)
    : name_(std::move(name)), encoder_(std::move(encoder)) {
  TORCH_CHECK(encoder_ != nullptr, "method ", name_, ": no encoder");
}

void Method::add_module(std::string name,
                        std::shared_ptr<torch::nn::Module> module,
                        bool trainable) {
  if (trainable) trainable_.push_back(module);
  modules_.emplace_back(std::move(name), std::move(module));
}

std::vector<at::Tensor> Method::trainable_parameters() const {
  std::vector<at::Tensor> parameters;
  for (const auto& module : trainable_) {
    for (auto& p : module->parameters()) parameters.push_back(p);
  }
  return parameters;
}

void Method::save_state(torch::serialize::OutputArchive& archive) const {
  for (const auto& [name, module] : modules_) {
    torch::serialize::OutputArchive sub;
    module->save(sub);
    archive.write(name, sub);
  }
}

void Method::load_state(torch::serialize::InputArchive& archive) {
  for (const auto& [name, module] : modules_) {
    torch::serialize::InputArchive sub;
    archive.read(name, sub);
    module->load(sub);
  }
}

void Method::train(bool on) {
  for (const auto& entry : modules_) entry.second->train(on);
}

void Method::to(c10::Device device) {
  for (const auto& entry : modules_) entry.second->to(device);
  device_ = device;
}

namespace {

/// A positive rule the data cannot feed is a config error, found before any training: a window
/// over undated images would silently leave every anchor with its own views only.
void check_positive_data(const MethodOptions& options) {
  const PositiveOptions& positives = options.positives;
  check_positive_options(positives);
  if (positives.rule != PositiveRule::kPatient && !uses_patient_positives(options.name)) {
    throw common::InputError("method.positives: " + to_string(positives.rule) +
                             " applies to "
                             "cltci_moco and cltci_simclr only, not " +
                             options.name);
  }
  const auto size = static_cast<std::size_t>(options.dataset_size);
  if (positives.needs_days()) {
    if (options.image_days.size() != size) {
      throw common::InputError("method.positives: " + to_string(positives.rule) +
                               " needs an acquisition time per image");
    }
    const bool any = std::any_of(options.image_days.begin(), options.image_days.end(),
                                 [](double d) { return !std::isnan(d); });
    if (!any) {
      throw common::InputError("method.positives: " + to_string(positives.rule) +
                               " needs acquisition times, but no image of the data set has one "
                               "(the manifest's time column is empty)");
    }
  }
  if (positives.needs_studies()) {
    const bool any = options.image_studies.size() == size &&
                     std::any_of(options.image_studies.begin(), options.image_studies.end(),
                                 [](std::int64_t s) { return s >= 0; });
    if (!any) {
      throw common::InputError(
          "method.positives: study needs study ids, but no image of the "
          "data set has one (the manifest's study column is empty)");
    }
  }
}

}  // namespace

std::unique_ptr<Method> make_method(const MethodOptions& options, const models::ModelSpec& spec) {
  std::vector<std::string> problems;
  if (!(options.temperature > 0.0)) {
    problems.push_back("method.temperature: must be > 0 (got " +
                       std::to_string(options.temperature) + ")");
  }
  if (options.base_temperature < 0.0) {
    problems.push_back("method.base_temperature: must be >= 0 (got " +
                       std::to_string(options.base_temperature) + ")");
  }
  if (options.embedding_dim <= 0) {
    problems.push_back("method.embedding_dim: must be > 0 (got " +
                       std::to_string(options.embedding_dim) + ")");
  }
  if (!problems.empty()) throw common::InputError(std::move(problems));
  check_positive_data(options);
  const std::string& name = options.name;
  if (name == "cltci_moco" || name == "moco") return make_moco(options, spec);
  if (name == "cltci_simclr" || name == "simclr") return make_simclr(options, spec);
  if (name == "rotation") return make_rotation(options, spec);
  if (name == "pirl") return make_pirl(options, spec);
  std::string known;
  for (const auto& n : method_names()) known += (known.empty() ? "" : ", ") + n;
  throw common::InputError("method.name: unknown method '" + name + "' (choose " + known + ")");
}

}  // namespace cltci::ssl
