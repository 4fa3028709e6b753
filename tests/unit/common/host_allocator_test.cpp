#include "cltci/common/host_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace cltci::common {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST(HostSizeClass, RoundsUpToAnEighthOfThePowerOfTwo) {
  EXPECT_EQ(host_size_class(1), 64U);
  EXPECT_EQ(host_size_class(64), 64U);
  EXPECT_EQ(host_size_class(65), 128U);  // below 512 bytes the step is a cache line
  EXPECT_EQ(host_size_class(kMiB), kMiB);
  EXPECT_EQ(host_size_class(kMiB + 1), kMiB + kMiB / 8);
  EXPECT_EQ(host_size_class(3 * kMiB), 3 * kMiB);
  EXPECT_EQ(host_size_class(3 * kMiB + 5), 3 * kMiB + kMiB / 4);
  // Never below the request, never more than 1/8 above it (from 512 bytes up).
  for (std::size_t bytes = 512; bytes < 64 * kMiB; bytes = bytes * 3 / 2 + 7) {
    const std::size_t size = host_size_class(bytes);
    EXPECT_GE(size, bytes);
    EXPECT_LE(size, bytes + bytes / 8 + 64) << bytes;
  }
}

TEST(CachingHostAllocator, ReusesAFreedBlockOfTheSameClass) {
  CachingHostAllocator allocator;
  void* first = nullptr;
  {
    const c10::DataPtr block = allocator.allocate(3 * kMiB);
    first = block.get();
    std::memset(first, 1, 3 * kMiB);  // writable, and as large as asked
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % (2 * kMiB), 0U);  // huge-page aligned
    EXPECT_EQ(allocator.stats().live_bytes, 3 * kMiB);
  }
  EXPECT_EQ(allocator.stats().cached_bytes, 3 * kMiB);
  {
    // A request that rounds to the same class gets the same block back.
    const c10::DataPtr again = allocator.allocate(3 * kMiB - 1000);
    EXPECT_EQ(again.get(), first);
    const c10::DataPtr other = allocator.allocate(5 * kMiB);
    EXPECT_NE(other.get(), first);
  }
  const HostCacheStats stats = allocator.stats();
  EXPECT_EQ(stats.hits, 1U);
  EXPECT_EQ(stats.misses, 2U);
  EXPECT_EQ(stats.live_bytes, 0U);
  EXPECT_EQ(stats.cached_bytes, 8 * kMiB);
  EXPECT_EQ(stats.peak_bytes, 8 * kMiB);
  allocator.release_cached();
  EXPECT_EQ(allocator.stats().cached_bytes, 0U);
}

TEST(CachingHostAllocator, SmallRequestsGoToTorchsDefaultAllocator) {
  CachingHostAllocator allocator;
  const c10::DataPtr small = allocator.allocate(1000);
  EXPECT_NE(small.get(), nullptr);
  EXPECT_NE(small.get_deleter(), allocator.allocate(kMiB).get_deleter());
  EXPECT_EQ(allocator.stats().misses, 1U);  // only the 1 MiB one
}

TEST(CachingHostAllocator, FreesTheOldestBlocksBeyondItsCap) {
  HostCacheOptions options;
  options.max_cached_bytes = 5 * kMiB;
  CachingHostAllocator allocator(options);
  std::vector<c10::DataPtr> blocks;
  for (int i = 0; i < 3; ++i) blocks.push_back(allocator.allocate(2 * kMiB));
  void* oldest = blocks[0].get();
  blocks.clear();  // returned in order 0, 1, 2: block 0 goes first
  HostCacheStats stats = allocator.stats();
  EXPECT_EQ(stats.cached_bytes, 4 * kMiB);
  EXPECT_EQ(stats.evicted, 1U);
  // Two hits, then a miss: the evicted block 0 is no longer held.
  const c10::DataPtr a = allocator.allocate(2 * kMiB);
  const c10::DataPtr b = allocator.allocate(2 * kMiB);
  EXPECT_NE(a.get(), oldest);
  EXPECT_NE(b.get(), oldest);
  stats = allocator.stats();
  EXPECT_EQ(stats.hits, 2U);
  // A block larger than the cap is never kept.
  { const c10::DataPtr huge = allocator.allocate(8 * kMiB); }
  EXPECT_EQ(allocator.stats().cached_bytes, 0U);
}

TEST(CachingHostAllocator, BlocksOutliveTheirThreadAndBackTensors) {
  CachingHostAllocator allocator;
  c10::DataPtr block = allocator.allocate(kMiB);
  void* data = block.get();
  std::thread([&] { block.clear(); }).join();  // freed on another thread
  EXPECT_EQ(allocator.allocate(kMiB).get(), data);
  // Installed (unless CLTCI_HOST_CACHE=0 or a sanitizer build), tensors come from it and
  // compute as before.
  CachingHostAllocator* installed = install_host_cache();
  if (installed == nullptr) GTEST_SKIP() << "the host cache is off in this build or environment";
  EXPECT_EQ(installed, install_host_cache());
  EXPECT_EQ(c10::GetCPUAllocator(), installed);
  const std::uint64_t misses = installed->stats().misses;
  const std::uint64_t hits = installed->stats().hits;
  const auto x = torch::arange(1 << 20, torch::kFloat32);  // 4 MiB
  const double n = 1 << 20;
  const double expected = n * (n - 1) / 2.0;
  EXPECT_DOUBLE_EQ(x.sum(torch::kFloat64).item<double>(), expected);
  EXPECT_GT(installed->stats().misses + installed->stats().hits, misses + hits);
  const auto copy = x.clone();
  EXPECT_TRUE(torch::equal(copy, x));
  // The raw interface (oneDNN's scratch memory) for large and small requests alike.
  for (const std::size_t bytes : {std::size_t{100}, 3 * kMiB}) {
    void* raw = installed->raw_allocate(bytes);
    std::memset(raw, 0, bytes);
    installed->raw_deallocate(raw);
  }
}

}  // namespace
}  // namespace cltci::common
