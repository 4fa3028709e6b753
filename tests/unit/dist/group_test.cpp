#include "cltci/dist/group.h"

#include "cltci/common/error.h"
#include "cltci/dist/gather.h"
#include "cltci/dist/gradient_sync.h"
#include "common_test_support.h"
#include "dist_test_support.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace cltci::dist {
namespace {

using testing::run_ranks;

TEST(GroupTest, TheSingleProcessGroupDoesNothing) {
  Group group;
  EXPECT_FALSE(group.distributed());
  EXPECT_TRUE(group.main());
  std::vector<at::Tensor> values{torch::ones({3})};
  group.all_reduce_sum(values);
  EXPECT_TRUE(torch::equal(values[0], torch::ones({3})));
  const at::Tensor local = torch::arange(4);
  EXPECT_TRUE(group.all_gather(local).is_same(local));
  EXPECT_EQ(group.broadcast_value(7), 7);
  group.barrier();
  EXPECT_EQ(group.describe(), "single process");
}

TEST(GroupTest, CollectivesOnTwoGlooRanks) {
  run_ranks(2, [](const std::shared_ptr<Group>& group) {
    const int r = group->rank();
    EXPECT_EQ(group->world_size(), 2);
    EXPECT_EQ(group->backend(), Backend::kGloo);
    std::vector<at::Tensor> values{torch::tensor({1.0 + r, 10.0 * r}),
                                   torch::full({2, 2}, r, torch::kLong)};
    group->all_reduce_sum(values);
    EXPECT_TRUE(torch::equal(values[0], torch::tensor({3.0, 10.0})));
    EXPECT_TRUE(torch::equal(values[1], torch::full({2, 2}, 1, torch::kLong)));
    at::Tensor flat = torch::full({5}, 2.0 * (r + 1));
    group->all_reduce_sum_async(flat).wait();
    EXPECT_TRUE(torch::equal(flat, torch::full({5}, 6.0)));
    std::vector<at::Tensor> from_zero{torch::full({3}, r == 0 ? 4.0 : -1.0)};
    group->broadcast(from_zero);
    EXPECT_TRUE(torch::equal(from_zero[0], torch::full({3}, 4.0)));
    // Rank-major concatenation along dim 0.
    const at::Tensor gathered = group->all_gather(torch::full({2, 3}, r, torch::kFloat));
    EXPECT_TRUE(torch::equal(gathered, torch::cat({torch::zeros({2, 3}), torch::ones({2, 3})})));
    EXPECT_EQ(group->broadcast_value(r == 0 ? 42 : 0), 42);
    EXPECT_DOUBLE_EQ(group->max_value(r == 1 ? 3.5 : -2.0), 3.5);
    group->barrier();
  });
}

TEST(GroupTest, ARendezvousThatTimesOutSaysSoInOneLine) {
  // Rank 1 of 2 never comes: rank 0 gives up after the timeout with one line naming the store,
  // the rank and the config key, instead of waiting forever.
  testing::LoopbackStore store;
  try {
    Group::join(testing::loopback_launch(0, 2, store.port()),
                testing::loopback_options(std::chrono::seconds(2)));
    FAIL() << "joined a group whose second rank never came";
  } catch (const common::Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("rendezvous at 127.0.0.1:" + std::to_string(store.port()) +
                           " (rank 0 of 2, torchrun/env) failed within 2 s (run.dist_timeout_s)"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(GroupTest, GatherWithGradSumsTheRanksGradients) {
  // Rank r's loss is sum(w_r * Z) over the gathered Z = [x_0; x_1]. Then dL_s/dx_r = w_s[rows
  // of r], and x_r's gradient must be their sum over s: the shortcut (local gradient only) would
  // give w_r's rows alone.
  run_ranks(2, [](const std::shared_ptr<Group>& group) {
    const int r = group->rank();
    const auto options = torch::TensorOptions().dtype(torch::kDouble);
    const at::Tensor x = torch::full({2, 3}, 1.0 + r, options).requires_grad_(true);
    const at::Tensor weights0 = torch::arange(12, options).view({4, 3});
    const at::Tensor weights1 = torch::arange(12, options).view({4, 3}) * -0.5 + 1.0;
    const at::Tensor all = all_gather_with_grad(x, group);
    ASSERT_EQ(all.size(0), 4);
    EXPECT_TRUE(torch::equal(all.detach().slice(0, 2 * r, 2 * r + 2), x.detach()));
    ((r == 0 ? weights0 : weights1) * all).sum().backward();
    const at::Tensor expected = (weights0 + weights1).slice(0, 2 * r, 2 * r + 2);
    EXPECT_TRUE(torch::allclose(x.grad(), expected, 0.0, 1e-15));
  });
}

TEST(GradientSyncTest, AveragesOverRanksInSeveralBucketsWithAnUnusedParameter) {
  // Identical replicas of a model, different local data: after finish() each rank's gradients
  // are the mean of the ranks' gradients, i.e. those of the global batch's mean loss. Tiny
  // buckets force several launches; the unused parameter counts as zeros.
  run_ranks(2, [](const std::shared_ptr<Group>& group) {
    const int r = group->rank();
    torch::nn::Linear first(4, 5);
    torch::nn::Linear second(5, 2);
    torch::nn::Linear unused(2, 2);
    std::vector<at::Tensor> parameters;
    for (auto* module : {first.ptr().get(), second.ptr().get(), unused.ptr().get()}) {
      for (const auto& p : module->parameters()) parameters.push_back(p);
    }
    // The same replica on both ranks without the shared global generator (ranks are threads).
    {
      const torch::NoGradGuard no_grad;
      for (std::size_t k = 0; k < parameters.size(); ++k) {
        parameters[k].copy_(
            torch::sin(torch::arange(parameters[k].numel(), torch::kFloat) + static_cast<float>(k))
                .view(parameters[k].sizes()) *
            0.5);
      }
    }
    auto data = torch::arange(24, torch::kFloat).view({6, 4}) / 10.0;
    const auto loss_of = [&](const at::Tensor& x) {
      return second(torch::tanh(first(x))).pow(2).mean();
    };
    // The reference: the global batch (rows 0-5) on one process.
    for (auto& p : parameters) p.mutable_grad() = at::Tensor();
    loss_of(data).backward();
    std::vector<at::Tensor> expected;
    for (const auto& p : parameters) {
      expected.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    }
    for (auto& p : parameters) p.mutable_grad() = at::Tensor();
    GradientSyncOptions options;
    options.bucket_bytes = 64;
    GradientSync sync(parameters, group, options);
    EXPECT_GE(sync.buckets(), 3U);
    for (int step = 0; step < 2; ++step) {  // twice: the buckets reset between steps
      for (auto& p : parameters) p.mutable_grad() = at::Tensor();
      loss_of(data.slice(0, 3 * r, 3 * r + 3)).backward();
      sync.finish();
      for (std::size_t k = 0; k < parameters.size(); ++k) {
        ASSERT_TRUE(parameters[k].grad().defined());
        EXPECT_TRUE(torch::allclose(parameters[k].grad(), expected[k], 1e-6, 1e-7))
            << "parameter " << k << " step " << step;
      }
    }
  });
}

TEST(GroupTest, NcclCollectivesOnTheGpus_CUDA) {
  CLTCI_REQUIRE_CUDA();
  // Two ranks where two GPUs exist, else NCCL with a world of one (which still runs every
  // collective through NCCL).
  const int world = std::min<int>(2, static_cast<int>(torch::cuda::device_count()));
  testing::LoopbackStore store;
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(world));
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < world; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        GroupOptions options = testing::loopback_options();
        options.backend = Backend::kNccl;
        options.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(rank));
        auto group = Group::join(testing::loopback_launch(rank, world, store.port()), options);
        EXPECT_EQ(group->backend(), Backend::kNccl);
        const auto on_gpu = torch::TensorOptions().device(options.device);
        std::vector<at::Tensor> values{torch::full({4}, 1.0 + rank, on_gpu)};
        group->all_reduce_sum(values);
        const double sum = world == 2 ? 3.0 : 1.0;
        EXPECT_TRUE(torch::equal(values[0].cpu(), torch::full({4}, sum)));
        const at::Tensor gathered = group->all_gather(torch::full({2}, rank, on_gpu));
        EXPECT_EQ(gathered.size(0), 2 * world);
        EXPECT_EQ(group->broadcast_value(rank == 0 ? 9 : 0), 9);
        const at::Tensor x = torch::ones({2, 3}, on_gpu.dtype(torch::kDouble)).requires_grad_(true);
        (all_gather_with_grad(x, group) * 2.0).sum().backward();
        EXPECT_TRUE(torch::equal(x.grad().cpu(), torch::full({2, 3}, 2.0 * world, torch::kDouble)));
        group->barrier();
      } catch (...) {
        errors[static_cast<std::size_t>(rank)] = std::current_exception();
      }
    });
  }
  for (auto& rank : ranks) rank.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

