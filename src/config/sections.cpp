#include "cltci/config/sections.h"

#include "cltci/data/batch_augment.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/importer.h"
#include "cltci/data/phantom.h"
#include "cltci/dist/group.h"
#include "cltci/engine/lr_schedule.h"
#include "cltci/engine/optimizer.h"
#include "cltci/engine/precision.h"
#include "cltci/models/model_factory.h"
#include "cltci/models/unet.h"
#include "cltci/ssl/method.h"
#include "cltci/ssl/positives.h"

#include <string>
#include <vector>

// The choice lists and ranges of keys that name the library's parts (methods, positive rules,
// architectures, norms, importers, optimizers, schedules, precisions, the U-Net's depth) are the
// library's own registries and constants, read here: one list per key, so a method added to ssl::
// is a method the config accepts. Only this file reads them; the config headers stay free of the
// library.
namespace cltci::config {
namespace {

/// A [low, high] range with low <= high.
void check_range(const std::vector<double>& range, const std::string& key, Problems& problems) {
  if (range.size() == 2 && range[0] > range[1]) {
    problems.add(key, "low end must not exceed high end");
  }
}

}  // namespace

const std::vector<std::string>& source_types() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> all{kPhantomSource, kManifestSource};
    const auto& kinds = data::import_kinds();
    all.insert(all.end(), kinds.begin(), kinds.end());
    return all;
  }();
  return types;
}

void describe(Schema& s, RunConfig& c) {
  s.field("name", c.name,
          "run name; the run directory is <output_dir>/<name> (default: config file stem)");
  s.field("output_dir", c.output_dir, "parent directory of run directories");
  s.field("seed", c.seed, "one seed for every random source", Rule::non_negative());
  s.field("device", c.device, "auto | cpu | cuda | cuda:N");
  s.field("threads", c.threads,
          "torch intra-op threads; 0 = OMP_NUM_THREADS if set, else the CPUs the process may use",
          Rule::non_negative());
  s.field("precision", c.precision,
          "fp32, or mixed precision: bf16 (CPUs with AVX512-BF16/AMX, CUDA) | fp16 (CUDA) | "
          "auto (bf16 where the device has it natively, else fp32)",
          engine::precision_names());
  s.field("channels_last", c.channels_last, "channels-last memory format (faster ResNets)");
  s.field("checkpoint_every", c.checkpoint_every, "epochs between checkpoints", Rule::at_least(1));
  s.field("log_every", c.log_every, "steps between metrics.csv rows and progress lines",
          Rule::at_least(1));
  s.field("dist_backend", c.dist_backend,
          "data-parallel runs (torchrun / srun): auto (nccl on cuda, gloo on cpu) | gloo | nccl",
          dist::backend_names());
  s.field("dist_timeout_s", c.dist_timeout_s,
          "data-parallel runs: seconds a rank waits for the others before the job stops",
          Rule::at_least(1));
}

void describe(Schema& s, SourceConfig& c) {
  s.field("type", c.type, "where images come from", source_types());
  s.field("path", c.path,
          "manifest CSV (manifest), data set root (folder and importers); unused for phantom");
  s.field("patients", c.patients, "phantom: number of patients", Rule::at_least(1));
  s.field("images_per_patient", c.images_per_patient,
          "phantom: [min, max] acquisitions per patient", Rule::at_least(1), 2);
  // The doc is part of every saved config.yaml, which a resumed run compares byte for byte.
  s.field("native_size", c.native_size, "phantom: [height, width] of the generated images",
          Rule::between(32, data::kMaxPhantomSide), 2);
  s.field("phantom_seed", c.phantom_seed, "phantom: seed of the anatomy and acquisitions",
          Rule::non_negative());
  s.field("phantom_version", c.phantom_version,
          "phantom: generator version (1: the original, 2: paediatric ICU model)",
          Rule::between(data::kFirstPhantomVersion, data::kLatestPhantomVersion));
  s.field("frontal_only", c.frontal_only, "importers: keep PA/AP views only");
  s.field("allow_skips", c.allow_skips,
          "importers: skip (and list) unreadable files instead of stopping");
}

