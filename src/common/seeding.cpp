#include "cltci/common/seeding.h"

#include <torch/cuda.h>
#include <torch/utils.h>

namespace cltci::common {

std::uint64_t mix64(std::uint64_t value) noexcept {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27U)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31U);
}

std::uint64_t derive_seed(std::uint64_t seed,
                          std::initializer_list<std::uint64_t> coordinates) noexcept {
  std::uint64_t state = mix64(seed);
  for (const std::uint64_t coordinate : coordinates) state = mix64(state ^ mix64(coordinate));
  return state;
}

void seed_torch(std::uint64_t seed) {
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

}  // namespace cltci::common
