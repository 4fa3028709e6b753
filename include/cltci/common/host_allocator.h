// A caching allocator for torch's CPU tensors. glibc serves every block above 32 MiB (its
// largest mmap threshold) with a fresh mmap and returns it with munmap, so each training step
// faulted in and zeroed its activations again, page by page: a CL-TCI-MoCo U-Net step at 256^2,
// batch 16, spent about 30 % of its CPU time in the kernel (docs/benchmarks.md, "Host
// allocator"). PyTorch's Python users meet the same cost; its CUDA allocator caches, its CPU one
// does not. This one keeps freed large blocks, by size class, for the next request of that class
// (a step allocates the same shapes every time), backs blocks of 2 MiB and more with huge pages
// where the kernel allows (madvise), and frees the least recently returned blocks beyond a cap.
#pragma once

#include <c10/core/Allocator.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace cltci::common {

struct HostCacheOptions {
  /// Smaller requests go to torch's default allocator (malloc's own bins reuse them well).
  std::size_t min_bytes = std::size_t{256} << 10;
  /// Freed blocks kept for reuse at most; 0: a quarter of the machine's memory.
  std::size_t max_cached_bytes = 0;
};

struct HostCacheStats {
  std::uint64_t hits = 0;        ///< requests served from the cache
  std::uint64_t misses = 0;      ///< requests that allocated a new block
  std::uint64_t evicted = 0;     ///< blocks freed to stay under the cap
  std::size_t cached_bytes = 0;  ///< freed blocks held now
  std::size_t live_bytes = 0;    ///< blocks in use now (size classes, not requests)
  std::size_t peak_bytes = 0;    ///< the most live + cached bytes so far
};

/// The block size that serves a request of `bytes` (>= min_bytes): rounded up to an eighth of
/// its power of two, so that a shape always lands in the same class and at most 1/8 is unused.
std::size_t host_size_class(std::size_t bytes);

class CachingHostAllocator final : public c10::Allocator {
 public:
  explicit CachingHostAllocator(HostCacheOptions options = {});
  ~CachingHostAllocator() override;
  CachingHostAllocator(const CachingHostAllocator&) = delete;
  CachingHostAllocator& operator=(const CachingHostAllocator&) = delete;

  c10::DataPtr allocate(std::size_t bytes) override;
  void copy_data(void* dest, const void* src, std::size_t count) const override;
  c10::DeleterFnPtr raw_deleter() const override;

  HostCacheStats stats() const;
  /// Starts peak_bytes again from what is held now (for per-phase figures).
  void reset_peak();
  /// Frees every cached block (live ones are untouched).
  void release_cached();
  std::size_t max_cached_bytes() const { return options_.max_cached_bytes; }

  struct Block;

 private:
  static void free_block(void* data);
  void give_back(Block* block);
  void evict_oldest();  // the mutex held

  HostCacheOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<Block*>> free_;  // by size class
  std::list<Block*> returned_;                                 // oldest at the back
  HostCacheStats stats_;
};

/// Makes a process-wide CachingHostAllocator torch's CPU allocator (once; later calls return the
/// same one). CLTCI_HOST_CACHE=0 in the environment keeps torch's default allocator (for
/// comparisons) and returns nullptr.
CachingHostAllocator* install_host_cache();

/// The installed allocator, or nullptr.
CachingHostAllocator* installed_host_cache();

}  // namespace cltci::common
