#include "cltci/common/host_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace cltci::common {

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kCacheLine = 64;  // c10's own CPU alignment (gAlignment)

std::size_t quarter_of_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::size_t{4} << 30;
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 4;
}

void* allocate_aligned(std::size_t bytes) {
  const std::size_t alignment = bytes >= kHugePage ? kHugePage : kCacheLine;
  void* data = nullptr;
  if (posix_memalign(&data, alignment, bytes) != 0) return nullptr;
  // Huge pages fault in 512x fewer times; the kernel may refuse (THP "never"), which is harmless.
  if (bytes >= kHugePage) madvise(data, bytes, MADV_HUGEPAGE);
  return data;
}

}  // namespace

struct CachingHostAllocator::Block {
  CachingHostAllocator* owner = nullptr;
  void* data = nullptr;
  std::size_t size = 0;
  std::list<Block*>::iterator where;  // in returned_, while cached
};

namespace {

// Live blocks by data pointer. A DataPtr's context must be its data (torch's raw_allocate and
// raw_deallocate, used by oneDNN, assert it), so the deleter finds the block here.
std::mutex& live_mutex() {
  static auto* mutex = new std::mutex();
  return *mutex;
}
std::unordered_map<void*, CachingHostAllocator::Block*>& live_blocks() {
  static auto* blocks = new std::unordered_map<void*, CachingHostAllocator::Block*>();
  return *blocks;
}

}  // namespace

std::size_t host_size_class(std::size_t bytes) {
  if (bytes <= kCacheLine) return kCacheLine;
  std::size_t power = 1;
  while (power * 2 <= bytes) power *= 2;
  const std::size_t step = std::max<std::size_t>(kCacheLine, power / 8);
  return (bytes + step - 1) / step * step;
}

CachingHostAllocator::CachingHostAllocator(HostCacheOptions options) : options_(options) {
  if (options_.max_cached_bytes == 0) options_.max_cached_bytes = quarter_of_memory();
}

CachingHostAllocator::~CachingHostAllocator() { release_cached(); }

c10::DataPtr CachingHostAllocator::allocate(std::size_t bytes) {
  if (bytes < options_.min_bytes) return c10::GetDefaultCPUAllocator()->allocate(bytes);
  const std::size_t size = host_size_class(bytes);
  Block* block = nullptr;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    auto found = free_.find(size);
    if (found != free_.end() && !found->second.empty()) {
      block = found->second.back();
      found->second.pop_back();
      returned_.erase(block->where);
      stats_.cached_bytes -= size;
      stats_.live_bytes += size;
      ++stats_.hits;
    } else {
      ++stats_.misses;
    }
  }
  if (block == nullptr) {
    void* data = allocate_aligned(size);
    if (data == nullptr) {
      // What the cache holds may be what the machine lacks.
      release_cached();
      data = allocate_aligned(size);
    }
    TORCH_CHECK_WITH(OutOfMemoryError, data != nullptr, "host allocator: cannot allocate ", size,
                     " bytes (", bytes, " requested)");
    block = new Block{this, data, size, {}};
    const std::lock_guard<std::mutex> lock(mutex_);
    stats_.live_bytes += size;
    stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.live_bytes + stats_.cached_bytes);
  }
  {
    const std::lock_guard<std::mutex> lock(live_mutex());
    live_blocks()[block->data] = block;
  }
  return {block->data, block->data, &CachingHostAllocator::free_block, c10::Device(c10::kCPU)};
}

c10::DeleterFnPtr CachingHostAllocator::raw_deleter() const {
  return &CachingHostAllocator::free_block;
}

void CachingHostAllocator::copy_data(void* dest, const void* src, std::size_t count) const {
  default_copy_data(dest, src, count);
}

void CachingHostAllocator::free_block(void* data) {
  Block* block = nullptr;
  {
    const std::lock_guard<std::mutex> lock(live_mutex());
    const auto found = live_blocks().find(data);
    if (found != live_blocks().end()) {
      block = found->second;
      live_blocks().erase(found);
    }
  }
  if (block != nullptr) {
    block->owner->give_back(block);
  } else {
    // A small request that raw_allocate passed on to torch's default allocator.
    c10::GetDefaultCPUAllocator()->raw_deleter()(data);
  }
}

void CachingHostAllocator::give_back(Block* block) {
  const std::lock_guard<std::mutex> lock(mutex_);
  stats_.live_bytes -= block->size;
  if (block->size > options_.max_cached_bytes) {
    ++stats_.evicted;
    std::free(block->data);
    delete block;
    return;
  }
  returned_.push_front(block);
  block->where = returned_.begin();
  free_[block->size].push_back(block);
  stats_.cached_bytes += block->size;
  while (stats_.cached_bytes > options_.max_cached_bytes) evict_oldest();
}

void CachingHostAllocator::evict_oldest() {
  Block* oldest = returned_.back();
  returned_.pop_back();
  auto& same_size = free_[oldest->size];
  same_size.erase(std::find(same_size.begin(), same_size.end(), oldest));
  stats_.cached_bytes -= oldest->size;
  ++stats_.evicted;
  std::free(oldest->data);
  delete oldest;
}

HostCacheStats CachingHostAllocator::stats() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingHostAllocator::reset_peak() {
  const std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes = stats_.live_bytes + stats_.cached_bytes;
}

void CachingHostAllocator::release_cached() {
  const std::lock_guard<std::mutex> lock(mutex_);
  while (!returned_.empty()) evict_oldest();
}

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

CachingHostAllocator* g_installed = nullptr;

}  // namespace

CachingHostAllocator* install_host_cache() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* setting = std::getenv("CLTCI_HOST_CACHE");
    if (setting != nullptr && std::string(setting) == "0") return;
    // A cache would hide use-after-free from AddressSanitizer.
    if (kAddressSanitizer) return;
    // Never deleted: tensors may be freed during static destruction.
    g_installed = new CachingHostAllocator();
    c10::SetCPUAllocator(g_installed, /*priority=*/1);
  });
  return g_installed;
}

CachingHostAllocator* installed_host_cache() { return g_installed; }

}  // namespace cltci::common
