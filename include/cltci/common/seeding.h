// One seed drives every random source. Per-sample streams are derived by hashing, so a sample's
// augmentation depends only on (seed, epoch, index): not on thread count, scheduling or resume.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace cltci::common {

/// SplitMix64 finaliser: a bijective, well-mixed 64-bit hash.
std::uint64_t mix64(std::uint64_t value) noexcept;

/// Derives an independent stream seed from a base seed and any number of coordinates.
std::uint64_t derive_seed(std::uint64_t seed,
                          std::initializer_list<std::uint64_t> coordinates) noexcept;

/// Seeds torch's CPU and CUDA generators (and nothing global besides).
void seed_torch(std::uint64_t seed);

}  // namespace cltci::common
