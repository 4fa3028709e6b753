// The C++ side of the weight-interchange check against torchvision and smp
// (check_interchange.py drives it):
//   interchange_helper export DIR  writes DIR/resnet50_gray.safetensors (a 1-channel ResNet-50
//                                  with non-trivial BN statistics) and DIR/cpp_io.safetensors
//                                  (an input and its layer4 features at output stride 32 and 16)
//   interchange_helper import DIR  loads DIR/torchvision_rgb.safetensors (written by Python) into
//                                  3- and 1-channel ResNet-50s and compares their layer4 features
//                                  with DIR/python_io.safetensors; exit 1 above the tolerance.
#include "cltci/models/resnet.h"
#include "cltci/models/safetensors.h"
#include "cltci/models/weights_io.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

namespace {

using cltci::models::ResNet;
using cltci::models::ResNetOptions;

constexpr double kTolerance = 1e-4;

torch::Tensor layer4(ResNet& net, const torch::Tensor& x) {
  net->eval();
  torch::NoGradGuard no_grad;
  return net->forward(x);
}

int export_side(const std::filesystem::path& dir) {
  torch::manual_seed(2024);
  ResNet net(ResNetOptions().in_channels(1));
  {
    // Random BN affine parameters and statistics: with the defaults a mix-up of names between
    // BN layers would go unnoticed.
    torch::NoGradGuard no_grad;
    for (auto& item : cltci::models::state_dict(*net)) {
      const auto& key = item.key();
      auto& t = item.value();
      if (key.find("running_mean") != std::string::npos || key.find("bn") != std::string::npos ||
          key.find("downsample.1") != std::string::npos) {
        if (key.find("running_var") != std::string::npos) {
          t.uniform_(0.5, 1.5);
        } else if (key.find("num_batches_tracked") != std::string::npos) {
          t.fill_(123);
        } else if (key.find(".weight") != std::string::npos) {
          t.uniform_(0.5, 1.5);
        } else {
          t.normal_(0.0, 0.1);
        }
      }
    }
  }
  cltci::models::export_weights(*net, dir / "resnet50_gray.safetensors");

  const auto x = torch::rand({2, 1, 64, 64});
  cltci::models::StateDict io;
  io.insert("input", x);
  io.insert("layer4_os32", layer4(net, x));
  for (bool smp : {false, true}) {
    ResNet dilated(ResNetOptions().in_channels(1).output_stride(16).smp_dilation(smp));
    cltci::models::transfer(*net, *dilated);
    io.insert(smp ? "layer4_os16_smp" : "layer4_os16_torchvision", layer4(dilated, x));
  }
  cltci::models::write_safetensors(dir / "cpp_io.safetensors", io);
  std::cout << "exported " << (dir / "resnet50_gray.safetensors") << "\n";
  return 0;
}

int import_side(const std::filesystem::path& dir) {
  const auto expected = cltci::models::read_safetensors(dir / "python_io.safetensors").tensors;
  int failures = 0;
  for (int64_t channels : {3, 1}) {
    ResNet net(ResNetOptions().in_channels(channels));
    const auto report =
        cltci::models::import_torchvision_resnet(*net, dir / "torchvision_rgb.safetensors");
    const std::string suffix = channels == 3 ? "rgb" : "gray";
    const auto out = layer4(net, expected["input_" + suffix]);
    const double diff = (out - expected["layer4_" + suffix]).abs().max().item<double>();
    const bool ok = diff <= kTolerance && report.loaded.size() == 318;
    std::cout << (ok ? "ok  " : "FAIL") << " torchvision → C++ " << channels
              << "-channel: " << report.summary() << "; layer4 max |diff| " << diff << "\n";
    failures += ok ? 0 : 1;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "export" && std::string(argv[1]) != "import")) {
    std::cerr << "usage: " << argv[0] << " export|import DIR\n";
    return 2;
  }
  // As check_interchange.py (which says why); ctest's OMP_NUM_THREADS=1 does not apply here.
  torch::set_num_threads(2);
  try {
    return std::string(argv[1]) == "export" ? export_side(argv[2]) : import_side(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
