// Training throughput of each method x backbone x precision x memory format (images/s): for a
// pre-training method its loss, backward, SGD step and after-step work at its paper batch size;
// for `finetune` the segmentation network's step as `finetune` runs it by default (U-Net or
// DeepLabV3+, 3 classes, cross-entropy, Adam, batch 10, images and label maps augmented jointly).
// Each is measured twice side by side: compute only (one batch of random images reused) and end to
// end (batches from the loader: a phantom cache decoded once, augmented by --workers threads, as
// `pretrain` trains), with their ratio and the peak host memory of the step (the caching
// allocator's live + cached bytes; CLTCI_HOST_CACHE=0 runs torch's default allocator and prints
// "-").
//   cltci_pretrain_bench [--size 256] [--threads 2] [--steps 1] [--warmup 1] [--workers 1]
//                        [--arch unet,resnet50] [--methods cltci_moco,moco,...,finetune]
//                        [--precision fp32,bf16] [--format nchw,nhwc] [--e2e 1]
//                        [--device cpu|cuda] [--augment-placement loader,device]
//                        [--batch 0] [--min-seconds 0]
//                        [--authors CL-TCI-CLONE [--authors-python python3]
//                         [--authors-workers 2] [--authors-data DIR]]
// With --authors, the authors' own PyTorch loop (bench/authors_loop.py importing their code from
// the given clone, which stays outside this repository) is timed first for each backbone x
// contrastive method, on a folder-per-patient PNG set at 768 px (40 phantom patients, written
// to --authors-data, reused when it is already there), and the end-to-end rows read the same
// phantom images; the column "x authors" is our end-to-end rate over theirs.
// --augment-placement measures the end-to-end rate once per placement of the augmentation
// (augment.placement): in the loader's threads, or batched on the device after the upload of the
// cached bytes. An image counts once whatever the method does with it (two views for MoCo/SimCLR,
// four rotations, nine jigsaw patches): images/s is what sets an epoch's time.
#include "cli_common.h"
#include "cltci/common/device.h"
#include "cltci/common/host_allocator.h"
#include "cltci/config/finetune_config.h"
#include "cltci/data/augment.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/loader.h"
#include "cltci/data/phantom.h"
#include "cltci/data/phantom_export.h"
#include "cltci/data/samplers.h"
#include "cltci/engine/optimizer.h"
#include "cltci/engine/precision.h"
#include "cltci/engine/segmentation_loss.h"
#include "cltci/models/encoder.h"
#include "cltci/models/memory_format.h"
#include "cltci/models/model_factory.h"
#include "cltci/run/bridges.h"
#include "cltci/ssl/method.h"

#include <CLI/CLI.hpp>
#include <opencv2/core/utility.hpp>
#include <torch/torch.h>

#include <dlfcn.h>
#if CLTCI_BENCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Settings {
  std::int64_t size = 256;
  int threads = 2;
  int steps = 1;
  int warmup = 1;
  std::vector<std::string> archs{"unet", "resnet50"};
  std::vector<std::string> methods{"cltci_moco", "moco", "cltci_simclr", "simclr",
                                   "rotation",   "pirl", "finetune"};
  std::vector<std::string> precisions{"fp32", "bf16"};
  std::vector<std::string> formats{"nchw"};
  std::vector<std::string> placements{"loader"};
  std::int64_t batch = 0;  ///< 0: each method's paper batch
  double min_seconds = 0;  ///< timed steps go on at least this long (NVML's sample period)
  int workers = 1;
  bool e2e = true;
  torch::Device device = torch::kCPU;
  std::string authors;  ///< a clone of dewenzeng/CL-TCI; empty: no authors' row
  std::string authors_python = "python3";
  int authors_workers = 2;  ///< their DataLoader's worker processes
  std::filesystem::path authors_data;
};

