#include "cltci/config/config_loader.h"

#include "cltci/common/error.h"
#include "cltci/config/finetune_config.h"
#include "cltci/config/pretrain_config.h"
#include "common_test_support.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cltci::config {
namespace {

std::filesystem::path write_yaml(const testing::TempDir& dir, const std::string& text) {
  const auto path = dir / "cfg.yaml";
  std::ofstream(path) << text;
  return path;
}

/// The problems an InputError carries, or a failure when loading succeeded.
std::vector<std::string> pretrain_problems(const std::filesystem::path& file,
                                           const std::vector<std::string>& overrides = {}) {
  try {
    load_pretrain_config(file, overrides);
  } catch (const common::InputError& error) {
    return error.problems();
  }
  ADD_FAILURE() << "expected the config to be rejected";
  return {};
}

TEST(ConfigLoader, DefaultsLoadWithoutAFile) {
  const auto config = load_pretrain_config({}, {});
  EXPECT_EQ(config.run.name, "pretrain");
  EXPECT_DOUBLE_EQ(config.optim.lr, 0.1);
  EXPECT_EQ(config.method.queue_size, 3072);
  EXPECT_EQ(config.optim.batch_size, 16);
}

TEST(ConfigLoader, FileValuesAndOverridesApplyInOrder) {
  testing::TempDir dir;
  const auto file = write_yaml(
      dir, "optim:\n  lr: 0.05\n  epochs: 3\n  warmup_epochs: 1\nmethod: {name: simclr}\n");
  const auto config = load_pretrain_config(file, {"optim.lr=0.02", "augment.gamma=[1.0, 1.2]"});
  EXPECT_DOUBLE_EQ(config.optim.lr, 0.02);
  EXPECT_EQ(config.optim.epochs, 3);
  EXPECT_EQ(config.method.name, "simclr");
  EXPECT_EQ(config.augment.gamma, (std::vector<double>{1.0, 1.2}));
  EXPECT_EQ(config.run.name, "cfg");
}

TEST(ConfigLoader, UnknownKeySuggestsTheClosestWithLineAndColumn) {
  testing::TempDir dir;
  const auto file = write_yaml(dir, "optim:\n  lr: 0.1\n  momentun: 0.9\n");
  const auto problems = pretrain_problems(file);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0],
            file.string() + ":3:3: optim.momentun: unknown key; did you mean 'optim.momentum'?");
}

TEST(ConfigLoader, UnknownKeyFromSetNamesTheOverride) {
  const auto problems = pretrain_problems({}, {"optim.lrr=1"});
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], "--set optim.lrr=1: optim.lrr: unknown key; did you mean 'optim.lr'?");
}

TEST(ConfigLoader, UnknownSectionWithoutCloseMatchListsKnownKeys) {
  testing::TempDir dir;
  const auto file = write_yaml(dir, "trainer: {steps: 3}\n");
  const auto problems = pretrain_problems(file);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], file.string() +
                             ":1:1: trainer: unknown key (known here: augment, data, method, "
                             "model, optim, run)");
}

TEST(ConfigLoader, WrongTypesAndRangesAreAllReportedTogether) {
  testing::TempDir dir;
  const auto file = write_yaml(dir,
                               "optim:\n"
                               "  lr: fast\n"
                               "  epochs: 2.5\n"
                               "  momentum: 1.5\n"
                               "method:\n"
                               "  temperature: -0.1\n"
                               "  name: simclrr\n"
                               "augment:\n"
                               "  gamma: [1.0]\n"
                               "run: {channels_last: maybe}\n");
  const auto problems = pretrain_problems(file);
  const std::string f = file.string();
  const std::vector<std::string> expected{
      f + ":10:22: run.channels_last: expected true or false, got 'maybe'",
      f + ":7:9: method.name: must be one of cltci_moco, cltci_simclr, moco, simclr, rotation, "
          "pirl (got 'simclrr'); did you mean 'simclr'?",
      f + ":6:16: method.temperature: must be > 0 (got -0.1)",
      f + ":9:10: augment.gamma: expected 2 values, got 1",
      f + ":2:7: optim.lr: expected a number, got 'fast'",
      f + ":4:13: optim.momentum: must be in [0, 1) (got 1.5)",
      f + ":3:11: optim.epochs: expected an integer, got '2.5'",
  };
  EXPECT_EQ(problems, expected);
}

TEST(ConfigLoader, MalformedSetAndMissingFile) {
  auto problems = pretrain_problems({}, {"optim.lr"});
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], "--set optim.lr: expected key.path=value (e.g. optim.lr=0.05)");
  problems = pretrain_problems({}, {"optim.lr=0.1", "optim.lr.x=3"});
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], "--set optim.lr.x=3: optim.lr.x: 'lr' is not a section");
  problems = pretrain_problems("/nonexistent/x.yaml");
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], "/nonexistent/x.yaml: config file not found");
}

TEST(ConfigLoader, YamlSyntaxErrorNamesTheLine) {
  testing::TempDir dir;
  const auto file = write_yaml(dir, "optim:\n  lr: [0.1\n");
  const auto problems = pretrain_problems(file);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].rfind(file.string() + ":3:1: YAML syntax error: ", 0), 0U) << problems[0];
}

