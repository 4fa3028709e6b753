#include "cltci/engine/trainer.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/engine/lr_schedule.h"
#include "common_test_support.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::engine {
namespace {

/// Linear regression with dropout on fixed data; batches drawn with torch's RNG, so resuming
/// exactly also needs the RNG state from the checkpoint.
class RegressionTask : public TrainingTask {
 public:
  explicit RegressionTask(std::int64_t interrupt_at_global_step = -1,
                          bool poison = false,
                          std::int64_t hidden = 8,
                          std::int64_t poisoned_call = 3)
      : interrupt_at_(interrupt_at_global_step), poison_(poison), poisoned_call_(poisoned_call) {
    torch::manual_seed(3);
    model_ = torch::nn::Sequential(torch::nn::Linear(4, hidden), torch::nn::Dropout(0.2),
                                   torch::nn::Linear(hidden, 1));
    inputs_ = torch::randn({64, 4});
    targets_ = inputs_.matmul(torch::tensor({1.0F, -2.0F, 0.5F, 3.0F}).unsqueeze(1));
  }
  std::vector<torch::Tensor> trainable_parameters() override { return model_->parameters(); }
  std::int64_t steps_per_epoch() const override { return 4; }
  std::int64_t samples_per_step() const override { return 16; }
  void begin_epoch(std::int64_t, std::int64_t) override {}
  torch::Tensor forward_step(std::int64_t, std::int64_t) override {
    if (calls_++ == interrupt_at_) common::request_interrupt(true);
    const auto index = torch::randint(64, {16}, torch::kLong).to(inputs_.device());
    auto loss = torch::mse_loss(model_->forward(inputs_.index_select(0, index)),
                                targets_.index_select(0, index));
    if (poison_ && calls_ == poisoned_call_) loss = loss * std::numeric_limits<float>::quiet_NaN();
    // Finite in fp32, but its gradients overflow once the loss is scaled by 2^16.
    if (calls_ == overflow_call) loss = loss * 1e36F;
    return loss;
  }
  void save_state(torch::serialize::OutputArchive& archive) override { model_->save(archive); }
  void load_state(torch::serialize::InputArchive& archive) override { model_->load(archive); }
  void set_training(bool training) override { model_->train(training); }
  std::int64_t overflow_call = -1;  ///< 1-based forward call whose loss is multiplied by 1e36
  /// Trains on `device`: the dropout masks are then drawn by the device's generator.
  void to(c10::Device device) {
    model_->to(device);
    inputs_ = inputs_.to(device);
    targets_ = targets_.to(device);
  }

  torch::Tensor flat_weights() {
    std::vector<torch::Tensor> flat;
    for (const auto& p : model_->parameters()) flat.push_back(p.detach().flatten());
    return torch::cat(flat);
  }