/// The images of the side-by-side runs: 40 patients of 4-5 films at 768 px, the size of the
/// issue's folder-per-patient PNG set; without --authors a 96-patient phantom at its default size.
cltci::data::PhantomOptions bench_phantom(const Settings& s) {
  cltci::data::PhantomOptions phantom;
  if (s.authors.empty()) {
    phantom.patients = 96;
  } else {
    phantom.patients = 40;
    phantom.min_images = 4;
    phantom.max_images = 5;
    phantom.width = 768;
    phantom.height = 768;
  }
  return phantom;
}

/// The GPU's busy share while it runs: NVML's utilisation counter (the share of its last sample
/// period, 1/6 s to 1 s, in which a kernel was running, as nvidia-smi's GPU-Util), read every
/// 50 ms on a thread. libnvidia-ml comes with the driver: loaded at run time, so that the bench
/// builds and runs without it ("-" then).
class GpuBusySampler {
 public:
  explicit GpuBusySampler(unsigned index) {
    library_ = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (library_ == nullptr) return;
    using Init = int (*)();
    using Handle = int (*)(unsigned, void**);
    const auto init = reinterpret_cast<Init>(dlsym(library_, "nvmlInit_v2"));
    const auto handle = reinterpret_cast<Handle>(dlsym(library_, "nvmlDeviceGetHandleByIndex_v2"));
    utilization_ = reinterpret_cast<Utilization>(dlsym(library_, "nvmlDeviceGetUtilizationRates"));
    if (init == nullptr || handle == nullptr || utilization_ == nullptr || init() != 0 ||
        handle(index, &device_) != 0) {
      device_ = nullptr;
    }
  }
  ~GpuBusySampler() {
    stop();
    if (library_ == nullptr) return;
    using Shutdown = int (*)();
    if (const auto shutdown = reinterpret_cast<Shutdown>(dlsym(library_, "nvmlShutdown"))) {
      shutdown();
    }
    dlclose(library_);
  }
  GpuBusySampler(const GpuBusySampler&) = delete;
  GpuBusySampler& operator=(const GpuBusySampler&) = delete;

  bool available() const { return device_ != nullptr; }
  void start() {
    if (!available()) return;
    stop();
    sum_ = 0;
    samples_ = 0;
    running_ = true;
    thread_ = std::thread([this] {
      while (running_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        Reading reading{};
        if (utilization_(device_, &reading) == 0) {
          sum_ += reading.gpu;
          ++samples_;
        }
      }
    });
  }
  /// Mean busy percentage since start(); -1 when NVML is missing or read nothing.
  double stop() {
    if (thread_.joinable()) {
      running_ = false;
      thread_.join();
    }
    return samples_ > 0 ? static_cast<double>(sum_) / static_cast<double>(samples_) : -1.0;
  }

 private:
  struct Reading {
    unsigned gpu, memory;  // nvmlUtilization_t: percentages
  };
  using Utilization = int (*)(void*, Reading*);
  void* library_ = nullptr;
  void* device_ = nullptr;
  Utilization utilization_ = nullptr;
  std::atomic<bool> running_{false};
  std::thread thread_;
  std::uint64_t sum_ = 0;
  std::uint64_t samples_ = 0;
};

/// Peak bytes allocated on the GPU by torch since the last reset, in MiB; -1 on a CPU run.
double gpu_peak_mib([[maybe_unused]] const torch::Device& device, bool reset) {
#if CLTCI_BENCH_CUDA
  if (!device.is_cuda()) return -1;
  const auto index = device.has_index() ? device.index() : c10::DeviceIndex{0};
  const double peak = static_cast<double>(
      c10::cuda::CUDACachingAllocator::getDeviceStats(index).allocated_bytes[0].peak);
  if (reset) c10::cuda::CUDACachingAllocator::resetPeakStats(index);
  return peak / (1 << 20);
#else
  static_cast<void>(reset);
  return -1;
#endif
}

struct EndToEnd {
  double rate = 0;           ///< img/s with the loader's batches
  double gpu_busy = -1;      ///< GPU busy share over the timed steps, %; -1: not a GPU or no NVML
  double gpu_peak_mib = -1;  ///< torch's peak GPU allocation over the timed steps
};

