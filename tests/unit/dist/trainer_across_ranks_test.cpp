// engine::train with a process group: the replicas start equal (rank 0's weights), rank 0 alone
// writes, a NaN on one rank stops every rank at the same step, and a checkpoint of another
// world size is refused.
#include "cltci/common/error.h"
#include "cltci/dist/group.h"
#include "cltci/engine/trainer.h"
#include "common_test_support.h"
#include "dist_test_support.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cltci::dist {
namespace {

namespace fs = std::filesystem;
using testing::run_ranks;

/// Least squares on 16 fixed rows: the global batch of each step is all of them, rank r of w
/// takes rows [16 r / w, 16 (r + 1) / w). Rank `poisoned` returns NaN at global step 2.
class ShardedRegression : public engine::TrainingTask {
 public:
  ShardedRegression(int rank, int world, float start, int poisoned = -1)
      : rank_(rank), world_(world), poisoned_(poisoned), linear_(4, 1) {
    const torch::NoGradGuard no_grad;
    // Different start on each rank: the trainer must broadcast rank 0's.
    linear_->weight.fill_(start);
    linear_->bias.fill_(start);
    inputs_ = torch::sin(torch::arange(64, torch::kFloat)).view({16, 4});
    targets_ = inputs_.matmul(torch::tensor({1.0F, -2.0F, 0.5F, 3.0F}).unsqueeze(1));
  }
  std::vector<torch::Tensor> trainable_parameters() override { return linear_->parameters(); }
  std::int64_t steps_per_epoch() const override { return 3; }
  std::int64_t samples_per_step() const override { return 16; }
  void begin_epoch(std::int64_t, std::int64_t) override {}
  torch::Tensor forward_step(std::int64_t epoch, std::int64_t step) override {
    const std::int64_t begin = 16 * rank_ / world_;
    const std::int64_t end = 16 * (rank_ + 1) / world_;
    auto loss = torch::mse_loss(linear_->forward(inputs_.slice(0, begin, end)),
                                targets_.slice(0, begin, end));
    if (rank_ == poisoned_ && epoch * 3 + step == 2) {
      loss = loss * std::numeric_limits<float>::quiet_NaN();
    }
    return loss;
  }
  void save_state(torch::serialize::OutputArchive& archive) override { linear_->save(archive); }
  void load_state(torch::serialize::InputArchive& archive) override { linear_->load(archive); }
  void set_training(bool training) override { linear_->train(training); }
  torch::Tensor weights() const {
    return torch::cat({linear_->weight.detach().flatten(), linear_->bias.detach()});
  }

 private:
  int rank_;
  int world_;
  int poisoned_;
  torch::nn::Linear linear_;
  torch::Tensor inputs_, targets_;
};

engine::TrainerOptions options_in(const fs::path& dir, std::shared_ptr<Group> group) {
  engine::TrainerOptions options;
  options.run_dir = dir;
  options.epochs = 2;
  options.log_every = 1;
  options.optimizer.kind = engine::OptimizerKind::kSgd;
  options.optimizer.lr = 0.05;
  options.group = std::move(group);
  return options;
}

TEST(TrainerAcrossRanksTest, TwoRanksTrainAsOneAndOnlyRankZeroWrites) {
  const cltci::testing::TempDir scratch;
  const fs::path one = scratch / "one";
  ShardedRegression single(0, 1, 0.1F);
  engine::train(single, options_in(one, nullptr));
  const fs::path two = scratch / "two";
  std::vector<torch::Tensor> weights(2);
  run_ranks(2, [&](const std::shared_ptr<Group>& group) {
    ShardedRegression task(group->rank(), 2, group->rank() == 0 ? 0.1F : -3.0F);
    const engine::TrainResult result = engine::train(task, options_in(two, group));
    EXPECT_EQ(result.steps_done, 6);
    weights[static_cast<std::size_t>(group->rank())] = task.weights();
  });
  EXPECT_TRUE(torch::equal(weights[0], weights[1]));
  EXPECT_TRUE(torch::allclose(weights[0], single.weights(), 1e-6, 1e-6));
  // One metrics.csv (header and six rows, not twelve) and one checkpoint.
  std::ifstream metrics(two / engine::kMetricsFile);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(metrics, line)) ++lines;
  EXPECT_EQ(lines, 7U);
  EXPECT_TRUE(fs::exists(two / engine::kCheckpointFile));
  // The checkpoint is a 2-process one: one process may not resume it.
  ShardedRegression resumer(0, 1, 0.1F);
  engine::TrainerOptions more = options_in(two, nullptr);
  more.epochs = 3;
  try {
    engine::train(resumer, more);
    FAIL() << "a checkpoint of 2 processes was resumed by 1";
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("written by a run of 2 process(es), this one has 1"),
              std::string::npos)
        << error.what();
  }
}

TEST(TrainerAcrossRanksTest, ANanOnOneRankStopsEveryRankAtTheSameStep) {
  const cltci::testing::TempDir scratch;
  const fs::path dir = scratch.path();
  std::vector<std::string> messages(2);
  run_ranks(2, [&](const std::shared_ptr<Group>& group) {
    ShardedRegression task(group->rank(), 2, 0.1F, /*poisoned=*/1);
    try {
      engine::train(task, options_in(dir, group));
    } catch (const common::Error& error) {
      messages[static_cast<std::size_t>(group->rank())] = error.what();
    }
  });
  for (const std::string& message : messages) {
    EXPECT_NE(message.find("nan at epoch 1 step 2"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace cltci::dist
