#include "cltci/run/sweep_state.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/job_lock.h"
#include "cltci/config/sweep_config.h"
#include "cltci/run/sweep_graph.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cltci::run {
namespace {

std::vector<JobStatus> statuses(const SweepState& state) {
  std::vector<JobStatus> out;
  for (const auto& s : state.states()) out.push_back(s.status);
  return out;
}

TEST(SweepState, FollowsSummariesLocksAndFailures) {
  testing::TempDir dir;
  const auto graph = expand_sweep(config::load_sweep_config(
      testing::source_dir() / "configs/sweeps/phantom_ci.yaml", dir.path().string()));
  const SweepState state(graph);
  using S = JobStatus;
  EXPECT_EQ(statuses(state), (std::vector<S>{S::kReady, S::kReady, S::kWaiting, S::kWaiting,
                                             S::kWaiting, S::kWaiting}));
  // Done is the executables' rule: the run's summary.json exists.
  common::write_file_atomic(graph.jobs[0].run_dir / "summary.json", std::string_view("{}"));
  EXPECT_EQ(statuses(state)[0], S::kDone);
  EXPECT_EQ(statuses(state)[2], S::kReady);
  {
    auto lock = common::JobLock::try_acquire(state.lock_file(graph.jobs[2]), 600, 10);
    ASSERT_TRUE(lock);
    EXPECT_EQ(statuses(state)[2], S::kRunning);
  }
  // A failure blocks everything downstream of it, and says why.
  state.mark_failed(graph.jobs[2], "exit code 1");
  const auto states = state.states();
  EXPECT_EQ(states[2].status, S::kFailed);
  EXPECT_EQ(states[2].note, "exit code 1");
  EXPECT_TRUE(states[4].blocked);
  EXPECT_EQ(states[4].note, "blocked: finetune/ft_phantom_unet_cltci_moco_phantom failed");
  EXPECT_TRUE(states[5].blocked);
  EXPECT_FALSE(states[3].blocked);
  state.clear_failure(graph.jobs[2]);
  EXPECT_EQ(statuses(state)[2], S::kReady);
  // A failure this runner saw stays failed even after another runner cleared the marker.
  EXPECT_EQ(state.states({2})[2].status, S::kFailed);
}

}  // namespace
}  // namespace cltci::run