struct Rates {
  double compute = 0;  ///< img/s on one reused batch
  /// One per --augment-placement placement; empty when not measured.
  std::vector<EndToEnd> end_to_end;
  double peak_mib = -1;  ///< the host allocator's peak during the measurement; -1: unknown
  double compute_gpu_busy = -1;
  double compute_gpu_peak_mib = -1;
};

/// The row of fine-tuning's step, beside the pre-training methods'.
const std::string kFinetune = "finetune";

/// The batch sizes of the authors' scripts (cl-tci-reference.md §4); fine-tuning's is
/// `finetune`'s default (optim.batch_size).
std::int64_t paper_batch(const std::string& method) {
  if (method == kFinetune)
    return cltci::config::FinetuneConfig::finetune_optim_defaults().batch_size;
  static const std::map<std::string, std::int64_t> sizes{{"cltci_moco", 16},   {"moco", 16},
                                                         {"cltci_simclr", 32}, {"simclr", 32},
                                                         {"rotation", 16},     {"pirl", 32}};
  const auto found = sizes.find(method);
  if (found == sizes.end()) {
    throw std::invalid_argument("--methods: unknown '" + method +
                                "' (cltci_moco, moco, cltci_simclr, simclr, rotation, pirl, "
                                "finetune)");
  }
  return found->second;
}

std::int64_t batch_size(const std::string& method, const Settings& s) {
  return s.batch > 0 ? s.batch : paper_batch(method);
}

/// The data an end-to-end step reads: bench_phantom's images cached at the benchmark's size, as
/// `pretrain` would have decoded them.
const cltci::data::CachedDataset& phantom_cache(const Settings& s) {
  static std::map<std::int64_t, std::unique_ptr<cltci::data::CachedDataset>> caches;
  auto& cache = caches[s.size];
  if (!cache) {
    cltci::data::CacheOptions options;
    options.image_size = static_cast<int>(s.size);
    cache = std::make_unique<cltci::data::CachedDataset>(
        cltci::data::build_cache(cltci::data::phantom_sources(bench_phantom(s)), options));
  }
  return *cache;
}

std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// The folder-per-patient PNGs the authors' loader reads, written once.
std::filesystem::path authors_images(const Settings& s) {
  std::filesystem::path images = s.authors_data / "images";
  if (!std::filesystem::is_directory(images)) {
    std::filesystem::create_directories(s.authors_data);
    cltci::data::export_phantom(s.authors_data, bench_phantom(s), cltci::data::PhantomFormat::kPng);
  }
  return images;
}