void describe(Schema& s, DataConfig& c) {
  s.section("source", "the data set", [&] { describe(s, c.source); });
  s.field("image_size", c.image_size, "side of the square network input, pixels",
          Rule::between(32, 4096));
  s.field("cache_dir", c.cache_dir, "where decoded, resized data sets are cached");
  s.field("cache_residency", c.cache_residency,
          "the cached images in memory, or streamed from the file (a data set larger than RAM); "
          "auto streams beyond 2 GiB",
          data::cache_residency_names());
  s.field("workers", c.workers,
          "loader worker threads; they share the cores with torch's threads (run.threads)",
          Rule::at_least(1));
  s.field("prefetch_batches", c.prefetch_batches, "batches prepared ahead of the training loop",
          Rule::at_least(1));
}

void describe(Schema& s, ModelConfig& c) {
  s.field("arch", c.arch, "unet | deeplabv3plus (ResNet-50)", models::architecture_names());
  s.field("in_channels", c.in_channels, "input channels (1 for X-rays)", Rule::at_least(1));
  s.field("classes", c.classes, "segmentation classes (background, left lung, right lung)",
          Rule::at_least(2));
  s.field("base_channels", c.base_channels, "U-Net: channels of the first level (paper: 32)",
          Rule::at_least(1));
  s.field("depth", c.depth, "U-Net: number of down-sampling levels (paper: 4)",
          Rule::between(1, static_cast<double>(models::kMaxUNetDepth)));
  s.field("norm", c.norm, "U-Net: normalisation layer", models::norm_names());
  s.field("output_stride", c.output_stride, "DeepLabV3+: encoder output stride (8 or 16)");
  s.field("aspp_rates", c.aspp_rates, "DeepLabV3+: atrous rates (paper code 6/12/18, smp 12/24/36)",
          Rule::at_least(1), 3);
  s.field("aspp_separable", c.aspp_separable, "DeepLabV3+: depthwise-separable ASPP (as smp)");
}

void describe(Schema& s, MethodConfig& c) {
  s.field("name", c.name, "pre-training method", ssl::method_names());
  s.field("temperature", c.temperature, "contrastive temperature tau", Rule::positive());
  s.field("base_temperature", c.base_temperature,
          "SupCon loss scale tau/base_tau (authors: 0.07); 0 = no scaling", Rule::non_negative());
  s.field("embedding_dim", c.embedding_dim, "projection head output dimension", Rule::at_least(1));
  s.field("queue_size", c.queue_size, "MoCo: keys remembered with their patient ids",
          Rule::at_least(1));
  s.field("momentum", c.momentum, "MoCo: key encoder momentum m", Rule::from_below(0.0, 1.0));
  s.field("shuffle_bn", c.shuffle_bn, "MoCo: split-batch BatchNorm in the key encoder");
  s.field("positives", c.positives,
          "CL-TCI: positives among a patient's images: patient (all), study (same study), "
          "window (|dt| <= max_days), weighted (weight exp(-|dt| / time_scale_days))",
          ssl::positive_rule_names());
  s.field("max_days", c.max_days, "positives: window: largest time between positives, days",
          Rule::non_negative());
  s.field("time_scale_days", c.time_scale_days,
          "positives: weighted: time scale tau_t of the weights, days", Rule::non_negative());
  s.field("images_per_patient", c.images_per_patient,
          "CL-TCI-SimCLR: K images per patient in a batch (batch = P x K)", Rule::at_least(1));
  s.field("pirl_negatives", c.pirl_negatives, "PIRL: negatives drawn from the memory bank",
          Rule::at_least(1));
  s.field("pirl_bank_momentum", c.pirl_bank_momentum, "PIRL: memory bank momentum",
          Rule::from_below(0.0, 1.0));
  s.field("loss_memory_mib", c.loss_memory_mib,
          "contrastive loss: memory budget of one chunk of logits (MiB)", Rule::positive());
}