TEST(ConfigLoader, CrossFieldChecksPointAtTheKey) {
  testing::TempDir dir;
  const auto file = write_yaml(dir,
                               "data:\n  source:\n    type: manifest\n"
                               "optim: {epochs: 5, warmup_epochs: 10}\n");
  const auto problems = pretrain_problems(file);
  const std::string f = file.string();
  const std::vector<std::string> expected{
      f + ":3:5: data.source.path: required when data.source.type is manifest",
      f + ":4:35: optim.warmup_epochs: must not exceed optim.epochs",
  };
  EXPECT_EQ(problems, expected);
}

TEST(ConfigLoader, DumpRoundTripsExactly) {
  auto config = load_pretrain_config(
      {}, {"optim.lr=0.0123", "method.name=pirl", "data.source.images_per_patient=[3, 9]"});
  const std::string text = dump(config);
  testing::TempDir dir;
  const auto file = write_yaml(dir, text);
  const auto again = load_pretrain_config(file, {});
  EXPECT_EQ(dump(again), text);
  EXPECT_DOUBLE_EQ(again.optim.lr, 0.0123);
  EXPECT_NE(text.find("  lr: 0.0123  # peak learning rate\n"), std::string::npos) << text;
}

TEST(ConfigLoader, FinetuneHasItsOwnDefaultsAndChecks) {
  const auto config = load_finetune_config({}, {});
  EXPECT_EQ(config.optim.name, "adam");
  EXPECT_DOUBLE_EQ(config.optim.lr, 1e-4);
  EXPECT_EQ(config.optim.batch_size, 10);
  EXPECT_DOUBLE_EQ(config.augment.rotation_deg, 30.0);
  EXPECT_EQ(config.budgets, (std::vector<std::int64_t>{10, 20}));
  try {
    load_finetune_config({}, {"budgets=[20, 10]", "init.type=pretrained"});
    FAIL();
  } catch (const common::InputError& error) {
    const std::vector<std::string> expected{
        "--set init.type=pretrained: init.pretrain_run: required when init.type is pretrained",
        "--set budgets=[20, 10]: budgets: must be strictly increasing (nested subsets)"};
    EXPECT_EQ(error.problems(), expected);
  }
}

TEST(ConfigLoader, SuggestionsNeedAPlausibleTypo) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
  EXPECT_EQ(closest_match("lrr", {"lr", "momentum"}), "lr");
  EXPECT_EQ(closest_match("schedule", {"lr", "momentum"}), "");
}

TEST(ConfigLoader, DuplicateKeysAndSectionsAreRefusedNamingBothLines) {
  testing::TempDir dir;
  // A block mapping with the key twice, then a second `optim:` block: yaml-cpp keeps both, and
  // a lookup would silently take the first.
  const auto file = write_yaml(
      dir, "optim:\n  lr: 0.01\n  lr: 0.5\nmethod: {name: simclr}\noptim:\n  epochs: 3\n");
  const auto problems = pretrain_problems(file);
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_EQ(problems[0], file.string() +
                             ":3:3: optim.lr: duplicate key 'lr' in optim (first at line 2); give "
                             "each key once");
  EXPECT_EQ(problems[1], file.string() +
                             ":5:1: optim: duplicate key 'optim' (first at line 1); give each key "
                             "once");
}

TEST(ConfigLoader, ASecondYamlDocumentIsRefused) {
  testing::TempDir dir;
  const auto file = write_yaml(dir, "optim: {lr: 0.01}\n---\noptim: {lr: 0.5}\n");
  const auto problems = pretrain_problems(file);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0],
            file.string() + ":2: a second YAML document ('---'); a config file holds one");
}

TEST(ConfigLoader, AnEmptyFileIsRefusedAndAKeyWithoutValueIsAnError) {
  testing::TempDir dir;
  for (const char* text : {"", "# only a comment\n", "---\n", "{}\n", "~\n"}) {
    const auto file = write_yaml(dir, text);
    const auto problems = pretrain_problems(file);
    ASSERT_EQ(problems.size(), 1U) << text;
    EXPECT_EQ(problems[0], file.string() +
                               ": the config is empty (no keys); start from one of the files in "
                               "configs/")
        << text;
  }
  const auto file = write_yaml(dir, "optim:\n  lr:\n");
  auto problems = pretrain_problems(file);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0], file.string() +
                             ":2:3: optim.lr: no value (give one, or remove the key to keep the "
                             "default)");
  problems = pretrain_problems({}, {"optim.lr="});
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0],
            "--set optim.lr=: optim.lr: no value (give one, or remove the key to keep the "
            "default)");
  // An empty section stays allowed: it changes nothing, as an absent one.
  EXPECT_NO_THROW(load_pretrain_config(write_yaml(dir, "optim:\nmethod: {name: moco}\n"), {}));
}

TEST(ConfigLoader, RunNameIsOnePathComponent) {
  for (const char* name : {"../escape", "a/b", "..", "."}) {
    const auto problems = pretrain_problems({}, {std::string("run.name=") + name});
    ASSERT_EQ(problems.size(), 1U) << name;
    EXPECT_NE(problems[0].find("run.name: must be one directory name"), std::string::npos)
        << problems[0];
  }
}

}  // namespace
}  // namespace cltci::config