/// img/s of the authors' loop for one backbone x method (fp32, their loader), or 0 for a method
/// their code does not have (rotation and PIRL are not timed: their scripts differ in kind).
double authors_rate(const std::string& arch, const std::string& method, const Settings& s) {
  static const std::set<std::string> contrastive{"cltci_moco", "moco", "cltci_simclr", "simclr"};
  if (s.authors.empty() || contrastive.count(method) == 0) return 0;
  std::ostringstream command;
  command << shell_quoted(s.authors_python) << ' ' << shell_quoted(CLTCI_AUTHORS_LOOP) << " --repo "
          << shell_quoted(s.authors) << " --data " << shell_quoted(authors_images(s).string())
          << " --arch " << arch << " --method " << method << " --batch " << batch_size(method, s)
          << " --workers " << s.authors_workers << " --threads " << s.threads << " --warmup "
          << s.warmup << " --steps " << s.steps << " --size " << s.size << " 2>&1";
  FILE* pipe = popen(command.str().c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("--authors: cannot start " + s.authors_python);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  const std::string key = "authors_loop img/s ";
  const std::size_t at = output.rfind(key);
  if (status != 0 || at == std::string::npos) {
    throw std::runtime_error("--authors: their loop failed (" + arch + ", " + method + "):\n" +
                             output);
  }
  const std::size_t patches = output.find("authors_loop patches: ");
  if (patches != std::string::npos) {
    std::printf("# %s", output.substr(patches, output.find('\n', patches) - patches + 1).c_str());
  }
  return std::stod(output.substr(at + key.size()));
}

cltci::engine::Precision parse_precision(const std::string& precision) {
  const auto& names = cltci::engine::precision_names();
  const auto found = std::find(names.begin(), names.end(), precision);
  if (found == names.end()) throw std::invalid_argument("--precision: unknown '" + precision + "'");
  return static_cast<cltci::engine::Precision>(found - names.begin());
}

bool parse_channels_last(const std::string& format) {
  if (format != "nchw" && format != "nhwc") {
    throw std::invalid_argument("--format: unknown '" + format + "' (nchw, nhwc)");
  }
  return format == "nhwc";
}

/// The ResNet-50 rows train DeepLabV3+'s encoder (OS 16) or the whole DeepLabV3+.
cltci::models::ModelSpec model_spec(const std::string& arch) {
  cltci::models::ModelSpec spec;
  spec.arch = arch == "resnet50" ? "deeplabv3plus" : "unet";
  return spec;
}

/// What one row measures: a training step on a reused random batch (compute only) or on the
/// loader's next batch (end to end), and the loader those batches come from.
struct Workload {
  std::int64_t batch = 0;
  cltci::data::LoaderMode mode = cltci::data::LoaderMode::kContrastive;
  cltci::data::AugmentOptions augment;
  std::function<void(std::int64_t number, const cltci::data::LoaderBatch* loaded)> step;
};

/// A pre-training step as `pretrain` runs it: the method's loss, backward, SGD, after-step.
Workload pretraining_workload(const std::string& method_name,
                              const std::string& arch,
                              cltci::engine::Precision precision,
                              bool channels_last,
                              const Settings& s) {
  cltci::ssl::MethodOptions options;
  options.name = method_name;
  options.image_size = s.size;
  options.dataset_size = 4096;
  Workload workload;
  workload.batch = batch_size(method_name, s);
  std::shared_ptr<cltci::ssl::Method> method = cltci::ssl::make_method(options, model_spec(arch));
  method->to(s.device);
  if (channels_last) {
    for (const auto& entry : method->modules()) cltci::models::use_channels_last(*entry.second);
  }
  method->train(true);
  auto optimizer = std::make_shared<torch::optim::SGD>(
      method->trainable_parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  auto input = std::make_shared<cltci::ssl::MethodBatch>();
  const auto float_options = torch::TensorOptions(s.device);
  const std::int64_t batch = workload.batch;
  input->view1 = cltci::models::channels_last_input(
      torch::rand({batch, 1, s.size, s.size}, float_options), channels_last);
  input->view2 = cltci::models::channels_last_input(
      torch::rand({batch, 1, s.size, s.size}, float_options), channels_last);
  // Two images per patient, as CL-TCI-SimCLR's sampler with K = 2 would give.
  input->patient = torch::arange(batch, float_options.dtype(torch::kLong)).floor_divide(2);
  input->index = torch::randperm(options.dataset_size, torch::kLong).slice(0, 0, batch);
  const std::int64_t dataset_size = options.dataset_size;
  const torch::Device device = s.device;
  workload.step = [=](std::int64_t number, const cltci::data::LoaderBatch* loaded) {
    cltci::ssl::MethodBatch current = *input;
    if (loaded != nullptr) {
      current.view1 = cltci::models::channels_last_input(loaded->view1, channels_last);
      current.view2 = cltci::models::channels_last_input(loaded->view2, channels_last);
      current.patient = loaded->patient;
      current.index = loaded->index.remainder(dataset_size);
    }
    optimizer->zero_grad();
    torch::Tensor loss;
    {
      const cltci::engine::AutocastScope autocast(precision, device);
      loss = method->loss(current, number);
    }
    loss.backward();
    optimizer->step();
    method->after_step();
  };
  return workload;
}

/// A fine-tuning step as `finetune` runs it with its defaults (configs/finetune: Adam 1e-4,
/// batch 10, cross-entropy, its augmentation ranges): the segmentation network's forward on
/// jointly augmented images and label maps, the loss, backward and the optimizer's step.
Workload finetuning_workload(const std::string& arch,
                             cltci::engine::Precision precision,
                             bool channels_last,
                             const Settings& s) {
  const cltci::config::FinetuneConfig config;
  Workload workload;
  workload.batch = batch_size("finetune", s);
  workload.mode = cltci::data::LoaderMode::kSegmentation;
  workload.augment = cltci::run::augment_options(config.augment);
  std::shared_ptr<cltci::models::SegmentationNet> net =
      cltci::models::make_segmentation_net(model_spec(arch));
  net->to(s.device);
  if (channels_last) cltci::models::use_channels_last(*net);
  net->train(true);
  std::shared_ptr<torch::optim::Optimizer> optimizer = cltci::engine::make_optimizer(
      net->parameters(), cltci::run::trainer_options(config.run, config.optim).optimizer);
  const cltci::engine::SegmentationLossOptions loss_options =
      cltci::run::segmentation_loss_options(config.loss);
  const auto float_options = torch::TensorOptions(s.device);
  const std::int64_t batch = workload.batch;
  const auto image = cltci::models::channels_last_input(
      torch::rand({batch, 1, s.size, s.size}, float_options), channels_last);
  const auto mask =
      torch::randint(0, 3, {batch, s.size, s.size}, float_options.dtype(torch::kLong));
  const torch::Device device = s.device;
  workload.step = [=](std::int64_t /*number*/, const cltci::data::LoaderBatch* loaded) {
    const auto input = loaded != nullptr
                           ? cltci::models::channels_last_input(loaded->image, channels_last)
                           : image;
    const auto& target = loaded != nullptr ? loaded->mask : mask;
    optimizer->zero_grad();
    torch::Tensor loss;
    {
      const cltci::engine::AutocastScope autocast(precision, device);
      loss = cltci::engine::segmentation_loss(net->forward(input), target, loss_options);
    }
    loss.backward();
    optimizer->step();
  };
  return workload;
}

Rates images_per_second(const std::string& method_name,
                        const std::string& arch,
                        const std::string& precision,
                        const std::string& format,
                        const Settings& s) {
  const bool channels_last = parse_channels_last(format);
  const auto mode = parse_precision(precision);
  const Workload workload = method_name == kFinetune
                                ? finetuning_workload(arch, mode, channels_last, s)
                                : pretraining_workload(method_name, arch, mode, channels_last, s);
  const std::int64_t batch = workload.batch;
  // End to end: the loader's batches, moved (and augmented, when deferred) as the apps do.
  std::optional<cltci::data::CachedSource> source;
  std::unique_ptr<cltci::data::Loader> loader;
  std::int64_t epoch = 0;
  auto start_epoch = [&] {
    std::vector<std::int64_t> all(static_cast<std::size_t>(source->size()));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
    loader->start_epoch(
        epoch, cltci::data::make_batches(cltci::data::shuffled_epoch(all, 1, epoch), batch, true));
  };
  auto step = [&](std::int64_t number, bool end_to_end) {
    if (!end_to_end) {
      workload.step(number, nullptr);
      return;
    }
    std::optional<cltci::data::LoaderBatch> loaded = loader->next();
    if (!loaded) {
      ++epoch;
      start_epoch();
      loaded = loader->next();
    }
    const cltci::data::LoaderBatch moved = loader->to_device(*loaded, s.device);
    workload.step(number, &moved);
  };
  // No synchronisation inside the timed steps (the host queues ahead, as in the apps); one at
  // each end of the window, so that it holds exactly the timed steps' GPU work.
  const auto synchronize = [&] {
    if (s.device.is_cuda()) torch::cuda::synchronize();
  };
  GpuBusySampler busy(static_cast<unsigned>(s.device.has_index() ? s.device.index() : 0));
  auto rate = [&](bool end_to_end) {
    for (int i = 0; i < s.warmup; ++i) step(i, end_to_end);
    synchronize();
    gpu_peak_mib(s.device, /*reset=*/true);
    if (s.device.is_cuda()) busy.start();
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    int steps = 0;
    while (steps < s.steps || elapsed() < s.min_seconds) step(s.warmup + steps++, end_to_end);
    synchronize();
    const double seconds = elapsed();
    EndToEnd measured;
    measured.rate = static_cast<double>(batch * steps) / seconds;
    measured.gpu_busy = busy.stop();
    measured.gpu_peak_mib = gpu_peak_mib(s.device, /*reset=*/false);
    return measured;
  };
  Rates rates;
  cltci::common::CachingHostAllocator* host = cltci::common::installed_host_cache();
  if (host != nullptr) {
    // The previous configuration's cached blocks are not this one's memory.
    host->release_cached();
    host->reset_peak();
  }
  const EndToEnd compute = rate(false);
  rates.compute = compute.rate;
  rates.compute_gpu_busy = compute.gpu_busy;
  rates.compute_gpu_peak_mib = compute.gpu_peak_mib;
  if (host != nullptr) rates.peak_mib = static_cast<double>(host->stats().peak_bytes) / (1 << 20);
  if (s.e2e) {
    source.emplace(phantom_cache(s));
    for (const auto& placement : s.placements) {
      cltci::data::LoaderOptions loader_options;
      loader_options.mode = workload.mode;
      loader_options.augment = workload.augment;
      loader_options.workers = s.workers;
      loader_options.seed = 1;
      loader_options.defer_augmentation = placement == "device";
      loader_options.pin_memory = s.device.is_cuda();
      loader.reset();
      loader = std::make_unique<cltci::data::Loader>(*source, loader_options);
      epoch = 0;
      start_epoch();
      rates.end_to_end.push_back(rate(true));
    }
  }
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  std::string device = "cpu";
  std::vector<std::string> method_choices = cltci::ssl::method_names();
  method_choices.emplace_back(kFinetune);
  const std::vector<std::string> arch_choices{"unet", "resnet50"};
  const std::vector<std::string> format_choices{"nchw", "nhwc"};
  const std::vector<std::string> placement_choices{"loader", "device"};
  return cltci::apps::run_tool_main(
      "cltci_pretrain_bench",
      "Training-step images/s of each method x backbone x precision x memory format, "
      "compute only and end to end",
      argc, argv,
      [&](CLI::App& app) {
        app.add_option("--size", s.size, "side of the training images")
            ->check(CLI::Range(32, 4096));
        app.add_option("--threads", s.threads, "torch intra-op threads")
            ->check(CLI::Range(1, 1024));
        app.add_option("--steps", s.steps, "timed steps per row")->check(CLI::Range(1, 1000000));
        app.add_option("--warmup", s.warmup, "untimed steps first")->check(CLI::Range(0, 1000000));
        app.add_option("--arch", s.archs, "unet, resnet50 (comma-separated)")
            ->delimiter(',')
            ->check(CLI::IsMember(arch_choices));
        app.add_option("--methods", s.methods,
                       "pre-training methods and/or finetune (comma-separated)")
            ->delimiter(',')
            ->check(CLI::IsMember(method_choices));
        app.add_option("--precision", s.precisions, "fp32, bf16, fp16, auto (comma-separated)")
            ->delimiter(',')
            ->check(CLI::IsMember(cltci::engine::precision_names()));
        app.add_option("--format", s.formats, "nchw, nhwc (comma-separated)")
            ->delimiter(',')
            ->check(CLI::IsMember(format_choices));
        app.add_option("--augment-placement", s.placements, "loader, device (comma-separated)")
            ->delimiter(',')
            ->check(CLI::IsMember(placement_choices));
        app.add_option("--batch", s.batch, "images per step; 0: each method's paper batch")
            ->check(CLI::Range(0, 1 << 20));
        app.add_option("--min-seconds", s.min_seconds, "timed steps go on at least this long")
            ->check(CLI::Range(0.0, 3600.0));
        app.add_option("--workers", s.workers, "loader worker threads")->check(CLI::Range(0, 256));
        app.add_option("--e2e", s.e2e, "measure end to end too (0 or 1)");
        app.add_option("--device", device, "cpu | cuda | cuda:N");
        app.add_option("--authors", s.authors,
                       "a clone of the authors' CL-TCI code: their loop's row");
        app.add_option("--authors-python", s.authors_python, "the Python that runs their loop");
        app.add_option("--authors-workers", s.authors_workers,
                       "their DataLoader's worker processes")
            ->check(CLI::Range(0, 256));
        app.add_option("--authors-data", s.authors_data, "folder of the PNG set both loops read");
      },
      [&] {
        s.device = cltci::common::resolve_device(device);
        if (!s.authors.empty() && s.authors_data.empty()) {
          s.authors_data = std::filesystem::temp_directory_path() / "cltci_bench_authors_data";
        }
        cltci::common::install_host_cache();
        torch::set_num_threads(s.threads);
        // OpenCV's own pool would compete with the loader's workers (as in pretrain).
        cv::setNumThreads(0);
        torch::manual_seed(0);
        std::printf(
            "training step (pre-training: loss + backward + SGD + after-step; finetune: forward + "
            "loss "
            "+ backward + Adam), %lldx%lld, %d threads, %d loader "
            "worker(s), %s, host cache %s, %d warm-up + %d timed steps (at least %.1f s)\n",
            static_cast<long long>(s.size), static_cast<long long>(s.size), s.threads, s.workers,
            s.device.str().c_str(), cltci::common::installed_host_cache() != nullptr ? "on" : "off",
            s.warmup, s.steps, s.min_seconds);
        // "-" where a figure does not apply: GPU columns on a CPU, e2e with --e2e 0.
        const auto figure = [](double value, bool shown, int precision) {
          if (!shown) return std::string("-");
          char text[32];
          std::snprintf(text, sizeof text, "%.*f", precision, value);
          return std::string(text);
        };
        const char* const row_format =
            "%-10s %-14s %6lld %-6s %-7s %-6s %10s %10s %7s %9s %8s %7s %9s\n";
        std::printf("%-10s %-14s %6s %-6s %-7s %-6s %10s %10s %7s %9s %8s %7s %9s\n", "arch",
                    "method", "batch", "prec", "format", "aug", "compute", "e2e", "ratio",
                    "host MiB", "GPU MiB", "busy %", "x authors");
        std::fflush(stdout);
        for (const auto& arch : s.archs) {
          for (const auto& method : s.methods) {
            const auto batch = static_cast<long long>(batch_size(method, s));
            const double authors = authors_rate(arch, method, s);
            if (authors > 0) {
              std::printf(row_format, arch.c_str(), method.c_str(), batch, "fp32", "authors", "-",
                          "-", figure(authors, true, 3).c_str(), "-", "-", "-", "-", "1");
            }
            for (const auto& precision : s.precisions) {
              for (const auto& format : s.formats) {
                const Rates r = images_per_second(method, arch, precision, format, s);
                const std::string host = figure(r.peak_mib, r.peak_mib >= 0, 0);
                const auto row = [&](const std::string& placement, const EndToEnd* e2e) {
                  const bool measured = e2e != nullptr && e2e->rate > 0;
                  const double gpu_mib =
                      e2e != nullptr ? e2e->gpu_peak_mib : r.compute_gpu_peak_mib;
                  const double gpu_busy = e2e != nullptr ? e2e->gpu_busy : r.compute_gpu_busy;
                  std::printf(row_format, arch.c_str(), method.c_str(), batch, precision.c_str(),
                              format.c_str(), placement.c_str(), figure(r.compute, true, 3).c_str(),
                              figure(measured ? e2e->rate : 0, measured, 3).c_str(),
                              figure(measured ? e2e->rate / r.compute : 0, measured, 3).c_str(),
                              host.c_str(), figure(gpu_mib, gpu_mib >= 0, 0).c_str(),
                              figure(gpu_busy, gpu_busy >= 0, 1).c_str(),
                              figure(measured ? e2e->rate / authors : 0, measured && authors > 0, 3)
                                  .c_str());
                };
                if (r.end_to_end.empty()) row("-", nullptr);
                for (std::size_t p = 0; p < r.end_to_end.size(); ++p) {
                  row(s.placements[p], &r.end_to_end[p]);
                }
                std::fflush(stdout);
              }
            }
          }
        }
        return 0;
      });
}
