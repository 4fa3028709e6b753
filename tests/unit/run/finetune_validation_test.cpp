// Model selection on validation patients (issue #10 item 5): the split, its errors, the epoch
// selector, and what `finetune` exports and records with it.
#include "cltci/run/finetune_validation.h"

#include "cltci/common/atomic_file.h"
#include "cltci/common/error.h"
#include "cltci/common/interrupt.h"
#include "cltci/config/finetune_config.h"
#include "cltci/engine/trainer.h"
#include "cltci/models/model_factory.h"
#include "cltci/run/bridges.h"
#include "cltci/run/finetune.h"
#include "cltci/run/finetune_cells.h"
#include "cltci/run/segmentation_model.h"
#include "common_test_support.h"
#include "finetune_test_support.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cltci::run {
namespace {

config::ValidationConfig validation(const std::string& source, double fraction) {
  config::ValidationConfig config;
  const auto& names = config::validation_source_names();
  config.source = static_cast<config::ValidationSource>(
      std::find(names.begin(), names.end(), source) - names.begin());
  config.fraction = fraction;
  return config;
}

/// `a` and `b` share no element.
bool disjoint(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  const std::set<std::int64_t> left(a.begin(), a.end());
  return std::none_of(b.begin(), b.end(), [&](std::int64_t i) { return left.count(i) > 0; });
}

std::set<std::string> patients_of(const std::vector<std::int64_t>& images,
                                  const std::vector<std::string>& ids) {
  std::set<std::string> out;
  for (const auto i : images) out.insert(ids.at(static_cast<std::size_t>(i)));
  return out;
}

std::string input_error(const std::function<void()>& body) {
  try {
    body();
  } catch (const common::InputError& error) {
    return error.what();
  }
  return "<no error>";
}

TEST(FinetuneValidationSplit, BudgetTakesWholePatientsOutOfTheMImages) {
  // Five patients of two images each: 0.2 x 10 = 2 images is exactly one patient, 0.3 x 10 = 3
  // needs two (whole patients: 4 images), whatever order the patients are drawn in.
  const std::vector<std::string> ids{"a", "a", "b", "b", "c", "c", "d", "d", "e", "e", "f", "f"};
  const std::vector<std::int64_t> budget{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<std::int64_t> fold{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const auto one = split_validation(budget, fold, ids, validation("budget", 0.2), 7, 0, 10);
  EXPECT_EQ(one.validation.size(), 2U);
  EXPECT_EQ(one.train.size(), 8U);
  EXPECT_EQ(one.patients, 1);
  const auto two = split_validation(budget, fold, ids, validation("budget", 0.3), 7, 0, 10);
  EXPECT_EQ(two.validation.size(), 4U);
  EXPECT_EQ(two.train.size(), 6U);
  EXPECT_EQ(two.patients, 2);
  for (const auto& split : {one, two}) {
    EXPECT_TRUE(disjoint(split.train, split.validation));
    std::vector<std::int64_t> both = split.train;
    both.insert(both.end(), split.validation.begin(), split.validation.end());
    std::sort(both.begin(), both.end());
    EXPECT_EQ(both, budget) << "train + validation must be exactly the M images";
    std::set<std::string> common;
    const auto train_patients = patients_of(split.train, ids);
    for (const auto& p : patients_of(split.validation, ids)) {
      if (train_patients.count(p)) common.insert(p);
    }
    EXPECT_TRUE(common.empty()) << "a patient on both sides";
    EXPECT_EQ(patients_of(split.validation, ids).count("f"), 0U) << "f is not among the M";
    EXPECT_TRUE(std::is_sorted(split.train.begin(), split.train.end()));
    EXPECT_TRUE(std::is_sorted(split.validation.begin(), split.validation.end()));
  }
}

TEST(FinetuneValidationSplit, StopsAtTheFirstPatientThatReachesTheShare) {
  // Patients of 3, 1, 2, 1, 2 and 1 images (10 in all): 0.3 x 10 = 3 images. Whatever the draw,
  // the validation set reaches 3 and dropping its last patient would fall below 3.
  const std::vector<std::string> ids{"p", "p", "p", "q", "r", "r", "s", "t", "t", "u"};
  const std::vector<std::int64_t> budget{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (std::int64_t fold = 0; fold < 8; ++fold) {
    const auto split =
        split_validation(budget, budget, ids, validation("budget", 0.3), 3, fold, 10);
    EXPECT_GE(split.validation.size(), 3U);
    EXPECT_EQ(static_cast<std::int64_t>(patients_of(split.validation, ids).size()), split.patients);
    EXPECT_EQ(split.train.size() + split.validation.size(), 10U);
    // Patients are added only while fewer than 3 are held: at most 2 + the largest (3).
    EXPECT_LE(split.validation.size(), 5U);
  }
}

TEST(FinetuneValidationSplit, IsAFunctionOfSeedFoldAndMOnly) {
  std::vector<std::string> ids;
  std::vector<std::int64_t> budget;
  for (std::int64_t i = 0; i < 40; ++i) {
    ids.push_back("patient" + std::to_string(i / 2));
    budget.push_back(i);
  }
  const auto config = validation("budget", 0.25);
  const auto first = split_validation(budget, budget, ids, config, 11, 2, 40);
  // Listed in another order: the same split.
  std::vector<std::int64_t> reversed(budget.rbegin(), budget.rend());
  const auto again = split_validation(reversed, reversed, ids, config, 11, 2, 40);
  EXPECT_EQ(first.validation, again.validation);
  EXPECT_EQ(first.train, again.train);
  EXPECT_EQ(first.validation.size(), 10U);  // 0.25 x 40, five whole patients
  // Another fold, M or seed draws other patients (20 patients: a repeat is very unlikely).
  EXPECT_NE(split_validation(budget, budget, ids, config, 11, 3, 40).validation, first.validation);
  EXPECT_NE(split_validation(budget, budget, ids, config, 11, 2, 41).validation, first.validation);
  EXPECT_NE(split_validation(budget, budget, ids, config, 12, 2, 40).validation, first.validation);
}

TEST(FinetuneValidationSplit, RestUsesOnlyPatientsOutsideTheBudget) {
  // The M images are of patients a and b; a has one more image (5) in the fold, which must stay
  // out of validation with a; c, d, e, f (images 6 .. 11) are the pool.
  const std::vector<std::string> ids{"a", "a", "b", "x", "x", "a", "c", "c", "d", "e", "e", "f"};
  const std::vector<std::int64_t> budget{0, 1, 2};
  const std::vector<std::int64_t> fold{0, 1, 2, 5, 6, 7, 8, 9, 10, 11};  // 3, 4: the test fold
  const auto split = split_validation(budget, fold, ids, validation("rest", 0.5), 5, 1, 3);
  EXPECT_EQ(split.train, budget) << "rest keeps all M images for training";
  EXPECT_GE(split.validation.size(), 3U);  // 0.5 x 6 pool images
  for (const auto i : split.validation) {
    EXPECT_GE(i, 6) << "image " << i << " is among the M, of an M patient or of the test fold";
  }
}

TEST(FinetuneValidationSplit, NoneKeepsTheMImages) {
  const std::vector<std::string> ids{"a", "b", "c"};
  const auto split = split_validation({2, 0}, {0, 1, 2}, ids, validation("none", 0.2), 1, 0, 2);
  EXPECT_EQ(split.train, (std::vector<std::int64_t>{0, 2}));
  EXPECT_TRUE(split.validation.empty());
}

TEST(FinetuneValidationSplit, AnEmptySideIsAnInputErrorNamingTheFraction) {
  // One patient holds all four M images: holding one out holds all out.
  const std::vector<std::string> same{"a", "a", "a", "a"};
  EXPECT_EQ(
      input_error([&] {
        split_validation({0, 1, 2, 3}, {0, 1, 2, 3}, same, validation("budget", 0.2), 1, 0, 4);
      }),
      "validation.fraction: fold 0, M=4: 0.2 x 4 images = 0.8 asks for 1 validation "
      "image(s), and the 1 whole patient(s) that hold them hold all 4; none is left to "
      "train on: lower validation.fraction or raise the budget");
  const std::vector<std::string> ids{"a", "b", "c"};
  EXPECT_EQ(input_error([&] {
              split_validation({0, 1}, {0, 1, 2}, ids, validation("budget", 0.2), 1, 2, 2);
            }),
            "validation.fraction: fold 2, M=2: 0.2 x 2 images of the M images = 0.4 rounds to "
            "no validation image; raise validation.fraction");
  EXPECT_EQ(input_error([&] {
              split_validation({0, 1}, {0, 1}, ids, validation("rest", 0.2), 1, 0, 2);
            }),
            "validation.fraction: fold 0, M=2: no training image is left outside the M "
            "images' patients; use validation.source budget or a smaller budget");
}

config::FinetuneConfig config_with_budgets_4_8(const testing::TempDir& dir,
                                               std::vector<std::string> extra = {}) {
  return testing_support::small_finetune_config(dir, "[4, 8]", std::move(extra));
}

TEST(FinetuneValidationSplit, NeverHoldsATestFoldImageOrPatient) {
  testing::TempDir dir;
  for (const char* source : {"budget", "rest"}) {
    const auto plain = config_with_budgets_4_8(dir, {"seeds=[0, 1]"});
    const auto config = config_with_budgets_4_8(
        dir,
        {"seeds=[0, 1]", std::string("validation.source=") + source, "validation.fraction=0.25"});
    const auto dataset = open_dataset(config.data);
    const auto without = plan_cells(dataset, plain, dir.path());
    const auto plan = plan_cells(dataset, config, dir.path());
    ASSERT_EQ(plan.cells.size(), without.cells.size());
    const auto& ids = dataset.patient_ids();
    for (std::size_t c = 0; c < plan.cells.size(); ++c) {
      const Cell& cell = plan.cells[c];
      SCOPED_TRACE(std::string(source) + " " + cell.directory);
      ASSERT_FALSE(cell.validation.empty());
      const auto test = plan.test(cell.fold);
      EXPECT_TRUE(disjoint(cell.validation, test)) << "a test-fold image in validation";
      const auto test_patients = patients_of(test, ids);
      for (const auto& p : patients_of(cell.validation, ids)) {
        EXPECT_EQ(test_patients.count(p), 0U) << p << " is a test-fold patient";
        EXPECT_EQ(patients_of(cell.train, ids).count(p), 0U) << p << " is also trained on";
      }
      EXPECT_TRUE(disjoint(cell.validation, cell.train));
      EXPECT_EQ(static_cast<std::int64_t>(patients_of(cell.validation, ids).size()),
                cell.validation_patients);
      // The M images are the same as without validation: budget splits them, rest keeps them.
      std::vector<std::int64_t> m = cell.train;
      if (std::string(source) == "budget") {
        m.insert(m.end(), cell.validation.begin(), cell.validation.end());
        std::sort(m.begin(), m.end());
      }
      EXPECT_EQ(m, without.cells[c].train);
      // Seed replicates validate on the same images.
      if (c % 2 == 1) {
        EXPECT_EQ(cell.validation, plan.cells[c - 1].validation);
      }
    }
  }
}

TEST(FinetuneValidationConfig, BadValuesNameValidationFraction) {
  testing::TempDir dir;
  for (const char* fraction : {"0", "1", "-0.1", "1.5"}) {
    const auto what = input_error([&] {
      config_with_budgets_4_8(
          dir, {"validation.source=budget", std::string("validation.fraction=") + fraction});
    });
    EXPECT_NE(what.find("validation.fraction: must be in (0, 1)"), std::string::npos) << what;
  }
  // The rule holds whatever the source, so a later switch to budget cannot surprise.
  EXPECT_NE(input_error([&] {
              config_with_budgets_4_8(dir, {"validation.fraction=0"});
            }).find("validation.fraction"),
            std::string::npos);
  EXPECT_NE(input_error([&] {
              config_with_budgets_4_8(
                  dir, {"validation.source=budget", "validation.fraction=0.2", "budgets=[2, 4]"});
            }).find("validation.fraction: 0.2 x M=2 = 0.4 rounds to no validation image"),
            std::string::npos);
  EXPECT_NE(input_error([&] {
              config_with_budgets_4_8(
                  dir, {"validation.source=budget", "validation.fraction=0.5", "budgets=[1, 4]"});
            })
                .find("validation.fraction: 0.5 x M=1 = 0.5 rounds to 1 validation images, leaving "
                      "none to train on"),
            std::string::npos);
  EXPECT_NE(input_error([&] {
              config_with_budgets_4_8(dir, {"validation.every=0"});
            }).find("validation.every"),
            std::string::npos);
  EXPECT_NE(input_error([&] {
              config_with_budgets_4_8(dir, {"validation.source=test"});
            }).find("validation.source"),
            std::string::npos);
}

std::shared_ptr<models::SegmentationNet> tiny_net() {
  models::ModelSpec spec;
  spec.base_channels = 4;
  spec.depth = 2;
  return models::make_segmentation_net(spec);
}

std::vector<torch::Tensor> weights_of(torch::nn::Module& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : net.buffers()) out.push_back(b.detach().clone());
  return out;
}

bool same_weights(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

TEST(FinetuneEpochSelector, KeepsTheEarliestBestAndSurvivesASaveAndLoad) {
  torch::manual_seed(3);
  auto net = tiny_net();
  EpochSelector selector(*net);
  EXPECT_EQ(selector.best_epoch(), 0);
  EXPECT_TRUE(selector.record(1, 0.5));
  const auto at_one = weights_of(*net);
  const auto perturb = [&] {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.add_(0.1);
  };
  perturb();
  EXPECT_FALSE(selector.record(2, 0.4));
  perturb();
  EXPECT_FALSE(selector.record(3, 0.5)) << "a tie keeps the earlier epoch";
  EXPECT_EQ(selector.best_epoch(), 1);
  EXPECT_EQ(selector.last_epoch(), 3);
  EXPECT_DOUBLE_EQ(selector.last_dice(), 0.5);

  torch::serialize::OutputArchive out;
  selector.save(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  torch::manual_seed(4);
  auto other = tiny_net();  // other initial weights: only the archive can give epoch 1's
  EpochSelector restored(*other);
  restored.load(in);
  EXPECT_EQ(restored.best_epoch(), 1);
  EXPECT_DOUBLE_EQ(restored.best_dice(), 0.5);
  EXPECT_EQ(restored.last_epoch(), 3);
  restored.restore_best();
  EXPECT_TRUE(same_weights(weights_of(*other), at_one));
  EXPECT_TRUE(restored.record(4, 0.6));
}

/// metrics.csv's rows that carry a validation score: (epoch, val_dice).
std::vector<std::pair<std::int64_t, double>> logged_scores(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header;
  std::stringstream names(line);
  for (std::string name; std::getline(names, name, ',');) header.push_back(name);
  const auto column = static_cast<std::size_t>(std::find(header.begin(), header.end(), "val_dice") -
                                               header.begin());
  EXPECT_LT(column, header.size()) << "no val_dice column in " << file;
  std::vector<std::pair<std::int64_t, double>> out;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream row(line);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    if (column < fields.size() && !fields[column].empty()) {
      out.emplace_back(std::stoll(fields[0]), std::stod(fields[column]));
    }
  }
  return out;
}

TEST(FinetuneValidation, ExportsTheEpochWithTheBestLoggedValidationDice) {
  testing::TempDir dir;
  const auto config =
      config_with_budgets_4_8(dir, {"budgets=[8]", "folds.k=2", "optim.epochs=6", "optim.lr=0.01",
                                    "validation.source=budget", "validation.fraction=0.25"});
  ASSERT_EQ(finetune(config, {}), 0);
  const auto dataset = open_dataset(config.data);
  const auto plan = plan_cells(dataset, config, dir / "ft");
  bool chose_before_last = false;  // else exported == last epoch's would pass unnoticed
  for (const auto& cell : plan.cells) {
    SCOPED_TRACE(cell.directory);
    const auto cell_dir = dir / "ft" / cell.directory;
    const auto scores = logged_scores(cell_dir / engine::kMetricsFile);
    ASSERT_EQ(scores.size(), 6U) << "every epoch scored (validation.every 1)";
    std::size_t argmax = 0;
    for (std::size_t i = 1; i < scores.size(); ++i) {
      if (scores[i].second > scores[argmax].second) argmax = i;
    }
    const YAML::Node summary = YAML::LoadFile((cell_dir / kCellSummaryFile).string());
    const YAML::Node chosen = summary["validation"];
    ASSERT_TRUE(chosen) << "summary.json records no validation";
    EXPECT_EQ(chosen["rule"].as<std::string>(), "budget");
    EXPECT_DOUBLE_EQ(chosen["fraction"].as<double>(), 0.25);
    EXPECT_EQ(chosen["images"].size(), cell.validation.size());
    EXPECT_EQ(static_cast<std::int64_t>(chosen["patients"].size()), cell.validation_patients);
    EXPECT_EQ(summary["train_images"].size(), cell.train.size());
    EXPECT_EQ(cell.train.size() + cell.validation.size(), 8U);
    EXPECT_EQ(chosen["selected_epoch"].as<std::int64_t>(), scores[argmax].first);
    EXPECT_EQ(chosen["last_epoch"].as<std::int64_t>(), 6);
    const double selected = chosen["selected_dice"].as<double>();
    EXPECT_NEAR(selected, scores[argmax].second, 1e-5);  // metrics.csv keeps 6 digits
    EXPECT_NEAR(chosen["last_epoch_dice"].as<double>(), scores.back().second, 1e-5);
    // The exported model is that epoch's: scored again on the validation images it gives the
    // recorded Dice.
    auto model = load_segmentation_model(cell_dir / kModelFile);
    EXPECT_DOUBLE_EQ(validation_dice(*model.net, dataset, cell.validation, model.spec.classes,
                                     torch::kCPU, config.optim.batch_size),
                     selected);
    chose_before_last = chose_before_last || scores[argmax].first < 6;
  }
  EXPECT_TRUE(chose_before_last) << "no cell selected an epoch before the last one";
}

/// Raises the interrupt flag when a log line contains `trigger` (once), so a run stops at a
/// known point: the trainer saves a checkpoint at its next step and throws.
class InterruptOnLog : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit InterruptOnLog(std::string trigger) : trigger_(std::move(trigger)) {}
  bool fired() const { return fired_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    const std::string text(message.payload.data(), message.payload.size());
    if (!fired_ && text.find(trigger_) != std::string::npos) {
      fired_ = true;
      common::request_interrupt(true);
    }
  }
  void flush_() override {}

 private:
  std::string trigger_;
  bool fired_ = false;
};

TEST(FinetuneValidation, AResumedCellSelectsWhatAnUninterruptedOneDoes) {
  // The first cell must select an epoch scored before the interruption (else the best-so-far
  // would not have had to survive it). Which epoch wins depends on the CPU's floating-point
  // kernels (AVX2 and AVX-512 machines differ), so the first learning rate that gives such a
  // cell on this machine is used.
  std::vector<std::string> extra;
  std::unique_ptr<testing::TempDir> straight_run;
  for (const char* lr : {"optim.lr=0.01", "optim.lr=0.03", "optim.lr=0.003", "optim.lr=0.1"}) {
    straight_run = std::make_unique<testing::TempDir>();
    extra = {"budgets=[8]",
             "folds.k=2",
             "optim.epochs=5",
             lr,
             "validation.source=budget",
             "validation.fraction=0.25",
             "validation.every=2"};
    ASSERT_EQ(finetune(config_with_budgets_4_8(*straight_run, extra), {}), 0);
    const YAML::Node selected = YAML::LoadFile(
        (straight_run->path() / "ft" / "fold0" / "m8" / "seed0" / kCellSummaryFile).string());
    if (selected["validation"]["selected_epoch"].as<std::int64_t>() <= 4) break;
  }
  const testing::TempDir& straight_dir = *straight_run;
  testing::TempDir resumed_dir;

  // Stop the first cell just after its epoch-4 score (its next step saves and throws), with the
  // best-so-far of epochs 2 and 4 only in the checkpoint; then run the same command again.
  const auto config = config_with_budgets_4_8(resumed_dir, extra);
  auto sink = std::make_shared<InterruptOnLog>("epoch 4 validation Dice");
  spdlog::default_logger()->sinks().push_back(sink);
  common::request_interrupt(false);
  EXPECT_THROW(finetune(config, {}), common::Interrupted);
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  common::request_interrupt(false);
  ASSERT_TRUE(sink->fired());
  const auto first_cell = resumed_dir / "ft" / "fold0" / "m8" / "seed0";
  ASSERT_TRUE(std::filesystem::exists(first_cell / engine::kCheckpointFile));
  ASSERT_FALSE(std::filesystem::exists(first_cell / kCellSummaryFile));
  ASSERT_EQ(finetune(config, {}), 0);

  for (const char* cell : {"fold0/m8/seed0", "fold1/m8/seed0"}) {
    SCOPED_TRACE(cell);
    const YAML::Node a =
        YAML::LoadFile((straight_dir / "ft" / cell / kCellSummaryFile).string())["validation"];
    const YAML::Node b =
        YAML::LoadFile((resumed_dir / "ft" / cell / kCellSummaryFile).string())["validation"];
    EXPECT_EQ(a["selected_epoch"].as<std::int64_t>(), b["selected_epoch"].as<std::int64_t>());
    if (std::string(cell) == "fold0/m8/seed0") {
      // Else the best-so-far would not have had to survive the interruption.
      EXPECT_LE(b["selected_epoch"].as<std::int64_t>(), 4);
    }
    EXPECT_EQ(a["selected_dice"].as<std::string>(), b["selected_dice"].as<std::string>());
    EXPECT_EQ(a["last_epoch_dice"].as<std::string>(), b["last_epoch_dice"].as<std::string>());
    // Scored at epochs 2, 4 and 5 (the last always).
    const auto scores = logged_scores(resumed_dir / "ft" / cell / engine::kMetricsFile);
    ASSERT_EQ(scores.size(), 3U);
    EXPECT_EQ(scores[0].first, 2);
    EXPECT_EQ(scores[1].first, 4);
    EXPECT_EQ(scores[2].first, 5);
    const auto straight = load_segmentation_model(straight_dir / "ft" / cell / kModelFile);
    const auto resumed = load_segmentation_model(resumed_dir / "ft" / cell / kModelFile);
    EXPECT_TRUE(same_weights(weights_of(*straight.net), weights_of(*resumed.net)))
        << "the resumed cell exported other weights";
  }
}

TEST(FinetuneValidation, RestTrainsOnAllMImagesAndRecordsItsRule) {
  testing::TempDir dir;
  const auto config =
      config_with_budgets_4_8(dir, {"budgets=[4]", "folds.k=2", "optim.epochs=2",
                                    "validation.source=rest", "validation.fraction=0.5"});
  ASSERT_EQ(finetune(config, {}), 0);
  const auto dataset = open_dataset(config.data);
  const auto plan = plan_cells(dataset, config, dir / "ft");
  for (const auto& cell : plan.cells) {
    const YAML::Node summary =
        YAML::LoadFile((dir / "ft" / cell.directory / kCellSummaryFile).string());
    EXPECT_EQ(summary["train_images"].size(), 4U);
    EXPECT_EQ(summary["validation"]["rule"].as<std::string>(), "rest");
    EXPECT_EQ(summary["validation"]["images"].size(), cell.validation.size());
    EXPECT_EQ(logged_scores(dir / "ft" / cell.directory / engine::kMetricsFile).size(), 2U);
  }
}

TEST(FinetuneValidation, WithoutValidationNothingChanges) {
  testing::TempDir dir;
  const auto config = config_with_budgets_4_8(dir, {"budgets=[4]", "folds.k=2", "optim.epochs=1"});
  EXPECT_EQ(config.validation.source, config::ValidationSource::kNone);
  const auto dataset = open_dataset(config.data);
  const auto plan = plan_cells(dataset, config, dir.path());
  for (const auto& cell : plan.cells) {
    EXPECT_TRUE(cell.validation.empty());
    EXPECT_EQ(cell.train.size(), 4U);
  }
  ASSERT_EQ(finetune(config, {}), 0);
  const auto cell_dir = dir / "ft" / "fold0" / "m4" / "seed0";
  std::ifstream metrics(cell_dir / engine::kMetricsFile);
  std::string header;
  std::getline(metrics, header);
  EXPECT_EQ(header, "epoch,step,global_step,loss,lr,samples_per_s");
  const YAML::Node summary = YAML::LoadFile((cell_dir / kCellSummaryFile).string());
  EXPECT_FALSE(summary["validation"]);
  EXPECT_EQ(summary["epochs"].as<int>(), 1);
}

}  // namespace
}  // namespace cltci::run
