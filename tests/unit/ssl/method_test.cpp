#include "cltci/ssl/method.h"

#include "cltci/common/error.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/models/safetensors.h"
#include "cltci/models/weights_io.h"
#include "cltci/ssl/moco.h"
#include "cltci/ssl/pirl.h"
#include "common_test_support.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace cltci::ssl {
namespace {

constexpr std::int64_t kSize = 32;
constexpr std::int64_t kBatch = 4;
constexpr std::int64_t kImages = 20;

models::ModelSpec tiny_unet() {
  models::ModelSpec spec;
  spec.arch = "unet";
  spec.base_channels = 4;
  spec.depth = 2;
  return spec;
}

MethodOptions tiny_options(const std::string& name) {
  MethodOptions options;
  options.name = name;
  options.embedding_dim = 16;
  options.queue_size = 6;
  options.momentum = 0.9;
  options.pirl_negatives = 8;
  options.dataset_size = kImages;
  options.image_size = kSize;
  options.seed = 5;
  return options;
}

template <typename T>
std::vector<T> to_vector_of(const torch::Tensor& t) {
  const torch::Tensor c = t.cpu().contiguous();
  return {c.data_ptr<T>(), c.data_ptr<T>() + c.numel()};
}

MethodBatch random_batch(std::int64_t seed, std::vector<std::int64_t> patients = {3, 5, 3, 7}) {
  torch::manual_seed(static_cast<std::uint64_t>(seed));
  MethodBatch batch;
  batch.view1 = torch::rand({kBatch, 1, kSize, kSize});
  batch.view2 = (batch.view1 + 0.05 * torch::randn_like(batch.view1)).clamp(0, 1);
  batch.patient = torch::tensor(patients, torch::kLong);
  batch.index = torch::tensor(
      {seed % kImages, (seed + 5) % kImages, (seed + 10) % kImages, (seed + 15) % kImages},
      torch::kLong);
  return batch;
}

std::map<std::string, torch::Tensor> parameters_of(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : module.named_parameters())
    out[item.key()] = item.value().detach().clone();
  return out;
}

const std::shared_ptr<torch::nn::Module>& module_named(const Method& method,
                                                       const std::string& name) {
  for (const auto& entry : method.modules()) {
    if (entry.first == name) return entry.second;
  }
  throw std::runtime_error("no module " + name);
}

/// One training step as the trainer does it: loss, backward, SGD step, after-step work.
double train_step(Method& method,
                  torch::optim::SGD& optimizer,
                  const MethodBatch& batch,
                  std::int64_t step) {
  optimizer.zero_grad();
  torch::Tensor loss = method.loss(batch, step);
  loss.backward();
  optimizer.step();
  method.after_step();
  return loss.item<double>();
}

class EveryMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryMethod, RunsTwoStepsWithFiniteLossAndGradients) {
  auto method = make_method(tiny_options(GetParam()), tiny_unet());
  EXPECT_EQ(method->name(), GetParam());
  method->train(true);
  torch::optim::SGD optimizer(method->trainable_parameters(), torch::optim::SGDOptions(0.05));
  const auto before = parameters_of(*method->encoder());
  for (std::int64_t step = 0; step < 2; ++step) {
    optimizer.zero_grad();
    torch::Tensor loss = method->loss(random_batch(step), step);
    ASSERT_EQ(loss.dim(), 0);
    EXPECT_TRUE(std::isfinite(loss.item<double>())) << GetParam() << " step " << step;
    // MoCo's first step has an empty queue: the own key is the only logit and the loss is 0.
    const bool empty_queue = method->queue() != nullptr && step == 0;
    if (empty_queue) {
      EXPECT_EQ(loss.item<double>(), 0.0);
    } else {
      EXPECT_GT(loss.item<double>(), 0.0);
    }
    loss.backward();
    // Every encoder parameter takes part in the loss.
    for (const auto& p : method->encoder()->parameters()) {
      ASSERT_TRUE(p.grad().defined());
      EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
    }
    optimizer.step();
    method->after_step();
  }
  std::size_t moved = 0;
  for (const auto& [name, value] : parameters_of(*method->encoder())) {
    moved += torch::equal(value, before.at(name)) ? 0 : 1;
  }
  EXPECT_GT(moved, 0u) << "the optimizer did not move the encoder";
}

