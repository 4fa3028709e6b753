// Prints the toolkit's Dice for label maps stored as raw uint8 [N, H, W], so that the Python
// cross-check can compare it with MONAI's DiceMetric on the very same predictions.
// Usage: dice_tool PRED.raw TRUTH.raw N H W CLASSES
// Output: one line per image "image c1 c2 ..." (per-image Dice per lung class), then
// "pooled c1 c2 ...".
#include "cltci/engine/dice.h"

#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
torch::Tensor read_raw(const char* path, int64_t n, int64_t h, int64_t w) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n * h * w));
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw std::runtime_error(std::string(path) + ": short read");
  return torch::from_blob(bytes.data(), {n, h, w}, torch::kUInt8).to(torch::kLong).clone();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: dice_tool PRED.raw TRUTH.raw N H W CLASSES\n";
    return 2;
  }
  const int64_t n = std::stoll(argv[3]), h = std::stoll(argv[4]), w = std::stoll(argv[5]);
  const int64_t classes = std::stoll(argv[6]);
  const auto pred = read_raw(argv[1], n, h, w);
  const auto truth = read_raw(argv[2], n, h, w);
  std::vector<cltci::engine::ClassCounts> pooled(static_cast<size_t>(classes - 1));
  for (int64_t i = 0; i < n; ++i) {
    const auto counts = cltci::engine::count_classes(pred[i], truth[i], classes);
    std::printf("image");
    for (size_t c = 0; c < counts.size(); ++c) {
      std::printf(" %.10f", cltci::engine::dice(counts[c]));
      pooled[c] += counts[c];
    }
    std::printf("\n");
  }
  std::printf("pooled");
  for (const auto& counts : pooled) std::printf(" %.10f", cltci::engine::dice(counts));
  std::printf("\n");
  return 0;
}
