// One rule per key: the config's ranges and choice lists are the library's own constants and
// registries, and choice keys held as enums read and dump exactly as their text did.
#include "cltci/common/error.h"
#include "cltci/config/finetune_config.h"
#include "cltci/config/pretrain_config.h"
#include "cltci/data/importer.h"
#include "cltci/data/phantom.h"
#include "cltci/engine/lr_schedule.h"
#include "cltci/engine/optimizer.h"
#include "cltci/engine/precision.h"
#include "cltci/models/model_factory.h"
#include "cltci/models/unet.h"
#include "cltci/ssl/method.h"
#include "cltci/ssl/positives.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cltci::config {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

/// The one problem of the pretrain config with `overrides`, or a failure.
std::string pretrain_problem(const std::vector<std::string>& overrides) {
  try {
    load_pretrain_config({}, overrides);
  } catch (const common::InputError& error) {
    EXPECT_EQ(error.problems().size(), 1U);
    return error.problems().empty() ? "" : error.problems()[0];
  }
  ADD_FAILURE() << "expected the overrides to be refused";
  return "";
}

TEST(Sections, UNetDepthRangeIsTheEncodersOwn) {
  EXPECT_EQ(load_pretrain_config({}, {"model.depth=8"}).model.depth, models::kMaxUNetDepth);
  EXPECT_EQ(pretrain_problem({"model.depth=9"}),
            "--set model.depth=9: model.depth: must be in [1, 8] (got 9)");
  EXPECT_EQ(pretrain_problem({"model.depth=0"}),
            "--set model.depth=0: model.depth: must be in [1, 8] (got 0)");
  // The model factory's guard agrees at both ends.
  models::ModelSpec spec;
  spec.depth = models::kMaxUNetDepth;
  EXPECT_TRUE(models::validate(spec).empty());
  spec.depth = models::kMaxUNetDepth + 1;
  EXPECT_EQ(models::validate(spec),
            std::vector<std::string>{"model.depth: must be in [1, 8] (got 9)"});
}

TEST(Sections, ChoiceListsAreTheLibrarysRegistries) {
  EXPECT_EQ(pretrain_problem({"method.name=mocoo"}),
            "--set method.name=mocoo: method.name: must be one of " + join(ssl::method_names()) +
                " (got 'mocoo'); did you mean 'moco'?");
  EXPECT_EQ(join(ssl::method_names()), "cltci_moco, cltci_simclr, moco, simclr, rotation, pirl");
  EXPECT_EQ(pretrain_problem({"method.positives=days"}),
            "--set method.positives=days: method.positives: must be one of " +
                join(ssl::positive_rule_names()) + " (got 'days')");
  EXPECT_EQ(pretrain_problem({"model.arch=vit"}),
            "--set model.arch=vit: model.arch: must be one of unet, deeplabv3plus (got 'vit')");
  EXPECT_EQ(join(models::architecture_names()), "unet, deeplabv3plus");
  EXPECT_EQ(pretrain_problem({"model.norm=layer"}),
            "--set model.norm=layer: model.norm: must be one of batch, instance, group (got "
            "'layer')");
  EXPECT_EQ(models::norm_names(), (std::vector<std::string>{"batch", "instance", "group"}));
  std::vector<std::string> sources{kPhantomSource, kManifestSource};
  for (const auto& kind : data::import_kinds()) sources.push_back(kind);
  EXPECT_EQ(source_types(), sources);
  EXPECT_EQ(join(source_types()),
            "phantom, manifest, folder, jsrt, montgomery, shenzhen, nih, chexpert, mimic, dicom");
}

