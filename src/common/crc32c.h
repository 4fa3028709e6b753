// CRC32C (Castagnoli, the polynomial of iSCSI, ext4 and Btrfs), private to the library: the
// checksum of dataset caches, checkpoints and exported weights. SSE4.2 has an instruction for
// exactly this polynomial (about 10x faster than a table), picked at run time so that the binary
// still runs on a CPU without it; the fallback is slicing-by-8 over tables built once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define CLTCI_CRC32C_X86 1
#endif

namespace cltci::common::detail {

using Crc32cTables = std::array<std::array<std::uint32_t, 256>, 8>;

inline const Crc32cTables& crc32c_tables() {
  static const Crc32cTables tables = [] {
    Crc32cTables t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78U & (0U - (crc & 1U)));
      t[0][i] = crc;
    }
    for (std::size_t k = 1; k < 8; ++k) {
      for (std::uint32_t i = 0; i < 256; ++i)
        t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    }
    return t;
  }();
  return tables;
}

/// Raw (un-inverted) update with tables; `crc` is the running register.
inline std::uint32_t crc32c_update_table(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  const Crc32cTables& t = crc32c_tables();
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // little-endian hosts only (x86-64, aarch64)
    word ^= crc;
    crc = t[7][word & 0xFF] ^ t[6][(word >> 8) & 0xFF] ^ t[5][(word >> 16) & 0xFF] ^
          t[4][(word >> 24) & 0xFF] ^ t[3][(word >> 32) & 0xFF] ^ t[2][(word >> 40) & 0xFF] ^
          t[1][(word >> 48) & 0xFF] ^ t[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return crc;
}

#ifdef CLTCI_CRC32C_X86
__attribute__((target("sse4.2"))) inline std::uint32_t crc32c_update_sse42(std::uint32_t crc,
                                                                           const unsigned char* p,
                                                                           std::size_t n) {
  std::uint64_t c = crc;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}
#endif

/// CRC32C of `size` bytes continuing from `crc` (0 to start): crc32c(b, crc32c(a)) equals the
/// CRC32C of a followed by b. crc32c("123456789") == 0xE3069283.
inline std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
#ifdef CLTCI_CRC32C_X86
  static const bool hardware = __builtin_cpu_supports("sse4.2");
  if (hardware) return ~crc32c_update_sse42(crc, p, size);
#endif
  return ~crc32c_update_table(crc, p, size);
}

}  // namespace cltci::common::detail
