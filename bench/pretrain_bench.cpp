// Pre-training throughput of each method x backbone x precision x memory format (images/s):
// loss, backward, SGD step and the method's after-step work at each method's paper batch size,
// measured twice side by side: compute only (one batch of random images reused) and end to end
// (batches from the loader: a phantom cache decoded once, augmented by --workers threads, as
// `pretrain` trains), with their ratio and the peak host memory of the step (the caching
// allocator's live + cached bytes; CLTCI_HOST_CACHE=0 runs torch's default allocator and prints
// "-").
//   cltci_pretrain_bench [--size 256] [--threads 2] [--steps 1] [--warmup 1] [--workers 1]
//                        [--arch unet,resnet50] [--methods cltci_moco,moco,...]
//                        [--precision fp32,bf16] [--format nchw,nhwc] [--e2e 1]
//                        [--device cpu|cuda]
//                        [--authors CL-TCI-CLONE [--authors-python python3]
//                         [--authors-workers 2] [--authors-data DIR]]
// With --authors, the authors' own PyTorch loop (bench/authors_loop.py importing their code from
// the given clone, which stays outside this repository) is timed first for each backbone x
// contrastive method, on a folder-per-patient PNG set at 768 px (40 phantom patients, written
// to --authors-data, reused when it is already there), and the end-to-end rows read the same
// phantom images; the column "x authors" is our end-to-end rate over theirs.
// An image counts once whatever the method does with it (two views for MoCo/SimCLR, four
// rotations, nine jigsaw patches): images/s is what sets an epoch's time.
#include "cltci/common/host_allocator.h"
#include "cltci/data/dataset_cache.h"
#include "cltci/data/loader.h"
#include "cltci/data/phantom.h"
#include "cltci/data/phantom_export.h"
#include "cltci/data/samplers.h"
#include "cltci/engine/precision.h"
#include "cltci/models/memory_format.h"
#include "cltci/ssl/method.h"

#include <opencv2/core/utility.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Settings {
  std::int64_t size = 256;
  int threads = 2;
  int steps = 1;
  int warmup = 1;
  std::vector<std::string> archs{"unet", "resnet50"};
  std::vector<std::string> methods{"cltci_moco", "moco",     "cltci_simclr",
                                   "simclr",     "rotation", "pirl"};
  std::vector<std::string> precisions{"fp32", "bf16"};
  std::vector<std::string> formats{"nchw"};
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

struct Rates {
  double compute = 0;     ///< img/s on one reused batch
  double end_to_end = 0;  ///< img/s with the loader's batches; 0 when not measured
  double peak_mib = -1;   ///< the host allocator's peak during the measurement; -1: unknown
};

