// The bridges turn each config choice into the library's enum once, at the boundary, and refuse
// text the registries do not know (a choice list that drifted from its registry).
#include "cltci/run/bridges.h"

#include "cltci/common/error.h"
#include "cltci/config/finetune_config.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/config/sections.h"
#include "cltci/data/folds.h"
#include "cltci/engine/lr_schedule.h"
#include "cltci/engine/optimizer.h"
#include "cltci/engine/precision.h"
#include "cltci/engine/segmentation_loss.h"
#include "cltci/ssl/positives.h"

#include <gtest/gtest.h>

#include <string>

namespace cltci::run {
namespace {

TEST(Bridges, TrainerChoicesBecomeEngineEnums) {
  const auto config = config::load_pretrain_config(
      {}, {"run.precision=bf16", "optim.name=adamw", "optim.schedule=constant", "optim.lr=0.25",
           "optim.betas=[0.8, 0.95]"});
  const engine::TrainerOptions options = trainer_options(config.run, config.optim);
  EXPECT_EQ(options.precision, engine::Precision::kBf16);
  EXPECT_EQ(options.optimizer.kind, engine::OptimizerKind::kAdamW);
  EXPECT_EQ(options.schedule, engine::LrSchedule::kConstant);
  EXPECT_DOUBLE_EQ(options.optimizer.lr, 0.25);
  EXPECT_DOUBLE_EQ(options.optimizer.beta1, 0.8);
  EXPECT_DOUBLE_EQ(options.optimizer.beta2, 0.95);

  const auto defaults = trainer_options(config::RunConfig{}, config::OptimConfig{});
  EXPECT_EQ(defaults.precision, engine::Precision::kFp32);
  EXPECT_EQ(defaults.optimizer.kind, engine::OptimizerKind::kSgd);
  EXPECT_EQ(defaults.schedule, engine::LrSchedule::kCosine);
}

TEST(Bridges, TextOutsideTheRegistryIsRefusedWithItsKey) {
  config::RunConfig run;
  run.precision = "fp8";
  try {
    trainer_options(run, config::OptimConfig{});
    FAIL() << "fp8 was accepted";
  } catch (const common::InputError& error) {
    EXPECT_STREQ(error.what(), "run.precision: unknown choice 'fp8'");
  }
  config::FoldsConfig folds;
  folds.group_by = "site";
  EXPECT_THROW(fold_options(folds), common::InputError);
  config::MethodConfig method;
  method.positives = "days";
  EXPECT_THROW(positive_options(method), common::InputError);
}

TEST(Bridges, FoldChoicesBecomeDataEnums) {
  const auto config =
      config::load_finetune_config({}, {"folds.k=4", "folds.seed=9", "folds.group_by=image"});
  const data::FoldOptions options = fold_options(config.folds);
  EXPECT_EQ(options.folds, 4);
  EXPECT_EQ(options.seed, 9U);
  EXPECT_EQ(options.group_by, data::GroupBy::kImage);
  EXPECT_EQ(fold_options(config::FoldsConfig{}).group_by, data::GroupBy::kPatient);
  config::MethodConfig method;
  method.positives = "window";
  method.max_days = 30.0;
  const auto positives = positive_options(method);
  EXPECT_EQ(ssl::positive_rule_names().at(static_cast<std::size_t>(positives.rule)), "window");
  EXPECT_DOUBLE_EQ(positives.max_days, 30.0);
}

TEST(Bridges, FinetuneLossChoosesTheSoftDiceTerm) {
  const auto dice_ce = config::load_finetune_config({}, {"loss=dice_ce"});
  const engine::SegmentationLossOptions with_dice = segmentation_loss_options(dice_ce.loss);
  EXPECT_TRUE(with_dice.soft_dice);
  const auto defaults_config = config::load_finetune_config({}, {});
  const engine::SegmentationLossOptions defaults = segmentation_loss_options(defaults_config.loss);
  EXPECT_FALSE(defaults.soft_dice);
  // The rest are the loss's own defaults: the label maps' ignore value and Laplace smoothing.
  EXPECT_EQ(with_dice.ignore_index, engine::SegmentationLossOptions{}.ignore_index);
  EXPECT_DOUBLE_EQ(with_dice.smooth, engine::SegmentationLossOptions{}.smooth);
}

}  // namespace
}  // namespace cltci::run
