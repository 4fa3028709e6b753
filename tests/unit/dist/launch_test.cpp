#include "cltci/dist/launch.h"

#include "cltci/common/error.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>

namespace cltci::dist {
namespace {

Environment environment(std::map<std::string, std::string> variables) {
  return [variables](const std::string& name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

TEST(LaunchTest, NoVariablesIsTheSingleProcess) {
  const LaunchInfo info = launch_from_environment(environment({}));
  EXPECT_EQ(info.launcher, Launcher::kSingle);
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.world_size, 1);
  EXPECT_FALSE(info.distributed());
}

TEST(LaunchTest, TorchrunVariables) {
  // What torchrun --nproc-per-node 2 --no-python sets for the second worker (distributed.md
  // sec. 5), agent store included.
  const LaunchInfo info =
      launch_from_environment(environment({{"RANK", "3"},
                                           {"WORLD_SIZE", "4"},
                                           {"LOCAL_RANK", "1"},
                                           {"LOCAL_WORLD_SIZE", "2"},
                                           {"MASTER_ADDR", "node7"},
                                           {"MASTER_PORT", "29400"},
                                           {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                           {"TORCHELASTIC_RESTART_COUNT", "2"},
                                           {"TORCHELASTIC_ERROR_FILE", "/tmp/err.json"},
                                           {"SLURM_PROCID", "0"},
                                           {"SLURM_NTASKS", "1"}}));
  EXPECT_EQ(info.launcher, Launcher::kTorchrun);  // torchrun's names win over Slurm's
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.local_world_size, 2);
  EXPECT_EQ(info.master_addr, "node7");
  EXPECT_EQ(info.master_port, 29400);
  EXPECT_TRUE(info.agent_store);
  EXPECT_EQ(info.restart_count, 2);
  EXPECT_EQ(info.error_file, "/tmp/err.json");
}

TEST(LaunchTest, ByHandWithoutAgent) {
  const LaunchInfo info = launch_from_environment(environment(
      {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "1234"}}));
  EXPECT_FALSE(info.agent_store);
  EXPECT_EQ(info.local_rank, 0);  // LOCAL_RANK defaults to RANK
  EXPECT_EQ(info.local_world_size, 1);
}

TEST(LaunchTest, SlurmVariables) {
  const LaunchInfo info = launch_from_environment(environment({{"SLURM_PROCID", "5"},
                                                               {"SLURM_NTASKS", "8"},
                                                               {"SLURM_LOCALID", "1"},
                                                               {"SLURM_NTASKS_PER_NODE", "4"},
                                                               {"SLURM_JOB_NODELIST", "gpu[03-04]"},
                                                               {"SLURM_JOB_ID", "4567891"}}));
  EXPECT_EQ(info.launcher, Launcher::kSlurm);
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.local_world_size, 4);
  EXPECT_EQ(info.master_addr, "gpu03");
  EXPECT_EQ(info.master_port, 15000 + 7891);  // Lightning's rule: last four digits of the job
  // MASTER_ADDR / MASTER_PORT, when exported, win.
  const LaunchInfo given = launch_from_environment(environment({{"SLURM_PROCID", "0"},
                                                                {"SLURM_NTASKS", "2"},
                                                                {"MASTER_ADDR", "head"},
                                                                {"MASTER_PORT", "4000"},
                                                                {"SLURM_JOB_NODELIST", "n1,n2"}}));
  EXPECT_EQ(given.master_addr, "head");
  EXPECT_EQ(given.master_port, 4000);
}

TEST(LaunchTest, FirstSlurmHost) {
  EXPECT_EQ(first_slurm_host("gnode[10,20-25],cpu3"), "gnode10");
  EXPECT_EQ(first_slurm_host("node[007-009]"), "node007");
  EXPECT_EQ(first_slurm_host("a,b"), "a");
  EXPECT_EQ(first_slurm_host("single"), "single");
  EXPECT_EQ(first_slurm_host("rack[2-3]-gpu"), "rack2-gpu");
  EXPECT_THROW(first_slurm_host(""), common::InputError);
  EXPECT_THROW(first_slurm_host("[1-2]"), common::InputError);
  EXPECT_THROW(first_slurm_host("node[x]"), common::InputError);
  EXPECT_THROW(first_slurm_host("node]"), common::InputError);
}

/// The one line a bad launch gives.
std::string problem(std::map<std::string, std::string> variables) {
  try {
    launch_from_environment(environment(std::move(variables)));
  } catch (const common::InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(LaunchTest, BadVariablesAreNamed) {
  EXPECT_NE(problem({{"RANK", "1"}}).find("WORLD_SIZE is not set, but RANK is"), std::string::npos);
  EXPECT_NE(
      problem({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
          .find("RANK=2 is outside [0, WORLD_SIZE=2)"),
      std::string::npos);
  EXPECT_NE(problem({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("RANK='x': expected a non-negative"),
            std::string::npos);
  EXPECT_NE(problem({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}})
                .find("MASTER_ADDR is not set"),
            std::string::npos);
  EXPECT_NE(
      problem({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
          .find("MASTER_PORT=70000"),
      std::string::npos);
  EXPECT_NE(problem({{"RANK", "0"}, {"WORLD_SIZE", "0"}}).find("at least 1 process"),
            std::string::npos);
  EXPECT_NE(problem({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}).find("set MASTER_ADDR"),
            std::string::npos);
  // One process needs no rendezvous address.
  EXPECT_EQ(problem({{"RANK", "0"}, {"WORLD_SIZE", "1"}}), "no error");
}

}  // namespace
}  // namespace cltci::dist
