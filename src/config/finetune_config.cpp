#include "cltci/config/finetune_config.h"

#include "cltci/config/config_loader.h"
#include "cltci/config/config_writer.h"
#include "cltci/data/folds.h"
#include "cltci/models/model_factory.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace cltci::config {

const std::vector<std::string>& init_type_names() {
  static const std::vector<std::string> names{"random", "pretrained", "imagenet"};
  return names;
}

const std::vector<std::string>& finetune_loss_names() {
  static const std::vector<std::string> names{"ce", "dice_ce"};
  return names;
}

const std::vector<std::string>& validation_source_names() {
  static const std::vector<std::string> names{"none", "budget", "rest"};
  return names;
}

const std::string& to_string(InitType type) {
  return init_type_names().at(static_cast<std::size_t>(type));
}
const std::string& to_string(FinetuneLoss loss) {
  return finetune_loss_names().at(static_cast<std::size_t>(loss));
}
const std::string& to_string(ValidationSource source) {
  return validation_source_names().at(static_cast<std::size_t>(source));
}

AugmentConfig FinetuneConfig::finetune_augment_defaults() {
  AugmentConfig augment;
  augment.rotation_deg = 30.0;
  augment.gamma = {1.0, 1.0};
  return augment;
}

OptimConfig FinetuneConfig::finetune_optim_defaults() {
  OptimConfig optim;
  optim.name = "adam";
  optim.lr = 1.0e-4;
  optim.weight_decay = 0.0;
  optim.warmup_epochs = 0.0;
  optim.min_lr = 1.0e-6;
  optim.epochs = 200;
  optim.batch_size = 10;
  return optim;
}

void describe(Schema& s, InitConfig& c) {
  s.field("type", c.type, "encoder initialisation", init_type_names());
  s.field("pretrain_run", c.pretrain_run, "pretrained: the pretrain run directory");
  s.field("weights", c.weights,
          "imagenet: torchvision ResNet-50 weights as .safetensors (conv1 summed over RGB)");
}

void describe(Schema& s, FoldsConfig& c) {
  s.field("k", c.k, "cross-validation folds", Rule::at_least(2));
  s.field("seed", c.seed, "seed of the fold split (written once to splits.json)",
          Rule::non_negative());
  s.field("group_by", c.group_by,
          "patient: no patient in two folds | image: the paper's split over images",
          {data::to_string(data::GroupBy::kPatient), data::to_string(data::GroupBy::kImage)});
}

void describe(Schema& s, ValidationConfig& c) {
  s.field("source", c.source,
          "none: keep the last epoch | budget: whole patients out of the M images | rest: whole "
          "patients of the training folds outside the M (uses labels beyond the budget)",
          validation_source_names());
  // Open at both ends: no validation image or no training image is never what was meant.
  s.field("fraction", c.fraction,
          "share of the source's images held out for choosing the epoch (whole patients)",
          Rule{0.0, 1.0, true, true});
  s.field("every", c.every, "score the validation images every N epochs (and after the last)",
          Rule::at_least(1));
}

void describe(Schema& s, FinetuneConfig& c) {
  s.section("run", "run identity, output and runtime", [&] { describe(s, c.run); });
  s.section("data", "labelled images", [&] { describe(s, c.data); });
  s.section("model", "segmentation network", [&] { describe(s, c.model); });
  s.section("init", "where the encoder's weights come from", [&] { describe(s, c.init); });
  s.section("augment", "joint image/mask augmentation", [&] { describe(s, c.augment); });
  s.section("optim", "optimizer and schedule", [&] { describe(s, c.optim); });
  s.section("folds", "cross-validation split", [&] { describe(s, c.folds); });
  s.field("budgets", c.budgets, "label budgets M per fold (nested subsets)", Rule::at_least(1));
  s.field("seeds", c.seeds,
          "fine-tuning seeds: replicates of every (fold, M) cell with their own initial "
          "decoder, batch order and augmentation (folds and M images fixed)",
          Rule::non_negative());
  s.field("loss", c.loss, "ce | dice_ce", finetune_loss_names());
  s.section("validation", "choosing the epoch on held-out training patients, never the test fold",
            [&] { describe(s, c.validation); });
}

void validate(const FinetuneConfig& c, Problems& problems) {
  validate(c.run, problems);
  validate(c.data, problems);
  validate(c.model, problems);
  validate(c.augment, problems);
  validate(c.optim, problems);
  if (c.init.type == InitType::kPretrained && c.init.pretrain_run.empty()) {
    problems.add("init.pretrain_run", "required when init.type is pretrained");
  }
  if (c.init.type == InitType::kImagenet) {
    if (c.model.arch != models::kDeepLabV3PlusArch) {
      problems.add("init.type", "imagenet weights exist for the ResNet-50 (deeplabv3plus) only");
    }
    if (c.init.weights.empty()) problems.add("init.weights", "required when init.type is imagenet");
  }
  if (c.budgets.empty()) problems.add("budgets", "needs at least one label budget M");
  if (!std::is_sorted(c.budgets.begin(), c.budgets.end()) ||
      std::adjacent_find(c.budgets.begin(), c.budgets.end()) != c.budgets.end()) {
    problems.add("budgets", "must be strictly increasing (nested subsets)");
  }
  if (c.seeds.empty()) problems.add("seeds", "needs at least one seed");
  {
    std::vector<std::int64_t> sorted = c.seeds;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      problems.add("seeds", "must not repeat a seed");
    }
  }
  if (c.validation.source == ValidationSource::kBudget) {
    // The arithmetic half of "at least one image on each side", checked before any run
    // directory exists; plan_cells checks the whole-patient half against the data.
    for (const auto budget : c.budgets) {
      const double share = c.validation.fraction * static_cast<double>(budget);
      const auto held_out = std::llround(share);
      std::ostringstream numbers;
      numbers << c.validation.fraction << " x M=" << budget << " = " << share;
      if (held_out < 1) {
        problems.add("validation.fraction", numbers.str() +
                                                " rounds to no validation image; raise "
                                                "validation.fraction or the smallest budget");
        break;
      }
      if (held_out >= budget) {
        problems.add("validation.fraction", numbers.str() + " rounds to " +
                                                std::to_string(held_out) +
                                                " validation images, leaving none to train on; "
                                                "lower validation.fraction or raise the budget");
        break;
      }
    }
  }
  if (c.data.source.type != kPhantomSource && c.model.classes != 3) {
    problems.add("model.classes", "lung segmentation uses 3 classes (background, left, right)");
  }
}

FinetuneConfig load_finetune_config(const std::filesystem::path& file,
                                    const std::vector<std::string>& overrides) {
  FinetuneConfig config;
  load_config(
      file, overrides, [&](Schema& s) { describe(s, config); },
      [&](Problems& p) { validate(config, p); });
  if (config.run.name.empty() && !file.empty()) config.run.name = file.stem().string();
  if (config.run.name.empty()) config.run.name = "finetune";
  return config;
}

std::string dump(const FinetuneConfig& config) {
  FinetuneConfig copy = config;
  return dump_config([&](Schema& s) { describe(s, copy); });
}

}  // namespace cltci::config