/// The batch sizes of the authors' scripts (cl-tci-reference.md §4).
std::int64_t paper_batch(const std::string& method) {
  static const std::map<std::string, std::int64_t> sizes{{"cltci_moco", 16},   {"moco", 16},
                                                         {"cltci_simclr", 32}, {"simclr", 32},
                                                         {"rotation", 16},     {"pirl", 32}};
  return sizes.at(method);
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
  const std::filesystem::path images = s.authors_data / "images";
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
          << " --arch " << arch << " --method " << method << " --batch " << paper_batch(method)
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

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Rates images_per_second(const std::string& method_name,
                        const std::string& arch,
                        const std::string& precision,
                        const std::string& format,
                        const Settings& s) {
  if (format != "nchw" && format != "nhwc") {
    throw std::invalid_argument("--format: unknown '" + format + "' (nchw, nhwc)");
  }
  const bool channels_last = format == "nhwc";
  const auto& names = cltci::engine::precision_names();
  const auto found = std::find(names.begin(), names.end(), precision);
  if (found == names.end()) throw std::invalid_argument("--precision: unknown '" + precision + "'");
  const auto mode = static_cast<cltci::engine::Precision>(found - names.begin());
  cltci::ssl::MethodOptions options;
  options.name = method_name;
  options.image_size = s.size;
  options.dataset_size = 4096;
  const std::int64_t batch = paper_batch(method_name);
  cltci::models::ModelSpec spec;
  spec.arch = arch == "resnet50" ? "deeplabv3plus" : "unet";  // the ResNet-50 encoder (OS 16)
  auto method = cltci::ssl::make_method(options, spec);
  method->to(s.device);
  if (channels_last) {
    for (const auto& entry : method->modules()) cltci::models::use_channels_last(*entry.second);
  }
  method->train(true);
  torch::optim::SGD optimizer(method->trainable_parameters(),
                              torch::optim::SGDOptions(0.01).momentum(0.9));
  cltci::ssl::MethodBatch input;
  const auto float_options = torch::TensorOptions(s.device);
  input.view1 = cltci::models::channels_last_input(
      torch::rand({batch, 1, s.size, s.size}, float_options), channels_last);
  input.view2 = cltci::models::channels_last_input(
      torch::rand({batch, 1, s.size, s.size}, float_options), channels_last);
  // Two images per patient, as CL-TCI-SimCLR's sampler with K = 2 would give.
  input.patient = torch::arange(batch, float_options.dtype(torch::kLong)).floor_divide(2);
  input.index = torch::randperm(options.dataset_size, torch::kLong).slice(0, 0, batch);
  // End to end: the loader's batches, moved and laid out as pretrain does.
  std::optional<cltci::data::CachedSource> source;
  std::unique_ptr<cltci::data::Loader> loader;
  std::int64_t epoch = 0;
  auto start_epoch = [&] {
    std::vector<std::int64_t> all(static_cast<std::size_t>(source->size()));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
    loader->start_epoch(
        epoch, cltci::data::make_batches(cltci::data::shuffled_epoch(all, 1, epoch), batch, true));
  };
  auto next_input = [&]() -> cltci::ssl::MethodBatch {
    std::optional<cltci::data::LoaderBatch> loaded = loader->next();
    if (!loaded) {
      ++epoch;
      start_epoch();
      loaded = loader->next();
    }
    cltci::ssl::MethodBatch from_loader;
    from_loader.view1 =
        cltci::models::channels_last_input(loaded->view1.to(s.device), channels_last);
    from_loader.view2 =
        cltci::models::channels_last_input(loaded->view2.to(s.device), channels_last);
    from_loader.patient = loaded->patient.to(s.device);
    from_loader.index = loaded->index.remainder(options.dataset_size);
    return from_loader;
  };
  auto step = [&](std::int64_t number, bool end_to_end) {
    const cltci::ssl::MethodBatch current = end_to_end ? next_input() : input;
    optimizer.zero_grad();
    torch::Tensor loss;
    {
      const cltci::engine::AutocastScope autocast(mode, s.device);
      loss = method->loss(current, number);
    }
    loss.backward();
    optimizer.step();
    method->after_step();
    if (s.device.is_cuda()) torch::cuda::synchronize();
  };
  auto rate = [&](bool end_to_end) {
    for (int i = 0; i < s.warmup; ++i) step(i, end_to_end);
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < s.steps; ++i) step(s.warmup + i, end_to_end);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return static_cast<double>(batch * s.steps) / seconds;
  };
  Rates rates;
  cltci::common::CachingHostAllocator* host = cltci::common::installed_host_cache();
  if (host != nullptr) {
    // The previous configuration's cached blocks are not this one's memory.
    host->release_cached();
    host->reset_peak();
  }
  rates.compute = rate(false);
  if (host != nullptr) rates.peak_mib = static_cast<double>(host->stats().peak_bytes) / (1 << 20);
  if (s.e2e) {
    source.emplace(phantom_cache(s));
    cltci::data::LoaderOptions loader_options;
    loader_options.workers = s.workers;
    loader_options.seed = 1;
    loader = std::make_unique<cltci::data::Loader>(*source, loader_options);
    start_epoch();
    rates.end_to_end = rate(true);
  }
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--size") {
      s.size = std::stoll(value);
    } else if (flag == "--threads") {
      s.threads = std::stoi(value);
    } else if (flag == "--steps") {
      s.steps = std::stoi(value);
    } else if (flag == "--warmup") {
      s.warmup = std::stoi(value);
    } else if (flag == "--arch") {
      s.archs = split(value);
    } else if (flag == "--methods") {
      s.methods = split(value);
    } else if (flag == "--precision") {
      s.precisions = split(value);
    } else if (flag == "--format") {
      s.formats = split(value);
    } else if (flag == "--workers") {
      s.workers = std::stoi(value);
    } else if (flag == "--e2e") {
      s.e2e = value != "0";
    } else if (flag == "--device") {
      s.device = torch::Device(value);
    } else if (flag == "--authors") {
      s.authors = value;
    } else if (flag == "--authors-python") {
      s.authors_python = value;
    } else if (flag == "--authors-workers") {
      s.authors_workers = std::stoi(value);
    } else if (flag == "--authors-data") {
      s.authors_data = value;
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (!s.authors.empty() && s.authors_data.empty()) {
    s.authors_data = std::filesystem::temp_directory_path() / "cltci_bench_authors_data";
  }
  cltci::common::install_host_cache();
  torch::set_num_threads(s.threads);
  // OpenCV's own pool would compete with the loader's workers (as in pretrain).
  cv::setNumThreads(0);
  torch::manual_seed(0);
  std::printf(
      "pre-training step (loss + backward + SGD + after-step), %lldx%lld, %d threads, %d loader "
      "worker(s), %s, host cache %s, %d warm-up + %d timed steps\n",
      static_cast<long long>(s.size), static_cast<long long>(s.size), s.threads, s.workers,
      s.device.str().c_str(), cltci::common::installed_host_cache() != nullptr ? "on" : "off",
      s.warmup, s.steps);
  std::printf("%-10s %-14s %6s %-6s %-7s %10s %10s %7s %10s %9s\n", "arch", "method", "batch",
              "prec", "format", "compute", "e2e", "ratio", "peak MiB", "x authors");
  std::fflush(stdout);
  try {
    for (const auto& arch : s.archs) {
      for (const auto& method : s.methods) {
        const double authors = authors_rate(arch, method, s);
        if (authors > 0) {
          std::printf("%-10s %-14s %6lld %-6s %-7s %10s %10.3f %7s %10s %9s\n", arch.c_str(),
                      method.c_str(), static_cast<long long>(paper_batch(method)), "fp32",
                      "authors", "-", authors, "-", "-", "1");
        }
        for (const auto& precision : s.precisions) {
          for (const auto& format : s.formats) {
            const Rates r = images_per_second(method, arch, precision, format, s);
            const std::string e2e = r.end_to_end > 0 ? std::to_string(r.end_to_end) : "-";
            const std::string ratio =
                r.end_to_end > 0 ? std::to_string(r.end_to_end / r.compute) : "-";
            const std::string peak = r.peak_mib >= 0 ? std::to_string(r.peak_mib) : "-";
            const std::string versus =
                authors > 0 && r.end_to_end > 0 ? std::to_string(r.end_to_end / authors) : "-";
            std::printf("%-10s %-14s %6lld %-6s %-7s %10.3f %10.10s %7.5s %10.8s %9.5s\n",
                        arch.c_str(), method.c_str(), static_cast<long long>(paper_batch(method)),
                        precision.c_str(), format.c_str(), r.compute, e2e.c_str(), ratio.c_str(),
                        peak.c_str(), versus.c_str());
            std::fflush(stdout);
          }
        }
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "cltci_pretrain_bench: %s\n", error.what());
    return 2;
  }
  return 0;
}