TEST(Sections, TrainerChoicesAreTheEnginesRegistries) {
  EXPECT_EQ(join(engine::precision_names()), "fp32, bf16, fp16, auto");
  EXPECT_EQ(engine::to_string(engine::Precision::kBf16), "bf16");
  EXPECT_EQ(pretrain_problem({"run.precision=fp8"}),
            "--set run.precision=fp8: run.precision: must be one of fp32, bf16, fp16, auto (got "
            "'fp8'); did you mean 'fp32'?");
  EXPECT_EQ(join(engine::optimizer_names()), "sgd, adam, adamw");
  EXPECT_EQ(engine::to_string(engine::OptimizerKind::kAdamW), "adamw");
  EXPECT_EQ(pretrain_problem({"optim.name=lars"}),
            "--set optim.name=lars: optim.name: must be one of sgd, adam, adamw (got 'lars')");
  EXPECT_EQ(join(engine::lr_schedule_names()), "cosine, constant");
  EXPECT_EQ(engine::to_string(engine::LrSchedule::kConstant), "constant");
  EXPECT_EQ(pretrain_problem({"optim.schedule=step"}),
            "--set optim.schedule=step: optim.schedule: must be one of cosine, constant (got "
            "'step')");
}

TEST(Sections, PhantomVersionsAreTheGeneratorsOwn) {
  // The config's default is the newest generator, like the library's.
  EXPECT_EQ(SourceConfig{}.phantom_version, data::kLatestPhantomVersion);
  EXPECT_EQ(data::PhantomOptions{}.version, data::kLatestPhantomVersion);
  EXPECT_EQ(load_pretrain_config({}, {"data.source.phantom_version=1"}).data.source.phantom_version,
            data::kFirstPhantomVersion);
  EXPECT_EQ(pretrain_problem({"data.source.phantom_version=3"}),
            "--set data.source.phantom_version=3: data.source.phantom_version: must be in [1, 2] "
            "(got 3)");
  data::PhantomOptions options;
  options.version = data::kLatestPhantomVersion + 1;
  try {
    options.validate();
    FAIL() << "version 3 was accepted";
  } catch (const common::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("phantom.version must be in [1, 2], got 3"),
              std::string::npos)
        << error.what();
  }
}

TEST(Sections, PhantomSizeStopsAtTheGeneratorsLimit) {
  EXPECT_EQ(pretrain_problem({"data.source.native_size=[8193, 64]"}),
            "--set data.source.native_size=[8193, 64]: data.source.native_size: each value must "
            "be in [32, 8192] (got 8193)");
}

TEST(Sections, FinetuneChoicesAreEnumsParsedOnce) {
  auto config = load_finetune_config(
      {}, {"init.type=imagenet", "init.weights=r50.safetensors", "model.arch=deeplabv3plus",
           "loss=dice_ce", "validation.source=rest"});
  EXPECT_EQ(config.init.type, InitType::kImagenet);
  EXPECT_EQ(config.loss, FinetuneLoss::kDiceCe);
  EXPECT_EQ(config.validation.source, ValidationSource::kRest);
  EXPECT_EQ(to_string(InitType::kPretrained), "pretrained");
  EXPECT_EQ(to_string(FinetuneLoss::kCe), "ce");
  EXPECT_EQ(to_string(ValidationSource::kBudget), "budget");
  // Dumped as the text it was read from, so an earlier run's config.yaml still compares equal.
  const std::string text = dump(config);
  EXPECT_NE(text.find("\n  type: imagenet  # encoder initialisation\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nloss: dice_ce  # ce | dice_ce\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  source: rest  # none: keep the last epoch"), std::string::npos) << text;
  try {
    load_finetune_config({}, {"loss=dicece"});
    FAIL() << "loss=dicece was accepted";
  } catch (const common::InputError& error) {
    EXPECT_EQ(
        error.problems(),
        std::vector<std::string>{
            "--set loss=dicece: loss: must be one of ce, dice_ce (got 'dicece'); did you mean "
            "'dice_ce'?"});
  }
  try {
    load_finetune_config({}, {"init.type=[random]"});
    FAIL() << "a list was accepted as init.type";
  } catch (const common::InputError& error) {
    EXPECT_EQ(error.problems(), std::vector<std::string>{"--set init.type=[random]: init.type: "
                                                         "expected a string, got a list"});
  }
}

}  // namespace
}  // namespace cltci::config
