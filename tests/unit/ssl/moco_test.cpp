#include "cltci/ssl/moco.h"

#include "cltci/common/error.h"
#include "common_test_support.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cltci::ssl {
namespace {

/// Batch of keys whose rows are distinguishable after normalisation: row r = e_(r mod D) * 3.
torch::Tensor marker_keys(std::int64_t batch, std::int64_t dim, std::int64_t first) {
  auto k = torch::zeros({batch, dim});
  for (std::int64_t r = 0; r < batch; ++r) k[r][(first + r) % dim] = 3.0;
  return k;
}

std::vector<std::int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kLong).contiguous();
  return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

TEST(MoCoQueue, StartsEmptyAndFillsInFifoOrderWithWrapAround) {
  MoCoQueue queue(5, 8);
  EXPECT_EQ(queue.num_valid(), 0);
  EXPECT_EQ(to_vector(queue.ids()), std::vector<std::int64_t>(5, -1));
  queue.enqueue(marker_keys(2, 8, 0), torch::tensor({10, 11}));
  EXPECT_EQ(queue.pointer(), 2);
  EXPECT_EQ(to_vector(queue.valid()), (std::vector<std::int64_t>{1, 1, 0, 0, 0}));
  queue.enqueue(marker_keys(2, 8, 2), torch::tensor({12, 13}));
  // Third batch of 2 into a queue of 5: one slot at the end, then wraps to slot 0.
  queue.enqueue(marker_keys(2, 8, 4), torch::tensor({14, 15}));
  EXPECT_EQ(queue.pointer(), 1);
  EXPECT_EQ(to_vector(queue.ids()), (std::vector<std::int64_t>{15, 11, 12, 13, 14}));
  EXPECT_EQ(queue.num_valid(), 5);
  // Stored keys are the normalised inputs in the same slots: slot s holds e_(marker).
  const std::vector<std::int64_t> marker = {5, 1, 2, 3, 4};
  for (std::int64_t s = 0; s < 5; ++s) {
    auto expected = torch::zeros({8});
    expected[marker[s]] = 1.0;
    EXPECT_TRUE(torch::equal(queue.keys()[s], expected)) << "slot " << s;
  }
}

TEST(MoCoQueue, BatchLargerThanQueueKeepsTheNewestKeys) {
  MoCoQueue queue(3, 4);
  queue.enqueue(marker_keys(1, 4, 0), torch::tensor({1}));
  queue.enqueue(marker_keys(5, 4, 0), torch::tensor({20, 21, 22, 23, 24}));
  // Same as five single enqueues after the first: pointer (1 + 5) % 3 = 0.
  EXPECT_EQ(queue.pointer(), 0);
  // 20 -> slot 1, 21 -> 2, 22 -> 0, 23 -> 1, 24 -> 2.
  EXPECT_EQ(to_vector(queue.ids()), (std::vector<std::int64_t>{22, 23, 24}));
}

TEST(MoCoQueue, StateRoundTripsAndRejectsMismatches) {
  MoCoQueue queue(4, 3);
  queue.enqueue(torch::randn({3, 3}), torch::tensor({7, 8, 9}));
  const MoCoQueueState state = queue.state();
  MoCoQueue restored(4, 3);
  restored.load_state(state);
  EXPECT_TRUE(torch::equal(restored.keys(), queue.keys()));
  EXPECT_TRUE(torch::equal(restored.ids(), queue.ids()));
  EXPECT_TRUE(torch::equal(restored.valid(), queue.valid()));
  EXPECT_EQ(restored.pointer(), 3);
  // The snapshot is a copy: later enqueues do not change it.
  queue.enqueue(torch::randn({1, 3}), torch::tensor({1}));
  EXPECT_EQ(state.pointer.item<std::int64_t>(), 3);
  MoCoQueue other(5, 3);
  EXPECT_THROW(other.load_state(state), c10::Error);
}

