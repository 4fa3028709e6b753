#include "cltci/run/sweep_graph.h"

#include "cltci/common/error.h"
#include "cltci/config/sweep_config.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cltci::run {
namespace {

namespace fs = std::filesystem;
using config::SweepStage;

const fs::path kSweeps = testing::source_dir() / "configs" / "sweeps";

SweepGraph load(const std::string& name, const std::string& output = "/tmp/cltci-sweep-test") {
  return expand_sweep(config::load_sweep_config(kSweeps / name, output));
}

std::vector<std::string> ids(const SweepGraph& graph) {
  std::vector<std::string> out;
  for (const auto& job : graph.jobs) out.push_back(job.id);
  return out;
}

TEST(SweepGraph, PhantomCiExpandsToItsSixJobs) {
  const SweepGraph graph = load("phantom_ci.yaml");
  EXPECT_EQ(ids(graph), (std::vector<std::string>{
                            "pretrain/cltci_moco_unet_phantom",
                            "finetune/ft_phantom_unet_random",
                            "finetune/ft_phantom_unet_cltci_moco_phantom",
                            "evaluate/ft_phantom_unet_random_eval",
                            "evaluate/ft_phantom_unet_cltci_moco_phantom_eval",
                            "report/report_phantom_unet",
                        }));
  // The sweep's values reach the configs, and the sweep's own keys win.
  const auto& pretrain = *graph.jobs[0].pretrain;
  EXPECT_EQ(pretrain.method.name, "cltci_moco");
  EXPECT_EQ(pretrain.optim.epochs, 2);
  EXPECT_EQ(pretrain.run.output_dir, "/tmp/cltci-sweep-test");
  EXPECT_EQ(pretrain.data.cache_dir, "/tmp/cltci-sweep-test/cache");
  const auto& from_pretrained = *graph.jobs[2].finetune;
  EXPECT_EQ(from_pretrained.init.type, config::InitType::kPretrained);
  EXPECT_EQ(from_pretrained.init.pretrain_run, "/tmp/cltci-sweep-test/cltci_moco_unet_phantom");
  EXPECT_EQ(from_pretrained.budgets, (std::vector<std::int64_t>{4, 8}));
  EXPECT_EQ(from_pretrained.folds.k, 2);
  EXPECT_EQ(graph.jobs[1].finetune->init.type, config::InitType::kRandom);
  EXPECT_EQ(graph.jobs[3].evaluate->finetune_run, "/tmp/cltci-sweep-test/ft_phantom_unet_random");
  EXPECT_EQ(graph.jobs[5].report->evaluations.size(), 2u);
  EXPECT_EQ(graph.state_dir, fs::path("/tmp/cltci-sweep-test/.sweep"));
}

TEST(SweepGraph, DependenciesComeFirstAndFollowTheStages) {
  const SweepGraph graph = load("phantom_ci.yaml");
  EXPECT_TRUE(graph.jobs[0].deps.empty());
  EXPECT_TRUE(graph.jobs[1].deps.empty());  // random init needs no pre-training
  EXPECT_EQ(graph.jobs[2].deps, (std::vector<std::size_t>{0}));
  EXPECT_EQ(graph.jobs[3].deps, (std::vector<std::size_t>{1}));
  EXPECT_EQ(graph.jobs[4].deps, (std::vector<std::size_t>{2}));
  EXPECT_EQ(graph.jobs[5].deps, (std::vector<std::size_t>{3, 4}));
}

TEST(SweepGraph, PaperTablesCountTheirJobs) {
  for (const char* name : {"table1_bch.yaml", "table2_jsrt.yaml", "table3_montgomery.yaml"}) {
    SCOPED_TRACE(name);
    const SweepGraph graph = load(name);
    // 6 methods x 2 backbones pre-trainings; 7 initialisations x 2 backbones fine-tunings.
    EXPECT_EQ(graph.count(SweepStage::kPretrain), 12u);
    EXPECT_EQ(graph.count(SweepStage::kFinetune), 14u);
    EXPECT_EQ(graph.count(SweepStage::kEvaluate), 14u);
    EXPECT_EQ(graph.count(SweepStage::kReport), 2u);
    std::set<std::string> unique;
    for (std::size_t i = 0; i < graph.jobs.size(); ++i) {
      const SweepJob& job = graph.jobs[i];
      EXPECT_TRUE(unique.insert(job.run_dir.string()).second) << job.id;
      for (std::size_t dep : job.deps) {
        EXPECT_LT(dep, i) << job.id;
        EXPECT_LT(graph.jobs[dep].stage, job.stage) << job.id;
      }
      if (job.stage == SweepStage::kReport) {
        EXPECT_EQ(job.deps.size(), 7u);
      }
      if (job.stage == SweepStage::kFinetune) {
        EXPECT_EQ(job.finetune->folds.k, 5);
        EXPECT_EQ(job.deps.size(), job.finetune->init.type == config::InitType::kRandom ? 0u : 1u);
      }
    }
    // The ResNet-50 encoders come from the resnet50 files.
    const auto found = std::find_if(graph.jobs.begin(), graph.jobs.end(), [](const SweepJob& j) {
      return j.id == "pretrain/rotation_deeplabv3plus_bch";
    });
    ASSERT_NE(found, graph.jobs.end());
    EXPECT_EQ(found->pretrain->model.arch, "deeplabv3plus");
    EXPECT_EQ(found->pretrain->augment.rotation_deg, 0.0);  // rotation_resnet50.yaml
  }
  EXPECT_EQ(load("table1_bch.yaml").jobs.back().report->evaluations.size(), 7u);
}

TEST(SweepGraph, ShardsCoverEveryJobExactlyOnce) {
  const SweepGraph graph = load("table1_bch.yaml");
  for (std::size_t shards = 1; shards <= 7; ++shards) {
    std::map<std::size_t, int> per_job;
    std::map<std::pair<SweepStage, std::size_t>, int> per_stage_shard;
    for (std::size_t i = 0; i < graph.jobs.size(); ++i) {
      for (std::size_t shard = 0; shard < shards; ++shard) {
        if (shard_of(graph.jobs[i], shards) == shard) {
          ++per_job[i];
          ++per_stage_shard[{graph.jobs[i].stage, shard}];
        }
      }
    }
    for (std::size_t i = 0; i < graph.jobs.size(); ++i) EXPECT_EQ(per_job[i], 1) << i;
    // Each stage is spread evenly: shards differ by at most one job of it.
    for (SweepStage stage : {SweepStage::kPretrain, SweepStage::kFinetune}) {
      int low = 1 << 30, high = 0;
      for (std::size_t shard = 0; shard < shards; ++shard) {
        low = std::min(low, per_stage_shard[{stage, shard}]);
        high = std::max(high, per_stage_shard[{stage, shard}]);
      }
      EXPECT_LE(high - low, 1) << shards << " shards";
    }
  }
}

TEST(SweepConfig, ReportsUnknownPlaceholdersAndAxes) {
  testing::TempDir dir;
  const fs::path file = dir / "bad.yaml";
  std::ofstream(file) << "base: {pretrain: 'x_{nope}.yaml', finetune: f.yaml}\n"
                         "axes:\n"
                         "  init: [random]\n"
                         "  backbone: [unet]\n"
                         "  finetune_data: [d]\n"
                         "  budgets: [10]\n"
                         "  methods: [moco]\n";
  try {
    config::load_sweep_config(file, "");
    FAIL() << "expected InputError";
  } catch (const common::InputError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_NE(error.problems()[0].find("bad.yaml:7:3: axes.methods: unknown key"),
              std::string::npos)
        << error.problems()[0];
  }
  std::ofstream(file) << "base: {pretrain: 'x_{nope}.yaml', finetune: f.yaml}\n"
                         "axes: {init: [moco], backbone: [unet], pretrain_data: [p],\n"
                         "       finetune_data: [d], budgets: [10]}\n";
  try {
    expand_sweep(config::load_sweep_config(file, ""));
    FAIL() << "expected InputError";
  } catch (const common::InputError& error) {
    EXPECT_NE(error.problems()[0].find("base.pretrain: unknown placeholder {nope}"),
              std::string::npos)
        << error.problems()[0];
  }
}

}  // namespace
}  // namespace cltci::run
