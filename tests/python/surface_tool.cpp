// Prints the toolkit's HD95 and ASSD for label maps stored as raw uint8 [N, H, W], so that the
// Python cross-check can compare them with MONAI's on the very same masks.
// Usage: surface_tool PRED.raw TRUTH.raw N H W CLASSES ROW_SPACING COL_SPACING
// Output: one line per image and lung class "IMAGE CLASS STATUS HD95 ASSD" (17 significant
// digits, "nan" unless STATUS is "defined").
#include "cltci/engine/surface_distance.h"

#include <torch/torch.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
torch::Tensor read_raw(const char* path, std::int64_t n, std::int64_t h, std::int64_t w) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n * h * w));
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw std::runtime_error(std::string(path) + ": short read");
  return torch::from_blob(bytes.data(), {n, h, w}, torch::kUInt8).clone();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::cerr << "usage: surface_tool PRED.raw TRUTH.raw N H W CLASSES ROW_SPACING COL_SPACING\n";
    return 2;
  }
  const std::int64_t n = std::stoll(argv[3]), h = std::stoll(argv[4]), w = std::stoll(argv[5]);
  const std::int64_t classes = std::stoll(argv[6]);
  const std::array<double, 2> spacing = {std::stod(argv[7]), std::stod(argv[8])};
  const auto pred = read_raw(argv[1], n, h, w);
  const auto truth = read_raw(argv[2], n, h, w);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto scores = cltci::engine::surface_distances(pred[i], truth[i], classes, spacing);
    for (std::size_t c = 0; c < scores.size(); ++c) {
      std::printf("%lld %zu %s %.17g %.17g\n", static_cast<long long>(i), c + 1,
                  cltci::engine::to_string(scores[c].status).c_str(), scores[c].hd95,
                  scores[c].assd);
    }
  }
  return 0;
}