void describe(Schema& s, AugmentConfig& c) {
  s.field("rotation_deg", c.rotation_deg, "random rotation in [-deg, deg]", Rule::between(0, 180));
  s.field("translate", c.translate, "random shift, fraction of the side", Rule::between(0, 0.5));
  s.field("crop_area", c.crop_area, "random sized crop: [min, max] kept area fraction",
          Rule::between(0.01, 1.0), 2);
  s.field("crop_aspect", c.crop_aspect, "random sized crop: [min, max] aspect ratio",
          Rule::positive(), 2);
  s.field("contrast", c.contrast, "contrast factor range", Rule::non_negative(), 2);
  s.field("brightness", c.brightness, "brightness factor range", Rule::non_negative(), 2);
  s.field("gamma", c.gamma, "gamma range ([1, 1] = off)", Rule::positive(), 2);
  s.field("hflip", c.hflip, "random horizontal flip (swaps the left and right lung labels)");
  s.field("placement", c.placement,
          "where it runs: loader threads (OpenCV) | device (batched on run.device after the "
          "upload of the cached bytes: the GPU data path) | auto (device on a GPU)",
          data::augment_placement_names());
}

void describe(Schema& s, OptimConfig& c) {
  s.field("name", c.name, "optimizer", engine::optimizer_names());
  s.field("lr", c.lr, "peak learning rate", Rule::positive());
  s.field("momentum", c.momentum, "SGD momentum", Rule::from_below(0.0, 1.0));
  s.field("weight_decay", c.weight_decay, "weight decay", Rule::non_negative());
  s.field("betas", c.betas, "Adam betas", Rule::from_below(0.0, 1.0), 2);
  s.field("schedule", c.schedule, "per-iteration learning-rate schedule",
          engine::lr_schedule_names());
  s.field("warmup_epochs", c.warmup_epochs, "linear warm-up length, epochs", Rule::non_negative());
  s.field("min_lr", c.min_lr, "floor of the cosine schedule", Rule::non_negative());
  s.field("epochs", c.epochs, "training epochs", Rule::at_least(1));
  s.field("batch_size", c.batch_size, "images per step", Rule::at_least(1));
  s.field("grad_clip", c.grad_clip, "clip the gradient norm to this value; 0 = off",
          Rule::non_negative());
}

void validate(const RunConfig& c, Problems& problems) {
  const bool device_ok = c.device == "auto" || c.device == "cpu" || c.device == "cuda" ||
                         (c.device.rfind("cuda:", 0) == 0 && c.device.size() > 5 &&
                          c.device.find_first_not_of("0123456789", 5) == std::string::npos);
  if (!device_ok)
    problems.add("run.device", "expected auto, cpu, cuda or cuda:N (got '" + c.device + "')");
  if (c.output_dir.empty()) problems.add("run.output_dir", "must not be empty");
  // The run directory is <output_dir>/<name>: a name with a separator or a dot-dot would write
  // (and --overwrite delete) outside output_dir.
  if (c.name.find_first_of("/\\") != std::string::npos || c.name == "." || c.name == "..") {
    problems.add("run.name",
                 "must be one directory name (no '/', not '.' or '..'), got '" + c.name + "'");
  }
}

void validate(const DataConfig& c, Problems& problems) {
  if (c.source.type != kPhantomSource && c.source.path.empty()) {
    problems.add("data.source.path", "required when data.source.type is " + c.source.type);
  }
  if (c.source.images_per_patient[0] > c.source.images_per_patient[1]) {
    problems.add("data.source.images_per_patient", "min must not exceed max");
  }
  if (c.cache_dir.empty()) problems.add("data.cache_dir", "must not be empty");
}

void validate(const ModelConfig& c, Problems& problems) {
  if (c.output_stride != 8 && c.output_stride != 16) {
    problems.add("model.output_stride",
                 "must be 8 or 16 (got " + std::to_string(c.output_stride) + ")");
  }
}

void validate(const AugmentConfig& c, Problems& problems) {
  check_range(c.crop_area, "augment.crop_area", problems);
  check_range(c.crop_aspect, "augment.crop_aspect", problems);
  check_range(c.contrast, "augment.contrast", problems);
  check_range(c.brightness, "augment.brightness", problems);
  check_range(c.gamma, "augment.gamma", problems);
}

void validate(const OptimConfig& c, Problems& problems) {
  if (c.warmup_epochs > static_cast<double>(c.epochs)) {
    problems.add("optim.warmup_epochs", "must not exceed optim.epochs");
  }
  if (c.min_lr > c.lr) problems.add("optim.min_lr", "must not exceed optim.lr");
}

}  // namespace cltci::config