 private:
  torch::nn::Sequential model_{nullptr};
  torch::Tensor inputs_, targets_;
  std::int64_t calls_ = 0;
  std::int64_t interrupt_at_;
  bool poison_;
  std::int64_t poisoned_call_;
};

TrainerOptions options_for(const std::filesystem::path& dir) {
  TrainerOptions options;
  options.run_dir = dir;
  options.epochs = 6;
  options.checkpoint_every = 2;
  options.log_every = 2;
  options.warmup_epochs = 1;
  options.optimizer.kind = OptimizerKind::kSgd;
  options.optimizer.lr = 0.05;
  options.optimizer.momentum = 0.9;
  return options;
}

TEST(LrSchedule, WarmupTimesCosineWithFloor) {
  ScheduleOptions options{0.1, 0.01, 100, 10, LrSchedule::kCosine};
  EXPECT_NEAR(learning_rate(options, 0), 0.1 * 0.1, 1e-12);  // warm-up factor 1/10, cos(0) = 1
  const double cosine_at_5 = 0.01 + 0.09 * 0.5 * (1 + std::cos(M_PI * 5 / 100));
  EXPECT_NEAR(learning_rate(options, 4), 0.5 * (0.01 + 0.09 * 0.5 * (1 + std::cos(M_PI * 4 / 100))),
              1e-12);
  EXPECT_NEAR(learning_rate(options, 9), 0.01 + 0.09 * 0.5 * (1 + std::cos(M_PI * 9 / 100)), 1e-12);
  EXPECT_GT(learning_rate(options, 5), 0.0);
  EXPECT_LT(std::abs(learning_rate(options, 5) - cosine_at_5 * 0.6), 1e-12);
  EXPECT_NEAR(learning_rate(options, 50), 0.01 + 0.09 * 0.5, 1e-12);
  EXPECT_NEAR(learning_rate(options, 100), 0.01, 1e-12);
  options.schedule = LrSchedule::kConstant;
  EXPECT_NEAR(learning_rate(options, 50), 0.1, 1e-12);
}

TEST(Trainer, LossFallsAndMetricsAreWritten) {
  testing::TempDir dir;
  RegressionTask task;
  const auto result = train(task, options_for(dir.path()));
  EXPECT_EQ(result.steps_done, 24);
  EXPECT_LT(result.last_loss, 2.0);
  std::ifstream metrics(dir / kMetricsFile);
  std::string header;
  std::getline(metrics, header);
  EXPECT_EQ(header, "epoch,step,global_step,loss,lr,samples_per_s");
  int rows = 0;
  std::string line;
  while (std::getline(metrics, line)) ++rows;
  EXPECT_EQ(rows, 12);  // every 2 steps, 24 steps
  EXPECT_TRUE(std::filesystem::exists(dir / kCheckpointFile));
}

TEST(Trainer, InterruptedAndResumedRunEndsWithTheSameWeights) {
  testing::TempDir straight_dir;
  RegressionTask straight;
  train(straight, options_for(straight_dir.path()));

  testing::TempDir resumed_dir;
  {
    RegressionTask first(/*interrupt_at_global_step=*/9);  // epoch 3, step 2: mid-epoch
    EXPECT_THROW(train(first, options_for(resumed_dir.path())), common::Interrupted);
  }
  common::request_interrupt(false);
  RegressionTask second;
  const auto result = train(second, options_for(resumed_dir.path()));
  EXPECT_TRUE(result.resumed);
  EXPECT_TRUE(torch::equal(straight.flat_weights(), second.flat_weights()));
}

TEST(Trainer, InterruptedAndResumedRunOnTheGpuEndsWithTheSameWeights_CUDA) {
  // The dropout masks come from the GPU's generator, which the checkpoint must carry as it
  // carries the CPU's; the rest of the step (cuBLAS GEMMs of one shape on one stream, no atomics
  // in the parameters' gradients) repeats exactly.
  CLTCI_REQUIRE_CUDA();
  const c10::Device gpu(c10::kCUDA, 0);
  auto options_on_gpu = [&](const std::filesystem::path& dir) {
    TrainerOptions options = options_for(dir);
    options.device = gpu;
    return options;
  };
  testing::TempDir straight_dir;
  RegressionTask straight;
  straight.to(gpu);
  train(straight, options_on_gpu(straight_dir.path()));
  testing::TempDir resumed_dir;
  {
    RegressionTask first(/*interrupt_at_global_step=*/9);
    first.to(gpu);
    EXPECT_THROW(train(first, options_on_gpu(resumed_dir.path())), common::Interrupted);
  }
  common::request_interrupt(false);
  RegressionTask second;
  second.to(gpu);
  // Whatever state the GPU's generator is in, the resumed run continues from the saved one.
  torch::cuda::manual_seed_all(99);
  const auto result = train(second, options_on_gpu(resumed_dir.path()));
  EXPECT_TRUE(result.resumed);
  EXPECT_TRUE(torch::equal(straight.flat_weights().cpu(), second.flat_weights().cpu()));
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheCheckpoint) {
  testing::TempDir dir;
  RegressionTask task(-1, /*poison=*/true);
  try {
    train(task, options_for(dir.path()));
    FAIL();
  } catch (const common::Error& error) {
    EXPECT_NE(std::string(error.what()).find("loss is nan at epoch 1 step 2; stopped"),
              std::string::npos)
        << error.what();
  }
}

// metrics.csv without its samples_per_s column (a timing).
std::vector<std::string> metrics_without_rates(const std::filesystem::path& file) {
  std::vector<std::string> rows;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream fields(line);
    std::string cell;
    while (std::getline(fields, cell, ',')) cells.push_back(cell);
    if (cells.size() > 5) cells.erase(cells.begin() + 5);
    std::string row;
    for (const auto& c : cells) row += c + ",";
    rows.push_back(row);
  }
  return rows;
}

