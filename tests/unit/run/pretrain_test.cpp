#include "cltci/run/pretrain.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/common/run_directory.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/models/safetensors.h"
#include "cltci/models/weights_io.h"
#include "cltci/run/bridges.h"
#include "common_test_support.h"
#include "pretrain_test_support.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cltci::run {
namespace {

using testing_support::tiny_config;

std::filesystem::path run_dir(const config::PretrainConfig& c) {
  return std::filesystem::path(c.run.output_dir) / c.run.name;
}

/// metrics.csv's loss column.
std::vector<double> logged_losses(const std::filesystem::path& metrics) {
  std::ifstream in(metrics);
  std::string line;
  std::getline(in, line);  // header
  std::vector<double> losses;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (int column = 0; column < 4; ++column) std::getline(row, cell, ',');
    losses.push_back(std::stod(cell));
  }
  return losses;
}

std::string input_error(const config::PretrainConfig& c) {
  try {
    pretrain(c, {});
  } catch (const common::InputError& e) {
    return e.what();
  }
  return "no InputError";
}

TEST(Pretrain, PhantomRunLossFallsAndWritesEncoderAndSummary) {
  testing::TempDir dir;
  // Rotation: the one objective a U-Net this small learns reliably within a few seconds (the
  // contrastive ones need more steps and width; docs/pretraining.md). On the phantom v2 at 32 px
  // it leaves log(4) after ~5 epochs.
  auto c = tiny_config(dir, "rotation");
  c.optim.epochs = 16;
  c.optim.lr = 0.05;
  c.run.log_every = 100;  // one metrics row per epoch: the epoch's mean loss
  ASSERT_EQ(pretrain(c, {}), 0);
  const auto losses = logged_losses(run_dir(c) / "metrics.csv");
  ASSERT_EQ(losses.size(), 16u);
  const double first = (losses[0] + losses[1]) / 2;
  const double last = (losses[14] + losses[15]) / 2;
  EXPECT_LT(last, first * 0.8) << "first epochs " << first << ", last epochs " << last;

  const std::string summary = common::read_file(run_dir(c) / "summary.json");
  EXPECT_NE(summary.find("\"method\": \"rotation\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"epochs\": 16"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"encoder\": \"encoder.safetensors\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"images_per_second\": "), std::string::npos) << summary;

  // The exported encoder loads into a fresh one with every key present.
  auto encoder = models::make_encoder(model_spec(c.model));
  const auto report = models::import_weights(*encoder, run_dir(c) / "encoder.safetensors");
  EXPECT_TRUE(report.missing.empty());
  const auto file = models::read_safetensors(run_dir(c) / "encoder.safetensors");
  EXPECT_EQ(file.metadata.at("method"), "rotation");

  // Running the same command again finds the finished run and leaves it alone.
  const auto written = std::filesystem::last_write_time(run_dir(c) / "summary.json");
  EXPECT_EQ(pretrain(c, {}), 0);
  EXPECT_EQ(std::filesystem::last_write_time(run_dir(c) / "summary.json"), written);
}

