#include "fuzz_config_schema.h"

namespace cltci::fuzz {

void describe(config::Schema& s, FuzzConfig& c) {
  using config::Rule;
  s.section("run", "the run", [&] {
    s.field("name", c.run_name, "run name");
    s.field("seed", c.seed, "seed of everything", Rule::non_negative());
    s.field("device", c.device, "auto | cpu | cuda", {"auto", "cpu", "cuda"});
    s.field("deterministic", c.deterministic, "deterministic kernels");
  });
  s.section("data", "the data", [&] {
    s.section("source", "where the images come from", [&] {
      s.field("type", c.source_type, "phantom | manifest", {"phantom", "manifest"});
      s.field("path", c.source_path, "manifest: the CSV");
      s.field("patients", c.patients, "phantom: patients", Rule::at_least(1));
      s.field("images_per_patient", c.images_per_patient, "phantom: [min, max]", Rule::at_least(1),
              2);
    });
    s.field("image_size", c.image_size, "side in pixels", Rule::between(32, 4096));
  });
  s.section("augment", "augmentations", [&] {
    s.field("rotation_deg", c.rotation_deg, "max rotation", Rule::between(0.0, 180.0));
    s.field("crop_area", c.crop_area, "[min, max] crop area", Rule::from_below(0.0, 1.0001), 2);
    s.field("contrast", c.contrast, "[min, max] contrast", Rule::positive(), 2);
  });
  s.section("optim", "optimiser", [&] {
    s.field("lr", c.lr, "peak learning rate", Rule::positive());
    s.field("momentum", c.momentum, "SGD momentum", Rule::from_below(0.0, 1.0));
    s.field("epochs", c.epochs, "epochs", Rule::at_least(1));
    s.field("schedule", c.schedule, "constant | cosine | step", {"constant", "cosine", "step"});
  });
  s.field("budgets", c.budgets, "label budgets M", Rule::at_least(1));
}

void validate(const FuzzConfig& c, config::Problems& problems) {
  if (c.images_per_patient.size() == 2 && c.images_per_patient[0] > c.images_per_patient[1]) {
    problems.add("data.source.images_per_patient", "min must not exceed max");
  }
  if (c.source_type == "manifest" && c.source_path.empty()) {
    problems.add("data.source.path", "a manifest source needs a path");
  }
  for (std::size_t i = 1; i < c.budgets.size(); ++i) {
    if (c.budgets[i] <= c.budgets[i - 1]) problems.add("budgets", "must be strictly increasing");
  }
}

}  // namespace cltci::fuzz