TEST(GroupTest, AKilledRankEndsTheOthersWithOneLineNamingIt) {
  // Forked processes: rank 1 is killed with SIGKILL while both run collectives; rank 0 must
  // leave its collective with PeerLost naming rank 1 well within the 20 s timeout.
  testing::LoopbackStore store;
  char path[] = "/tmp/cltci-peer-lost-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  const auto start_rank = [&](int rank) {
    const pid_t pid = fork();
    if (pid != 0) return pid;
    int code = 0;
    try {
      torch::set_num_threads(1);
      auto group = Group::join(testing::loopback_launch(rank, 2, store.port()),
                               testing::loopback_options(std::chrono::seconds(20)));
      for (;;) {
        std::vector<at::Tensor> values{torch::ones({1024})};
        group->all_reduce_sum(values);
      }
    } catch (const PeerLost& error) {
      std::ofstream(path) << error.what();
      code = 3;
    } catch (const std::exception& error) {
      std::ofstream(path) << "unexpected: " << error.what();
      code = 4;
    }
    _exit(code);
  };
  const pid_t zero = start_rank(0);
  const pid_t one = start_rank(1);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // both joined and reducing
  kill(one, SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  int status = 0;
  pid_t done = 0;
  while ((done = waitpid(zero, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() - killed < std::chrono::seconds(25)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  waitpid(one, nullptr, 0);
  if (done == 0) {
    kill(zero, SIGKILL);
    waitpid(zero, nullptr, 0);
    FAIL() << "rank 0 still running 25 s after rank 1 was killed";
  }
  std::ifstream in(path);
  const std::string message((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << message;
  EXPECT_NE(message.find("rank 0 of 2: all-reduce failed: rank 1 stopped"), std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
  EXPECT_LT(seconds, 15.0);
}

}  // namespace
}  // namespace cltci::dist