TEST(MoCoQueue, StoresTimesStudiesAndImagesBesideTheIdsWithWrapAround) {
  MoCoQueue queue(3, 4);
  const double nan = std::nan("");
  // Undated slots hold NaN, unknown studies and images -1, from the start.
  EXPECT_TRUE(torch::isnan(queue.days()).all().item<bool>());
  EXPECT_EQ(to_vector(queue.studies()), (std::vector<std::int64_t>{-1, -1, -1}));
  queue.enqueue(marker_keys(2, 4, 0), torch::tensor({1, 2}), torch::tensor({10.5, nan}),
                torch::tensor({7, -1}), torch::tensor({40, 41}));
  queue.enqueue(marker_keys(2, 4, 2), torch::tensor({3, 4}), torch::tensor({12.0, 13.25}),
                torch::tensor({8, 9}), torch::tensor({42, 43}));
  // Slots: [3, 2, 1] after the wrap: the second batch's second key went to slot 0.
  EXPECT_EQ(to_vector(queue.ids()), (std::vector<std::int64_t>{4, 2, 3}));
  EXPECT_EQ(to_vector(queue.studies()), (std::vector<std::int64_t>{9, -1, 8}));
  EXPECT_EQ(to_vector(queue.images()), (std::vector<std::int64_t>{43, 41, 42}));
  const torch::Tensor days = queue.days();
  EXPECT_EQ(days.scalar_type(), torch::kDouble);
  EXPECT_EQ(days[0].item<double>(), 13.25);
  EXPECT_TRUE(std::isnan(days[1].item<double>()));
  EXPECT_EQ(days[2].item<double>(), 12.0);
  const PairAttributes attributes = queue.attributes();
  EXPECT_TRUE(torch::equal(attributes.ids, queue.ids()));
  EXPECT_TRUE(torch::equal(attributes.images, queue.images()));
  // Without times, studies and images an enqueue stores them as unknown.
  queue.enqueue(marker_keys(1, 4, 0), torch::tensor({5}));
  EXPECT_TRUE(std::isnan(queue.days()[1].item<double>()));
  EXPECT_EQ(queue.images()[1].item<std::int64_t>(), -1);
  EXPECT_THROW(queue.enqueue(marker_keys(2, 4, 0), torch::tensor({1, 2}), torch::tensor({1.0})),
               c10::Error);
}

TEST(MoCoQueue, StateKeepsTimesAndRestoresAnOlderStateWithoutThemAsUnknown) {
  MoCoQueue queue(3, 2);
  queue.enqueue(torch::randn({2, 2}), torch::tensor({1, 2}), torch::tensor({4.0, 5.0}),
                torch::tensor({0, 1}), torch::tensor({6, 7}));
  MoCoQueue restored(3, 2);
  restored.load_state(queue.state());
  EXPECT_TRUE(torch::equal(restored.days().nan_to_num(-1), queue.days().nan_to_num(-1)));
  EXPECT_TRUE(torch::equal(restored.studies(), queue.studies()));
  EXPECT_TRUE(torch::equal(restored.images(), queue.images()));
  // A checkpoint from before the queue stored them: keys and ids come back, the rest unknown.
  MoCoQueueState old = queue.state();
  old.days.reset();
  old.studies.reset();
  old.images.reset();
  MoCoQueue from_old(3, 2);
  from_old.load_state(old);
  EXPECT_TRUE(torch::equal(from_old.ids(), queue.ids()));
  EXPECT_TRUE(torch::isnan(from_old.days()).all().item<bool>());
  EXPECT_EQ(to_vector(from_old.images()), (std::vector<std::int64_t>{-1, -1, -1}));
}

TEST(MoCoQueue, BadSizesAreInputErrors) {
  EXPECT_THROW(MoCoQueue(0, 8), common::InputError);
  EXPECT_THROW(MoCoQueue(-3, 8), common::InputError);
  EXPECT_THROW(MoCoQueue(8, 0), common::InputError);
  try {
    MoCoQueue(0, 8);
  } catch (const common::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("size must be > 0"), std::string::npos) << e.what();
  }
  MoCoQueue queue(4, 3);
  EXPECT_THROW(queue.enqueue(torch::randn({2, 4}), torch::tensor({1, 2})), c10::Error);
  EXPECT_THROW(queue.enqueue(torch::randn({2, 3}), torch::tensor({1})), c10::Error);
}