TEST(Trainer, DeferredLossReadbackLogsTheSameLossesAndWeights) {
  testing::TempDir every_dir;
  testing::TempDir deferred_dir;
  // Each task right before its run: the constructor seeds the RNG the batches are drawn from.
  RegressionTask every_step;
  auto options = options_for(every_dir.path());
  options.loss_readback = LossReadback::kEveryStep;
  const auto every_result = train(every_step, options);
  RegressionTask deferred;
  options = options_for(deferred_dir.path());
  options.loss_readback = LossReadback::kDeferred;
  const auto deferred_result = train(deferred, options);
  EXPECT_TRUE(torch::equal(every_step.flat_weights(), deferred.flat_weights()));
  EXPECT_EQ(every_result.last_loss, deferred_result.last_loss);
  const auto expected = metrics_without_rates(every_dir / kMetricsFile);
  EXPECT_EQ(expected.size(), 13u);  // header + every 2 of 24 steps
  EXPECT_EQ(metrics_without_rates(deferred_dir / kMetricsFile), expected);
}

TEST(Trainer, LossScalingInFp32LeavesFiniteGradientsExactlyAsTheyWere) {
  testing::TempDir plain_dir;
  testing::TempDir scaled_dir;
  RegressionTask plain;
  auto options = options_for(plain_dir.path());
  options.loss_scaling = LossScaling::kOff;
  const auto plain_result = train(plain, options);
  RegressionTask scaled;
  options = options_for(scaled_dir.path());
  options.loss_scaling = LossScaling::kOn;
  options.grad_scaler.growth_interval = 5;  // the scale grows 4 times over 24 steps
  const auto scaled_result = train(scaled, options);
  // Powers of two: scaling by 2^16..2^20 and back is exact, so not one bit may differ.
  EXPECT_TRUE(torch::equal(plain.flat_weights(), scaled.flat_weights()));
  EXPECT_EQ(plain_result.last_loss, scaled_result.last_loss);
  EXPECT_EQ(scaled_result.skipped_steps, 0);
  EXPECT_EQ(plain_result.skipped_steps, 0);
}

TEST(Trainer, OverflowingScaledGradientsSkipTheStepAndResumeExactly) {
  auto options_in = [](const std::filesystem::path& dir) {
    auto options = options_for(dir);
    options.loss_scaling = LossScaling::kOn;
    options.grad_scaler.growth_interval = 3;
    return options;
  };
  testing::TempDir straight_dir;
  RegressionTask straight;
  straight.overflow_call = 4;
  const auto straight_result = train(straight, options_in(straight_dir.path()));
  EXPECT_EQ(straight_result.skipped_steps, 1);
  EXPECT_TRUE(torch::isfinite(straight.flat_weights()).all().item<bool>());
  EXPECT_LT(straight_result.last_loss, 2.0);

  // The same run interrupted after the skipped step resumes with its scale, growth tracker and
  // count of skipped steps.
  testing::TempDir resumed_dir;
  {
    RegressionTask first(/*interrupt_at_global_step=*/9);
    first.overflow_call = 4;
    EXPECT_THROW(train(first, options_in(resumed_dir.path())), common::Interrupted);
  }
  common::request_interrupt(false);
  RegressionTask second;  // its forward calls count from 1 again: no second overflow
  const auto resumed_result = train(second, options_in(resumed_dir.path()));
  EXPECT_TRUE(resumed_result.resumed);
  EXPECT_EQ(resumed_result.skipped_steps, 1);
  EXPECT_TRUE(torch::equal(straight.flat_weights(), second.flat_weights()));
}

