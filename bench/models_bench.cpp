// Training-step throughput of the networks: forward + backward of a batch, in images/s.
//   cltci_models_bench [--size 256] [--batch 8] [--threads 2] [--iterations 3] [--device cpu|cuda]
//                      [--precision fp32,bf16]
// Each row: one warm-up step, then the mean over the timed steps. bf16 rows run under autocast
// (on the CPU: at::autocast with kBFloat16, which uses AMX where the CPU has it).
#include "cli_common.h"
#include "cltci/common/device.h"
#include "cltci/models/deeplabv3plus.h"
#include "cltci/models/resnet.h"
#include "cltci/models/unet.h"

#include <ATen/autocast_mode.h>
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace {

struct Settings {
  int64_t size = 256;
  int64_t batch = 8;
  int threads = 2;
  int iterations = 3;
  std::vector<std::string> precisions{"fp32", "bf16"};  ///< the columns, in this order
  torch::Device device = torch::kCPU;
};

void set_autocast(const torch::Device& device, bool enabled) {
  const auto type = device.is_cuda() ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, at::kBFloat16);
  if (!enabled) at::autocast::clear_cache();
}

double images_per_second(torch::nn::Module& model,
                         const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                         const Settings& s,
                         bool bf16) {
  model.to(s.device);
  model.train();
  const auto x = torch::randn({s.batch, 1, s.size, s.size}, torch::TensorOptions(s.device));
  auto step = [&] {
    model.zero_grad();
    set_autocast(s.device, bf16);
    torch::Tensor out = forward(x);
    set_autocast(s.device, false);
    out.to(torch::kFloat32).mean().backward();
    if (s.device.is_cuda()) torch::cuda::synchronize();
  };
  step();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < s.iterations; ++i) step();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(s.batch * s.iterations) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  std::string device = "cpu";
  return cltci::apps::run_tool_main(
      "cltci_models_bench",
      "Forward + backward images/s of the U-Net, the ResNet-50 encoder and DeepLabV3+", argc, argv,
      [&](CLI::App& app) {
        app.add_option("--size", s.size, "side of the input images")->check(CLI::Range(32, 4096));
        app.add_option("--batch", s.batch, "images per step")->check(CLI::Range(1, 4096));
        app.add_option("--threads", s.threads, "torch intra-op threads")
            ->check(CLI::Range(1, 1024));
        app.add_option("--iterations", s.iterations, "timed steps")->check(CLI::Range(1, 1000000));
        app.add_option("--device", device, "cpu | cuda | cuda:N");
        app.add_option("--precision", s.precisions, "fp32, bf16 (comma-separated): the columns")
            ->delimiter(',')
            ->check(CLI::IsMember({"fp32", "bf16"}));
      },
      [&] {
        s.device = cltci::common::resolve_device(device);
        torch::set_num_threads(s.threads);
        torch::manual_seed(0);
        using namespace cltci::models;
        UNet unet(UNetOptions(1, 3));
        ResNet resnet(ResNetOptions().in_channels(1));
        DeepLabV3Plus deeplab(DeepLabV3PlusOptions(1, 3));
        struct Row {
          const char* name;
          torch::nn::Module* model;
          std::function<torch::Tensor(const torch::Tensor&)> forward;
        };
        const Row rows[] = {
            {"U-Net (base 32, depth 4)", unet.get(),
             [&](const torch::Tensor& x) { return unet(x); }},
            {"ResNet-50 encoder (OS 32)", resnet.get(),
             [&](const torch::Tensor& x) { return resnet(x); }},
            {"DeepLabV3+ (ResNet-50, OS 16)", deeplab.get(),
             [&](const torch::Tensor& x) { return deeplab(x); }},
        };
        std::printf("forward+backward, 1x%lldx%lld, batch %lld, %d threads, %s, %d timed steps\n",
                    static_cast<long long>(s.size), static_cast<long long>(s.size),
                    static_cast<long long>(s.batch), s.threads, s.device.str().c_str(),
                    s.iterations);
        std::printf("%-32s", "network");
        for (const auto& precision : s.precisions) {
          std::printf(" %14s", (precision + " img/s").c_str());
        }
        std::printf("\n");
        for (const auto& row : rows) {
          std::printf("%-32s", row.name);
          for (const auto& precision : s.precisions) {
            std::printf(" %14.2f",
                        images_per_second(*row.model, row.forward, s, precision == "bf16"));
            std::fflush(stdout);
          }
          std::printf("\n");
        }
        return 0;
      });
}
