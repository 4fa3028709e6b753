// Pre-training step throughput of each method (images/s): loss, backward, SGD step and the
// method's after-step work, on random images, with each method's paper batch size.
//   cltci_pretrain_bench [--size 256] [--threads 2] [--steps 1] [--warmup 1]
//                        [--arch unet,resnet50] [--methods cltci_moco,moco,...]
//                        [--precision fp32,bf16] [--device cpu|cuda]
// An image counts once whatever the method does with it (two views for MoCo/SimCLR, four
// rotations, nine jigsaw patches): images/s is what sets an epoch's time. Data loading is not
// included (the loader prefetches in other threads).
#include "cltci/common/host_allocator.h"
#include "cltci/engine/precision.h"
#include "cltci/ssl/method.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
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
  torch::Device device = torch::kCPU;
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

/// The batch sizes of the authors' scripts (cl-tci-reference.md §4).
std::int64_t paper_batch(const std::string& method) {
  static const std::map<std::string, std::int64_t> sizes{{"cltci_moco", 16},   {"moco", 16},
                                                         {"cltci_simclr", 32}, {"simclr", 32},
                                                         {"rotation", 16},     {"pirl", 32}};
  return sizes.at(method);
}

double images_per_second(const std::string& method_name,
                         const std::string& arch,
                         const std::string& precision,
                         const Settings& s) {
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
  method->train(true);
  torch::optim::SGD optimizer(method->trainable_parameters(),
                              torch::optim::SGDOptions(0.01).momentum(0.9));
  cltci::ssl::MethodBatch input;
  const auto float_options = torch::TensorOptions(s.device);
  input.view1 = torch::rand({batch, 1, s.size, s.size}, float_options);
  input.view2 = torch::rand({batch, 1, s.size, s.size}, float_options);
  // Two images per patient, as CL-TCI-SimCLR's sampler with K = 2 would give.
  input.patient = torch::arange(batch, float_options.dtype(torch::kLong)).floor_divide(2);
  input.index = torch::randperm(options.dataset_size, torch::kLong).slice(0, 0, batch);
  auto step = [&](std::int64_t number) {
    optimizer.zero_grad();
    torch::Tensor loss;
    {
      const cltci::engine::AutocastScope autocast(mode, s.device);
      loss = method->loss(input, number);
    }
    loss.backward();
    optimizer.step();
    method->after_step();
    if (s.device.is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < s.warmup; ++i) step(i);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < s.steps; ++i) step(s.warmup + i);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(batch * s.steps) / seconds;
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
    } else if (flag == "--device") {
      s.device = torch::Device(value);
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  cltci::common::install_host_cache();
  torch::set_num_threads(s.threads);
  torch::manual_seed(0);
  std::printf(
      "pre-training step (loss + backward + SGD + after-step), %lldx%lld, %d threads, %s, "
      "%d warm-up + %d timed steps\n",
      static_cast<long long>(s.size), static_cast<long long>(s.size), s.threads,
      s.device.str().c_str(), s.warmup, s.steps);
  std::printf("%-10s %-14s %6s %-6s %10s\n", "arch", "method", "batch", "prec", "img/s");
  std::fflush(stdout);
  for (const auto& arch : s.archs) {
    for (const auto& method : s.methods) {
      for (const auto& precision : s.precisions) {
        const double rate = images_per_second(method, arch, precision, s);
        std::printf("%-10s %-14s %6lld %-6s %10.3f\n", arch.c_str(), method.c_str(),
                    static_cast<long long>(paper_batch(method)), precision.c_str(), rate);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
