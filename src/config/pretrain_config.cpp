#include "cltci/config/pretrain_config.h"

#include "cltci/config/config_loader.h"
#include "cltci/config/config_writer.h"
#include "cltci/ssl/method.h"
#include "cltci/ssl/positives.h"

#include <string>

namespace cltci::config {

void describe(Schema& s, PretrainConfig& c) {
  s.section("run", "run identity, output and runtime", [&] {
    describe(s, c.run);
    s.field("probe_every", c.probe.every,
            "epochs between representation probes (patient retrieval, alignment/uniformity, "
            "effective rank) of un-augmented images; the last epoch always probes; 0 = only "
            "the last",
            Rule::non_negative());
    s.field("probe_images", c.probe.images,
            "probe set size: whole patients drawn by run.seed until this many images",
            Rule::at_least(2));
    s.field("collapse_patience", c.probe.collapse_patience,
            "epochs (loss) or probes (rank) a collapse sign must last before the warning",
            Rule::at_least(1));
    s.field("collapse_min_rank", c.probe.collapse_min_rank,
            "collapse warning when the probe embedding's effective rank stays below this",
            Rule::non_negative());
  });
  s.section("data", "unlabelled images grouped by patient", [&] { describe(s, c.data); });
  s.section("model", "encoder architecture", [&] { describe(s, c.model); });
  s.section("method", "self-supervised method", [&] { describe(s, c.method); });
  s.section("augment", "views of an image", [&] { describe(s, c.augment); });
  s.section("optim", "optimizer and schedule", [&] { describe(s, c.optim); });
}

void validate(const PretrainConfig& c, Problems& problems) {
  validate(c.run, problems);
  validate(c.data, problems);
  validate(c.model, problems);
  validate(c.augment, problems);
  validate(c.optim, problems);
  if (c.method.name == "cltci_simclr" && c.optim.batch_size % c.method.images_per_patient != 0) {
    problems.add("optim.batch_size", "must be a multiple of method.images_per_patient (" +
                                         std::to_string(c.method.images_per_patient) +
                                         ") for cltci_simclr (P patients x K images)");
  }
  using ssl::PositiveRule;
  if (!ssl::uses_patient_positives(c.method.name) &&
      c.method.positives != ssl::to_string(PositiveRule::kPatient)) {
    problems.add("method.positives", "only cltci_moco and cltci_simclr have patient positives; " +
                                         c.method.name + " takes the default 'patient'");
  }
  if (c.method.positives == ssl::to_string(PositiveRule::kWindow) && !(c.method.max_days > 0.0)) {
    problems.add("method.max_days",
                 "must be > 0 with positives: window (the largest time "
                 "between two positives, in days)");
  }
  if (c.method.positives == ssl::to_string(PositiveRule::kWeighted) &&
      !(c.method.time_scale_days > 0.0)) {
    problems.add("method.time_scale_days",
                 "must be > 0 with positives: weighted (tau_t of the "
                 "weights exp(-|dt| / tau_t), in days)");
  }
  if (c.method.name == "pirl" && c.data.image_size < 48) {
    problems.add("data.image_size", "PIRL's 3x3 jigsaw needs at least 48 pixels");
  }
}

PretrainConfig load_pretrain_config(const std::filesystem::path& file,
                                    const std::vector<std::string>& overrides) {
  PretrainConfig config;
  load_config(
      file, overrides, [&](Schema& s) { describe(s, config); },
      [&](Problems& p) { validate(config, p); });
  if (config.run.name.empty() && !file.empty()) config.run.name = file.stem().string();
  if (config.run.name.empty()) config.run.name = "pretrain";
  return config;
}

std::string dump(const PretrainConfig& config) {
  PretrainConfig copy = config;
  return dump_config([&](Schema& s) { describe(s, copy); });
}

}  // namespace cltci::config