TEST(Pretrain, CltciMocoProbeFindsPatientsAndLossLeavesTheCollapseValue) {
  testing::TempDir dir;
  // The shipped configs/pretrain/phantom_cltci_moco_unet.yaml (64 px, U-Net base 8, its views,
  // shuffle-BN) on a CI-sized data set: 16 patients of the phantom v2, queue 32 (<= images -
  // batch), 30 epochs; about 5 s on 2 cores.
  const auto c = config::load_pretrain_config(
      testing::source_dir() / "configs/pretrain/phantom_cltci_moco_unet.yaml",
      {"run.output_dir=" + (dir / "runs").string(), "run.threads=1", "run.log_every=100",
       "data.cache_dir=" + (dir / "cache").string(), "data.source.patients=16",
       "data.source.images_per_patient=[2, 6]", "method.queue_size=32", "optim.epochs=30",
       "optim.warmup_epochs=2"});
  ASSERT_EQ(pretrain(c, {}), 0);
  const YAML::Node summary = YAML::LoadFile((run_dir(c) / "summary.json").string());
  const YAML::Node probe = summary["probe"]["encoder"];
  const auto top1 = probe["top1"].as<double>();
  const auto chance = probe["top1_chance"].as<double>();
  EXPECT_GT(top1, 3.0 * chance) << "top-1 " << top1 << ", chance " << chance;
  EXPECT_GT(probe["map"].as<double>(), probe["map_chance"].as<double>());
  EXPECT_GT(probe["positive_cosine"].as<double>(), probe["negative_cosine"].as<double>());
  EXPECT_EQ(summary["probe"]["epoch"].as<int>(), 30);
  EXPECT_TRUE(summary["probe"]["head"]) << "MoCo has a projection head to probe";
  EXPECT_TRUE(summary["probe"]["initial_encoder"]) << "a fresh run probes before training";
  // The loss of all-equal logits is log(1 + queue_size) once the queue is full; the run ends
  // clearly below it.
  EXPECT_NEAR(summary["collapse_loss"].as<double>(), std::log(33.0), 1e-6);
  EXPECT_LT(summary["final_loss"].as<double>(), 0.95 * std::log(33.0));
  // metrics.csv carries the probe columns on probed epochs.
  std::ifstream metrics(run_dir(c) / "metrics.csv");
  std::string header;
  std::getline(metrics, header);
  EXPECT_NE(header.find(",collapse_loss,probe_top1,probe_top1_chance,probe_map"), std::string::npos)
      << header;
}

TEST(Pretrain, CltciSimclrBatchesHoldPPatientsTimesKImages) {
  testing::TempDir dir;
  auto c = tiny_config(dir, "cltci_simclr");
  c.optim.batch_size = 9;
  c.method.images_per_patient = 3;  // P = 3 patients x K = 3 images
  c.optim.epochs = 1;
  const data::CachedDataset dataset = open_dataset(c.data);
  std::int64_t steps = 0;
  PretrainHooks hooks;
  hooks.before_step = [&](std::int64_t, const ssl::MethodBatch& batch) {
    ++steps;
    ASSERT_EQ(batch.patient.numel(), 9);
    ASSERT_EQ(batch.view1.size(0), 9);
    std::map<std::int64_t, int> per_patient;
    for (std::int64_t i = 0; i < 9; ++i) {
      const auto patient = batch.patient[i].item<std::int64_t>();
      // The patient number is the data set's for that image, and the K images are adjacent.
      EXPECT_EQ(patient, dataset.patient_index(batch.index[i].item<std::int64_t>()));
      EXPECT_EQ(patient, batch.patient[i / 3 * 3].item<std::int64_t>());
      ++per_patient[patient];
    }
    EXPECT_EQ(per_patient.size(), 3u);
    for (const auto& entry : per_patient) EXPECT_EQ(entry.second, 3);
  };
  ASSERT_EQ(pretrain(c, {}, hooks), 0);
  EXPECT_EQ(steps, 12 / 3);  // every patient once per epoch, groups of P = 3
}

TEST(Pretrain, VanillaMethodsDrawRandomBatchesOfTheConfiguredSize) {
  testing::TempDir dir;
  auto c = tiny_config(dir, "simclr");
  c.optim.epochs = 1;
  const data::CachedDataset dataset = open_dataset(c.data);
  std::set<std::int64_t> seen;
  std::int64_t steps = 0;
  PretrainHooks hooks;
  hooks.before_step = [&](std::int64_t, const ssl::MethodBatch& batch) {
    ++steps;
    EXPECT_EQ(batch.index.numel(), 8);
    for (std::int64_t i = 0; i < batch.index.numel(); ++i) {
      EXPECT_TRUE(seen.insert(batch.index[i].item<std::int64_t>()).second) << "image drawn twice";
    }
  };
  ASSERT_EQ(pretrain(c, {}, hooks), 0);
  EXPECT_EQ(steps, dataset.size() / 8);  // the short last batch is dropped
}

