// Private random helpers of the data layer. std::uniform_*_distribution and std::shuffle are
// implementation-defined, so a phantom, a fold or an augmentation drawn from them could differ
// between standard libraries; these are specified here bit for bit, on top of SplitMix64.
#pragma once

#include "cltci/common/seeding.h"

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace cltci::data::detail {

// GCC/Clang's 128-bit integer; __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef unsigned __int128 Uint128;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return common::mix64(state_);
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  /// Uniform integer in [0, bound); Lemire's multiply-shift, bias below 2^-32 for our sizes.
  std::uint64_t below(std::uint64_t bound) {
    return static_cast<std::uint64_t>((static_cast<Uint128>(next()) * bound) >> 64U);
  }
  bool chance(double probability) { return uniform() < probability; }
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (std::size_t i = values.size(); i > 1; --i) {
      std::swap(values[i - 1], values[below(i)]);
    }
  }

 private:
  std::uint64_t state_;
};

/// FNV-1a, for identities and fingerprints written to disk (std::hash is not stable).
inline std::uint64_t fnv1a(const void* data,
                           std::size_t size,
                           std::uint64_t hash = 0xCBF29CE484222325ULL) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

}  // namespace cltci::data::detail
