// The schema the config fuzzer reads YAML into. The executables' schemas (config/sections.cpp)
// take their choice lists from the library's registries (methods, importers, architectures),
// which would pull most of the library into the fuzz build; this one has the same shapes (nested
// sections, every field type, ranges, fixed-size lists, choices, an enum) under real key names,
// so the configs in configs/ are close seeds, and it drives the same reader and writer.
#pragma once

#include "cltci/config/schema.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cltci::fuzz {

enum class FuzzSchedule { kConstant, kCosine, kStep };

struct FuzzConfig {
  std::string run_name = "fuzz";
  std::int64_t seed = 12345;
  std::string device = "auto";
  bool deterministic = false;
  std::string source_type = "phantom";
  std::string source_path;
  std::int64_t patients = 60;
  std::vector<std::int64_t> images_per_patient{1, 4};
  std::int64_t image_size = 256;
  double rotation_deg = 10.0;
  std::vector<double> crop_area{0.95, 1.0};
  std::vector<double> contrast{0.6, 1.4};
  double lr = 0.1;
  double momentum = 0.9;
  std::int64_t epochs = 500;
  FuzzSchedule schedule = FuzzSchedule::kCosine;
  std::vector<std::int64_t> budgets{10, 20};
};

void describe(config::Schema& schema, FuzzConfig& config);

/// A cross-field check, as the executables' validate() functions have them.
void validate(const FuzzConfig& config, config::Problems& problems);

}  // namespace cltci::fuzz
