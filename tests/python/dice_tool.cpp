// Prints the toolkit's Dice for label maps stored as raw uint8 [N, H, W], so that the Python
// cross-check can compare it with MONAI's DiceMetric on the very same predictions; with --loss,
// its fine-tuning losses for raw float32 logits [N, CLASSES, H, W] against such a label map, to
// compare with MONAI's DiceLoss and torch's cross-entropy.
// Usage: dice_tool PRED.raw TRUTH.raw N H W CLASSES
//        dice_tool --loss LOGITS.raw TRUTH.raw N H W CLASSES
// Output: one line per image "image c1 c2 ..." (per-image Dice per lung class), then
// "pooled c1 c2 ..."; with --loss, "soft_dice L", "soft_dice_unsmoothed L" and "cross_entropy L".
#include "cltci/engine/dice.h"
#include "cltci/engine/segmentation_loss.h"

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

torch::Tensor read_logits(const char* path, int64_t n, int64_t classes, int64_t h, int64_t w) {
  std::vector<float> values(static_cast<size_t>(n * classes * h * w));
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(values.data()),
          static_cast<std::streamsize>(values.size() * sizeof(float)));
  if (!in) throw std::runtime_error(std::string(path) + ": short read");
  return torch::from_blob(values.data(), {n, classes, h, w}, torch::kFloat32).clone();
}

int print_losses(char** argv) {
  const int64_t n = std::stoll(argv[4]), h = std::stoll(argv[5]), w = std::stoll(argv[6]);
  const int64_t classes = std::stoll(argv[7]);
  const auto logits = read_logits(argv[2], n, classes, h, w);
  const auto truth = read_raw(argv[3], n, h, w);
  cltci::engine::SegmentationLossOptions options;
  std::printf("soft_dice %.10f\n",
              cltci::engine::soft_dice_loss(logits, truth, options).item<double>());
  options.smooth = 0.0;
  std::printf("soft_dice_unsmoothed %.10f\n",
              cltci::engine::soft_dice_loss(logits, truth, options).item<double>());
  std::printf("cross_entropy %.10f\n",
              cltci::engine::segmentation_loss(logits, truth).item<double>());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc == 8 && std::string(argv[1]) == "--loss") return print_losses(argv);
  if (argc != 7) {
    std::cerr << "usage: dice_tool [--loss] PRED.raw|LOGITS.raw TRUTH.raw N H W CLASSES\n";
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