INSTANTIATE_TEST_SUITE_P(
    Methods,
    EveryMethod,
    ::testing::Values("cltci_moco", "moco", "cltci_simclr", "simclr", "rotation", "pirl"),
    [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(Method, OnlyCltciSimclrAsksForPatientBatches) {
  for (const auto& name : method_names()) {
    auto method = make_method(tiny_options(name), tiny_unet());
    EXPECT_EQ(method->patient_batches(), name == "cltci_simclr") << name;
  }
}

TEST(Method, BadNamesAndValuesAreInputErrorsNamingTheKey) {
  auto message = [](const MethodOptions& options) {
    try {
      make_method(options, tiny_unet());
    } catch (const common::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto options = tiny_options("byol");
  EXPECT_NE(message(options).find("method.name: unknown method 'byol'"), std::string::npos);
  options = tiny_options("pirl");
  options.pirl_negatives = kImages;  // only kImages - 1 others exist
  EXPECT_NE(message(options).find("method.pirl_negatives"), std::string::npos);
  options = tiny_options("cltci_moco");
  options.queue_size = 0;
  EXPECT_NE(message(options).find("method.queue_size: must be > 0"), std::string::npos);
  options = tiny_options("simclr");
  options.temperature = 0.0;
  EXPECT_NE(message(options).find("method.temperature: must be > 0"), std::string::npos);
  options = tiny_options("pirl");
  options.image_size = 12;  // cells of 4 px cannot hold a patch of the stride 4
  EXPECT_NE(message(options).find("data.image_size: 12 is too small for PIRL"), std::string::npos);
}

TEST(MoCoMethod, KeyEncoderStartsAsACopyAndFollowsTheMomentumFormulaEveryStep) {
  const double m = 0.9;
  auto method = make_method(tiny_options("cltci_moco"), tiny_unet());
  method->train(true);
  const auto& query = module_named(*method, "encoder");
  const auto& key = module_named(*method, "key_encoder");
  const auto& query_head = module_named(*method, "head");
  const auto& key_head = module_named(*method, "key_head");
  for (const auto& [name, value] : parameters_of(*key)) {
    EXPECT_TRUE(torch::equal(value, parameters_of(*query).at(name))) << name;
  }
  for (const auto& p : key->parameters()) EXPECT_FALSE(p.requires_grad());
  // Only the query side is trained by the optimizer.
  std::size_t query_count = query->parameters().size() + query_head->parameters().size();
  EXPECT_EQ(method->trainable_parameters().size(), query_count);

  torch::optim::SGD optimizer(method->trainable_parameters(), torch::optim::SGDOptions(0.5));
  for (std::int64_t step = 0; step < 3; ++step) {
    const auto key_before = parameters_of(*key);
    const auto key_head_before = parameters_of(*key_head);
    optimizer.zero_grad();
    method->loss(random_batch(step), step).backward();
    optimizer.step();
    const auto query_now = parameters_of(*query);
    const auto query_head_now = parameters_of(*query_head);
    method->after_step();
    std::size_t changed = 0;
    for (const auto& [name, value] : parameters_of(*key)) {
      const torch::Tensor expected = key_before.at(name) * m + query_now.at(name) * (1.0 - m);
      EXPECT_TRUE(torch::allclose(value, expected, 1e-6, 1e-7)) << name << " step " << step;
      changed += torch::equal(value, key_before.at(name)) ? 0 : 1;
    }
    EXPECT_GT(changed, 0u) << "the key encoder did not move at step " << step;
    for (const auto& [name, value] : parameters_of(*key_head)) {
      const torch::Tensor expected =
          key_head_before.at(name) * m + query_head_now.at(name) * (1.0 - m);
      EXPECT_TRUE(torch::allclose(value, expected, 1e-6, 1e-7)) << name << " step " << step;
    }
  }
}

TEST(MoCoMethod, QueueFillsWithTheKeysAndPatientIdsOfEachStep) {
  for (const std::string name : {"cltci_moco", "moco"}) {
    auto method = make_method(tiny_options(name), tiny_unet());
    method->train(true);
    torch::optim::SGD optimizer(method->trainable_parameters(), torch::optim::SGDOptions(0.01));
    const MoCoQueue* queue = method->queue();
    ASSERT_NE(queue, nullptr);
    EXPECT_EQ(queue->num_valid(), 0);
    train_step(*method, optimizer, random_batch(0, {3, 5, 3, 7}), 0);
    EXPECT_EQ(queue->num_valid(), 4);
    EXPECT_TRUE(torch::equal(queue->ids(), torch::tensor({3, 5, 3, 7, -1, -1}, torch::kLong)));
    // A queue of 6 and batches of 4: the second batch wraps round to slots 0 and 1.
    train_step(*method, optimizer, random_batch(1, {1, 2, 8, 9}), 1);
    EXPECT_EQ(queue->num_valid(), 6);
    EXPECT_EQ(queue->pointer(), 2);
    EXPECT_TRUE(torch::equal(queue->ids(), torch::tensor({8, 9, 3, 7, 1, 2}, torch::kLong)));
    const torch::Tensor norms = queue->keys().norm(2, 1);
    EXPECT_TRUE(torch::allclose(norms, torch::ones_like(norms), 1e-5, 1e-6));
  }
}

/// Days of image i: patient-independent, one every 2.5 days, image 3 undated.
MethodOptions dated_options(const std::string& name, PositiveOptions positives) {
  MethodOptions options = tiny_options(name);
  options.positives = positives;
  for (std::int64_t i = 0; i < kImages; ++i) {
    options.image_days.push_back(i == 3 ? std::nan("") : 2.5 * static_cast<double>(i));
    options.image_studies.push_back(i / 2);
  }
  return options;
}

TEST(MoCoMethod, QueueStoresTheTimesStudiesAndImagesOfItsKeys) {
  PositiveOptions window;
  window.rule = PositiveRule::kWindow;
  window.max_days = 30.0;
  auto method = make_method(dated_options("cltci_moco", window), tiny_unet());
  method->train(true);
  torch::optim::SGD optimizer(method->trainable_parameters(), torch::optim::SGDOptions(0.01));
  // random_batch(3) holds images 3 (undated), 8, 13, 18.
  train_step(*method, optimizer, random_batch(3, {3, 5, 3, 7}), 0);
  const MoCoQueue* queue = method->queue();
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(to_vector_of<std::int64_t>(queue->images()),
            (std::vector<std::int64_t>{3, 8, 13, 18, -1, -1}));
  const std::vector<double> days = to_vector_of<double>(queue->days());
  EXPECT_TRUE(std::isnan(days[0]));
  EXPECT_EQ(days[1], 20.0);
  EXPECT_EQ(days[2], 32.5);
  EXPECT_EQ(days[3], 45.0);
  EXPECT_TRUE(std::isnan(days[4]));
  // The window rule does not read studies: the queue stores them as unknown.
  EXPECT_EQ(to_vector_of<std::int64_t>(queue->studies()), (std::vector<std::int64_t>(6, -1)));
  // Counts of the step: 4 anchors, and the queue was empty, so no positive of another image.
  const std::optional<PositiveCounts> counts = method->take_positive_counts();
  ASSERT_TRUE(counts.has_value());
  EXPECT_EQ(counts->anchors, 4.0);
  EXPECT_EQ(counts->positives_per_anchor, 0.0);
  EXPECT_EQ(counts->share_without, 1.0);
  EXPECT_FALSE(method->take_positive_counts().has_value()) << "taken counts restart";
  // Second step, images 4 (patient 3, day 10), 9, 14, 19: anchor 0 (image 4, patient 3) has
  // queue positives image 13 (day 32.5, |dt| = 22.5 <= 30) but not image 3 (undated).
  train_step(*method, optimizer, random_batch(4, {3, 1, 2, 4}), 1);
  const std::optional<PositiveCounts> second = method->take_positive_counts();
  ASSERT_TRUE(second.has_value());
  EXPECT_DOUBLE_EQ(second->positives_per_anchor, 0.25);
  EXPECT_DOUBLE_EQ(second->share_without, 0.75);
}

TEST(Method, PositiveRulesTheDataCannotFeedAreInputErrorsNamingTheKey) {
  auto message = [](const MethodOptions& options) {
    try {
      make_method(options, tiny_unet());
    } catch (const common::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  PositiveOptions study;
  study.rule = PositiveRule::kStudy;
  MethodOptions no_studies = dated_options("cltci_simclr", study);
  no_studies.image_studies.assign(kImages, -1);
  EXPECT_NE(message(no_studies).find("method.positives: study needs study ids"), std::string::npos);
  PositiveOptions weighted;
  weighted.rule = PositiveRule::kWeighted;
  weighted.time_scale_days = 5.0;
  MethodOptions undated = dated_options("cltci_moco", weighted);
  undated.image_days.assign(kImages, std::nan(""));
  EXPECT_NE(message(undated).find("method.positives: weighted needs acquisition times"),
            std::string::npos);
  EXPECT_NE(message(dated_options("simclr", weighted))
                .find("method.positives: weighted applies "
                      "to cltci_moco and cltci_simclr"),
            std::string::npos);
  weighted.time_scale_days = -1.0;
  EXPECT_NE(message(dated_options("cltci_moco", weighted)).find("method.time_scale_days"),
            std::string::npos);
}

TEST(Method, ConfigListsTheMethodsAndPositiveRulesOfTheLibrary) {
  // The config's choice lists are these registries (config/sections.cpp reads them): a refused
  // name lists exactly the library's methods.
  try {
    config::load_pretrain_config({}, {"method.name=nope"});
    ADD_FAILURE() << "method.name=nope was accepted";
  } catch (const common::InputError& error) {
    std::string listed;
    for (const auto& name : method_names()) listed += (listed.empty() ? "" : ", ") + name;
    ASSERT_EQ(error.problems().size(), 1U);
    EXPECT_NE(error.problems()[0].find("must be one of " + listed + " (got 'nope')"),
              std::string::npos)
        << error.problems()[0];
  }
  for (const std::string& name : method_names()) {
    EXPECT_EQ(uses_patient_positives(name), name == "cltci_moco" || name == "cltci_simclr");
  }
}

TEST(PirlMethod, BankUpdatesOnlyTheBatchEntries) {
  auto method = make_method(tiny_options("pirl"), tiny_unet());
  method->train(true);
  torch::optim::SGD optimizer(method->trainable_parameters(), torch::optim::SGDOptions(0.01));
  const PirlMemoryBank* bank = method->memory_bank();
  ASSERT_NE(bank, nullptr);
  EXPECT_EQ(bank->size(), kImages);
  const torch::Tensor before = bank->bank().clone();
  const MethodBatch batch = random_batch(2);
  train_step(*method, optimizer, batch, 0);
  const torch::Tensor after = bank->bank();
  for (std::int64_t i = 0; i < kImages; ++i) {
    const bool in_batch = (batch.index == i).any().item<bool>();
    EXPECT_EQ(torch::equal(before[i], after[i]), !in_batch) << "entry " << i;
  }
}

TEST(Method, StateRoundTripRestoresWeightsQueueAndBank) {
  for (const std::string name : {"cltci_moco", "pirl", "rotation"}) {
    auto trained = make_method(tiny_options(name), tiny_unet());
    trained->train(true);
    torch::optim::SGD optimizer(trained->trainable_parameters(), torch::optim::SGDOptions(0.1));
    train_step(*trained, optimizer, random_batch(0), 0);
    train_step(*trained, optimizer, random_batch(1), 1);
    std::stringstream stream;
    {
      torch::serialize::OutputArchive archive;
      trained->save_state(archive);
      archive.save_to(stream);
    }
    torch::manual_seed(99);  // different initial weights
    auto options = tiny_options(name);
    options.seed = 77;  // different bank
    auto restored = make_method(options, tiny_unet());
    torch::serialize::InputArchive archive;
    archive.load_from(stream);
    restored->load_state(archive);
    ASSERT_EQ(trained->modules().size(), restored->modules().size());
    for (std::size_t m = 0; m < trained->modules().size(); ++m) {
      const auto a = trained->modules()[m].second->named_buffers();
      const auto b = restored->modules()[m].second->named_buffers();
      for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()]));
      const auto pa = parameters_of(*trained->modules()[m].second);
      const auto pb = parameters_of(*restored->modules()[m].second);
      for (const auto& [key, value] : pa) EXPECT_TRUE(torch::equal(value, pb.at(key))) << key;
    }
    if (trained->queue() != nullptr) {
      EXPECT_TRUE(torch::equal(trained->queue()->keys(), restored->queue()->keys()));
      EXPECT_TRUE(torch::equal(trained->queue()->ids(), restored->queue()->ids()));
      EXPECT_TRUE(torch::equal(trained->queue()->valid(), restored->queue()->valid()));
      EXPECT_EQ(trained->queue()->pointer(), restored->queue()->pointer());
    }
    if (trained->memory_bank() != nullptr) {
      EXPECT_TRUE(torch::equal(trained->memory_bank()->bank(), restored->memory_bank()->bank()));
    }
  }
}

TEST(Method, ExportedEncoderLoadsBackIntoAFreshEncoder) {
  testing::TempDir dir;
  auto method = make_method(tiny_options("cltci_simclr"), tiny_unet());
  method->train(true);
  torch::optim::SGD optimizer(method->trainable_parameters(), torch::optim::SGDOptions(0.1));
  train_step(*method, optimizer, random_batch(0), 0);
  models::export_weights(*method->encoder(), dir / "encoder.safetensors");
  auto fresh = models::make_encoder(tiny_unet());
  models::import_weights(*fresh, dir / "encoder.safetensors");
  method->train(false);
  fresh->eval();
  const torch::Tensor x = torch::rand({2, 1, kSize, kSize});
  EXPECT_TRUE(torch::equal(method->encoder()->forward(x), fresh->forward(x)));
}

TEST(Method, ResNetEncoderExportsUnderTorchvisionNames) {
  testing::TempDir dir;
  models::ModelSpec spec;
  spec.arch = "deeplabv3plus";
  auto method = make_method(tiny_options("rotation"), spec);
  models::export_weights(*method->encoder(), dir / "encoder.safetensors");
  const auto file = models::read_safetensors(dir / "encoder.safetensors");
  EXPECT_TRUE(file.tensors.contains("conv1.weight"));
  EXPECT_TRUE(file.tensors.contains("layer1.0.downsample.1.running_mean"));
  EXPECT_TRUE(file.tensors.contains("layer4.2.bn3.weight"));
  EXPECT_FALSE(file.tensors.contains("fc.weight"));  // the head is not part of the encoder
  for (const auto& entry : file.tensors) {
    EXPECT_EQ(entry.key().rfind("head", 0), std::string::npos) << entry.key();
  }
}

}  // namespace
}  // namespace cltci::ssl