TEST(Pretrain, AugmentationOnTheDeviceTrainsOnTheLoadersDraws) {
  testing::TempDir dir;
  std::map<std::string, std::vector<torch::Tensor>> views;
  for (const std::string placement : {"loader", "device"}) {
    auto c = tiny_config(dir, "cltci_moco");
    c.run.name = placement;
    c.optim.epochs = 1;
    c.augment.placement = placement;
    c.augment.hflip = true;
    PretrainHooks hooks;
    hooks.before_step = [&](std::int64_t, const ssl::MethodBatch& batch) {
      views[placement].push_back(batch.view1.clone());
      views[placement].push_back(batch.view2.clone());
    };
    ASSERT_EQ(pretrain(c, {}, hooks), 0);
  }
  ASSERT_EQ(views["loader"].size(), views["device"].size());
  ASSERT_FALSE(views["loader"].empty());
  for (std::size_t v = 0; v < views["loader"].size(); ++v) {
    const auto& eager = views["loader"][v];
    const auto& batched = views["device"][v];
    ASSERT_EQ(eager.sizes(), batched.sizes());
    // The same draws, warped by OpenCV in the threads or by grid_sample on the device.
    EXPECT_LT((eager - batched).abs().mean().item<float>(), 4e-3F) << "view " << v;
  }
}

class ResumeEquality : public ::testing::TestWithParam<std::string> {};

TEST_P(ResumeEquality, InterruptedAndResumedRunEndsWithTheSameEncoder) {
  testing::TempDir dir;
  auto whole = tiny_config(dir, GetParam());
  whole.run.name = "whole";
  whole.optim.epochs = 3;
  ASSERT_EQ(pretrain(whole, {}), 0);

  auto parts = whole;
  parts.run.name = "parts";
  // Interrupt in the middle of the second epoch, as a SIGINT between two steps would.
  PretrainHooks hooks;
  std::int64_t last_step = -1;
  hooks.before_step = [&](std::int64_t step, const ssl::MethodBatch&) {
    last_step = step;
    if (step == 5) common::request_interrupt();
  };
  EXPECT_THROW(pretrain(parts, {}, hooks), common::Interrupted);
  common::request_interrupt(false);
  EXPECT_EQ(last_step, 5);
  EXPECT_TRUE(std::filesystem::exists(run_dir(parts) / "checkpoint.pt"));
  EXPECT_FALSE(std::filesystem::exists(run_dir(parts) / "summary.json"));
  std::int64_t first_resumed = -1;
  hooks.before_step = [&](std::int64_t step, const ssl::MethodBatch&) {
    if (first_resumed < 0) first_resumed = step;
  };
  ASSERT_EQ(pretrain(parts, {}, hooks), 0);
  EXPECT_EQ(first_resumed, 6);

  const auto a = models::read_safetensors(run_dir(whole) / "encoder.safetensors").tensors;
  const auto b = models::read_safetensors(run_dir(parts) / "encoder.safetensors").tensors;
  ASSERT_EQ(a.size(), b.size());
  for (const auto& item : a) {
    ASSERT_TRUE(b.contains(item.key())) << item.key();
    EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  }
}