TEST(Trainer, DeferredNonFiniteLossIsNamedAndNothingAfterItIsSaved) {
  testing::TempDir dir;
  // Call 11 is epoch 3 step 2; the checkpoint of epoch 2 was saved before it.
  RegressionTask task(-1, /*poison=*/true, 8, /*poisoned_call=*/11);
  auto options = options_for(dir.path());
  options.loss_readback = LossReadback::kDeferred;
  options.log_every = 4;  // the read-back after the NaN is two steps later
  try {
    train(task, options);
    FAIL();
  } catch (const common::Error& error) {
    EXPECT_NE(std::string(error.what()).find("loss is nan at epoch 3 step 2; stopped"),
              std::string::npos)
        << error.what();
  }
  // The epoch-2 checkpoint, and metrics up to it: nothing of the poisoned window.
  const auto rows = metrics_without_rates(dir / kMetricsFile);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.back().rfind("2,4,8,", 0), 0u) << rows.back();
  RegressionTask resumed;
  auto resume = options_for(dir.path());
  resume.epochs = 2;
  const auto result = train(resumed, resume);
  EXPECT_TRUE(result.resumed);
  EXPECT_EQ(result.steps_done, 8);
}

// The checkpoint of a finished 6-epoch run; the tests resume it for 8 epochs.
std::string checkpoint_of_a_run(const std::filesystem::path& dir) {
  RegressionTask task;
  train(task, options_for(dir));
  return common::read_file(dir / kCheckpointFile);
}

TEST(Trainer, CorruptCheckpointIsRefusedAndKeptAsItIs) {
  testing::TempDir dir;
  std::string bytes = checkpoint_of_a_run(dir.path());
  // Flip a bit in the middle: inside some tensor's data, where torch's reader checks nothing.
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x04);
  common::write_file_atomic(dir / kCheckpointFile, std::string_view(bytes));
  auto options = options_for(dir.path());
  options.epochs = 8;
  RegressionTask task;
  try {
    train(task, options);
    FAIL() << "a corrupt checkpoint was loaded";
  } catch (const common::InputError& error) {
    const std::string what = error.what();
    EXPECT_EQ(
        what.find((dir / kCheckpointFile).string() + ": checksum mismatch: the file is corrupt"),
        0U)
        << what;
  }
  EXPECT_EQ(common::read_file(dir / kCheckpointFile), bytes);
}

TEST(Trainer, CheckpointWithoutAChecksumIsStillAccepted) {
  testing::TempDir dir;
  std::string bytes = checkpoint_of_a_run(dir.path());
  ASSERT_EQ(bytes.substr(bytes.size() - 16, 8), "CLTCICRC");
  bytes.resize(bytes.size() - 16);  // as written before the checksum record existed
  common::write_file_atomic(dir / kCheckpointFile, std::string_view(bytes));
  auto options = options_for(dir.path());
  options.epochs = 8;
  RegressionTask task;
  const auto result = train(task, options);
  EXPECT_TRUE(result.resumed);
}

TEST(Trainer, CheckpointOfAnotherModelNamesTheFirstMismatchingTensor) {
  testing::TempDir dir;
  const std::string bytes = checkpoint_of_a_run(dir.path());
  auto options = options_for(dir.path());
  options.epochs = 8;
  RegressionTask wider(-1, false, /*hidden=*/16);
  try {
    train(wider, options);
    FAIL() << "a checkpoint of another model was loaded";
  } catch (const common::InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              (dir / kCheckpointFile).string() +
                  ": checkpoint of another model: tensor '0.weight' has shape [8, 4], the model "
                  "expects [16, 4]; use the configuration it was written with or --overwrite");
  }
  EXPECT_EQ(common::read_file(dir / kCheckpointFile), bytes);
}

}  // namespace
}  // namespace cltci::engine
