// The config sections shared by the executables, nested like the YAML. Plain aggregates: the
// default of each key is its member initialiser, and its doc and constraint live in describe()
// (sections.cpp), the single place where the key is declared. Keys that name the library's parts
// (method.name, model.arch, ...) hold text checked against the library's registries there, and
// are parsed into the library's enums in run/bridges.cpp.
#pragma once

#include "cltci/config/schema.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cltci::config {

struct RunConfig {
  std::string name;  // defaults to the config file's stem
  std::string output_dir = "runs";
  std::int64_t seed = 12345;
  std::string device = "auto";
  std::int64_t threads = 0;
  std::string precision = "fp32";
  bool channels_last = false;
  std::int64_t checkpoint_every = 10;
  std::int64_t log_every = 10;
  std::string dist_backend = "auto";
  std::int64_t dist_timeout_s = 600;
};

struct SourceConfig {
  std::string type = "phantom";
  std::string path;
  std::int64_t patients = 60;
  std::vector<std::int64_t> images_per_patient{2, 6};
  std::vector<std::int64_t> native_size{320, 288};
  std::int64_t phantom_seed = 7;
  std::int64_t phantom_version = 2;
  bool frontal_only = true;
  bool allow_skips = false;
};

struct DataConfig {
  SourceConfig source;
  std::int64_t image_size = 256;
  std::string cache_dir = "cache";
  std::string cache_residency = "auto";
  std::int64_t workers = 1;
  std::int64_t prefetch_batches = 4;
};

struct ModelConfig {
  std::string arch = "unet";
  std::int64_t in_channels = 1;
  std::int64_t classes = 3;
  std::int64_t base_channels = 32;
  std::int64_t depth = 4;
  std::string norm = "batch";
  std::int64_t output_stride = 16;
  std::vector<std::int64_t> aspp_rates{6, 12, 18};
  bool aspp_separable = false;
};

struct MethodConfig {
  std::string name = "cltci_moco";
  double temperature = 0.1;
  double base_temperature = 0.0;
  std::int64_t embedding_dim = 512;
  std::int64_t queue_size = 3072;
  double momentum = 0.999;
  bool shuffle_bn = false;
  /// CL-TCI: which same-patient pairs are positives (issue #13; docs/pretraining.md#positives).
  std::string positives = "patient";
  double max_days = 0.0;         ///< positives: window
  double time_scale_days = 0.0;  ///< positives: weighted
  std::int64_t images_per_patient = 2;
  std::int64_t pirl_negatives = 128;
  double pirl_bank_momentum = 0.5;
  double loss_memory_mib = 512.0;
};

struct AugmentConfig {
  double rotation_deg = 10.0;
  double translate = 0.1;
  std::vector<double> crop_area{0.95, 1.0};
  std::vector<double> crop_aspect{0.75, 4.0 / 3.0};
  std::vector<double> contrast{0.6, 1.4};
  std::vector<double> brightness{0.6, 1.4};
  std::vector<double> gamma{1.0, 1.4};
  bool hflip = false;
  std::string placement = "auto";
};

struct OptimConfig {
  std::string name = "sgd";
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 1.0e-5;
  std::vector<double> betas{0.9, 0.999};
  std::string schedule = "cosine";
  double warmup_epochs = 10.0;
  double min_lr = 0.0;
  std::int64_t epochs = 500;
  std::int64_t batch_size = 16;
  double grad_clip = 0.0;
};

void describe(Schema& schema, RunConfig& config);
void describe(Schema& schema, SourceConfig& config);
void describe(Schema& schema, DataConfig& config);
void describe(Schema& schema, ModelConfig& config);
void describe(Schema& schema, MethodConfig& config);
void describe(Schema& schema, AugmentConfig& config);
void describe(Schema& schema, OptimConfig& config);

/// Cross-field checks of the shared sections (ranges given as [low, high] pairs, ...).
void validate(const RunConfig& config, Problems& problems);
void validate(const DataConfig& config, Problems& problems);
void validate(const ModelConfig& config, Problems& problems);
void validate(const AugmentConfig& config, Problems& problems);
void validate(const OptimConfig& config, Problems& problems);

/// data.source.type of the built-in phantom and of a manifest CSV; the other types are the
/// importers' kinds (data::import_kinds()).
inline constexpr const char* kPhantomSource = "phantom";
inline constexpr const char* kManifestSource = "manifest";

/// Source types `data.source.type` accepts: phantom, manifest, then every importer's kind.
const std::vector<std::string>& source_types();

}  // namespace cltci::config