INSTANTIATE_TEST_SUITE_P(Methods,
                         ResumeEquality,
                         ::testing::Values("cltci_moco", "pirl"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(Pretrain, ResumeFromAnOlderCheckpointTruncatesMetricsToIt) {
  testing::TempDir dir;
  auto c = tiny_config(dir, "cltci_moco");
  c.optim.epochs = 3;
  c.run.checkpoint_every = 1;
  // Keep the checkpoint written after epoch 1 (the first step of epoch 2 finds it on disk), as
  // a SIGKILL late in the run would leave an older checkpoint behind the logged rows.
  const auto saved = dir / "epoch1.pt";
  PretrainHooks hooks;
  std::int64_t steps_per_epoch = -1;
  hooks.before_step = [&](std::int64_t step, const ssl::MethodBatch&) {
    if (steps_per_epoch < 0 && std::filesystem::exists(run_dir(c) / "checkpoint.pt")) {
      steps_per_epoch = step;
      std::filesystem::copy_file(run_dir(c) / "checkpoint.pt", saved);
    }
  };
  ASSERT_EQ(pretrain(c, {}, hooks), 0);
  ASSERT_GT(steps_per_epoch, 0);
  const auto rows_of_whole_run = logged_losses(run_dir(c) / "metrics.csv").size();
  std::filesystem::copy_file(saved, run_dir(c) / "checkpoint.pt",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(run_dir(c) / "summary.json");
  ASSERT_EQ(pretrain(c, {}), 0);
  // Every global step is logged once, as in the uninterrupted run.
  std::ifstream in(run_dir(c) / "metrics.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::int64_t> steps;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    for (int column = 0; column < 3; ++column) std::getline(row, cell, ',');
    steps.push_back(std::stoll(cell));
  }
  EXPECT_EQ(steps.size(), rows_of_whole_run);
  for (std::size_t i = 1; i < steps.size(); ++i) EXPECT_LT(steps[i - 1], steps[i]) << "row " << i;
}

TEST(Pretrain, ValuesTheDataOrEncoderCannotUseAreInputErrorsNamingTheKey) {
  testing::TempDir dir;
  auto c = tiny_config(dir, "moco");
  c.optim.batch_size = 500;
  EXPECT_NE(input_error(c).find("optim.batch_size: 500 is larger than the data set"),
            std::string::npos)
      << input_error(c);

  c = tiny_config(dir, "cltci_simclr");
  c.optim.batch_size = 40;
  c.method.images_per_patient = 2;  // 20 patients per batch, the data has 12
  EXPECT_NE(input_error(c).find("optim.batch_size: 40 = 20 patients x 2 images"), std::string::npos)
      << input_error(c);

  c = tiny_config(dir, "rotation");
  c.data.image_size = 30;  // not a multiple of the U-Net's 4
  EXPECT_NE(input_error(c).find("data.image_size: 30 is not a multiple of 4"), std::string::npos)
      << input_error(c);

  c = tiny_config(dir, "pirl");
  c.method.pirl_negatives = 1000;
  EXPECT_NE(input_error(c).find("method.pirl_negatives"), std::string::npos) << input_error(c);

  // None of them left a run directory behind.
  EXPECT_FALSE(std::filesystem::exists(dir / "runs"));
}

TEST(Pretrain, OverwriteReplacesOnlyRunsTheToolkitMadeAndLeavesNothingAside) {
  testing::TempDir dir;
  auto c = tiny_config(dir, "rotation");
  c.optim.epochs = 1;
  ASSERT_EQ(pretrain(c, {}), 0);
  RunOptions overwrite;
  overwrite.overwrite = true;
  // Bad input with --overwrite: the finished run stays as it was.
  const auto encoder = run_dir(c) / kEncoderFile;
  const auto written = std::filesystem::last_write_time(encoder);
  auto bad = c;
  bad.optim.batch_size = 500;
  EXPECT_THROW(pretrain(bad, overwrite), common::InputError);
  EXPECT_EQ(std::filesystem::last_write_time(encoder), written);
  // A good one replaces it, and no moved-aside copy of the old run remains.
  ASSERT_EQ(pretrain(c, overwrite), 0);
  std::vector<std::string> siblings;
  for (const auto& entry : std::filesystem::directory_iterator(c.run.output_dir)) {
    siblings.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(siblings, std::vector<std::string>{"rotation"});
  // A run directory without the marker (made before it existed, or by hand) is not replaced.
  std::filesystem::remove(run_dir(c) / common::kRunMarker);
  const auto kept = std::filesystem::last_write_time(encoder);
  std::string refusal = "no error";
  try {
    pretrain(c, overwrite);
  } catch (const common::InputError& error) {
    refusal = error.what();
  }
  EXPECT_NE(refusal.find("--overwrite refused"), std::string::npos) << refusal;
  EXPECT_EQ(std::filesystem::last_write_time(encoder), kept);
  EXPECT_EQ(pretrain(c, {}), 0);  // but it is still recognised as finished
}

}  // namespace
}  // namespace cltci::run