struct TinyEncoder : torch::nn::Module {
  TinyEncoder() {
    linear = register_module("linear", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
  torch::Tensor forward(const torch::Tensor& x) { return bn(linear(x)); }
  torch::nn::Linear linear{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

TEST(MoCoMomentum, UpdateIsExactBlendOfParametersAndCopiesBuffers) {
  torch::manual_seed(1);
  TinyEncoder query;
  TinyEncoder key;
  // The query encoder's BN statistics move; the key encoder must take them over verbatim.
  query.train();
  query.forward(torch::randn({6, 3}));
  const auto key_weight = key.linear->weight.detach().clone();
  const auto key_bias = key.linear->bias.detach().clone();
  momentum_update(key, query, 0.75);
  EXPECT_TRUE(torch::allclose(key.linear->weight, 0.75 * key_weight + 0.25 * query.linear->weight,
                              0, 1e-7));
  EXPECT_TRUE(
      torch::allclose(key.linear->bias, 0.75 * key_bias + 0.25 * query.linear->bias, 0, 1e-7));
  EXPECT_TRUE(torch::equal(key.bn->running_mean, query.bn->running_mean));
  EXPECT_TRUE(torch::equal(key.bn->running_var, query.bn->running_var));
  EXPECT_EQ(key.bn->num_batches_tracked.item<std::int64_t>(), 1);
  // m = 1 keeps the key weights; m = 0 copies the query weights.
  const auto before = key.linear->weight.detach().clone();
  momentum_update(key, query, 1.0);
  EXPECT_TRUE(torch::equal(key.linear->weight, before));
  init_key_encoder(key, query);
  EXPECT_TRUE(torch::equal(key.linear->weight, query.linear->weight));
  EXPECT_FALSE(key.linear->weight.requires_grad());
  EXPECT_TRUE(query.linear->weight.requires_grad());
}

TEST(MoCoMomentum, RejectsBadMomentumAndMismatchedModules) {
  TinyEncoder a;
  TinyEncoder b;
  EXPECT_THROW(momentum_update(a, b, 1.5), common::InputError);
  EXPECT_THROW(momentum_update(a, b, -0.1), common::InputError);
  torch::nn::Linear other(3, 4);
  EXPECT_THROW(momentum_update(*other, *a.linear, 0.9), c10::Error);
}

TEST(MoCoSplitBatchNorm, IdentityEncoderReturnsInputOrder) {
  const auto batch = torch::arange(10).view({10, 1}).to(torch::kFloat);
  std::int64_t calls = 0;
  const auto out = shuffled_split_forward(
      [&](const torch::Tensor& x) {
        ++calls;
        return x * 1.0;
      },
      batch, 3, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(torch::equal(out, batch));
}

TEST(MoCoSplitBatchNorm, EachSubBatchIsNormalisedWithItsOwnStatistics) {
  torch::nn::BatchNorm1d bn(torch::nn::BatchNorm1dOptions(1).affine(false).momentum(0.0));
  bn->train();
  const auto batch = torch::arange(8).view({8, 1}).to(torch::kDouble).pow(2);
  std::vector<torch::Tensor> seen;
  const auto out = shuffled_split_forward(
      [&](const torch::Tensor& x) {
        seen.push_back(x.clone());
        return bn(x.to(torch::kFloat)).to(torch::kDouble);
      },
      batch, 2, 7);
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].size(0), 4);
  // Recompute the expected output per sub-batch with its own mean and biased variance.
  auto expected = torch::empty_like(batch);
  for (const auto& sub : seen) {
    const auto mean = sub.mean();
    const auto var = sub.var(/*unbiased=*/false);
    for (std::int64_t r = 0; r < sub.size(0); ++r) {
      const double v = sub[r][0].item<double>();
      const auto row = static_cast<std::int64_t>(std::lround(std::sqrt(v)));
      expected[row][0] = (v - mean.item<double>()) / std::sqrt(var.item<double>() + 1e-5);
    }
  }
  EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-5));
  // And it differs from whole-batch BatchNorm.
  EXPECT_FALSE(torch::allclose(out, bn(batch.to(torch::kFloat)).to(torch::kDouble), 1e-3, 1e-3));
  // Same seed, same split; splits out of range are rejected.
  EXPECT_THROW(shuffled_split_forward([](const torch::Tensor& x) { return x; }, batch, 9, 1),
               common::InputError);
  EXPECT_THROW(shuffled_split_forward([](const torch::Tensor& x) { return x; }, batch, 0, 1),
               common::InputError);
}

}  // namespace
}  // namespace cltci::ssl
