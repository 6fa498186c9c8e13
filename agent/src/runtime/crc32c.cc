#include "runtime/crc32c.h"

#include <boost/crc.hpp>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace cvagent::runtime {

namespace {

using Crc32cBoost = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32cSse42(const void* data, std::size_t size,
                                                            std::uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t c = ~crc;
  while (size >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    size -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (size--) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

const bool kHardware = __builtin_cpu_supports("sse4.2");
#else
const bool kHardware = false;
#endif

}  // namespace

std::uint32_t crc32cPortable(const void* data, std::size_t size, std::uint32_t crc) {
  // Boost's register holds the value before the final XOR, bit-reversed (a reflected CRC): undo
  // both to continue a previous crc.
  std::uint32_t reg = crc ^ 0xFFFFFFFFu, reversed = 0;
  for (int i = 0; i < 32; ++i) reversed |= ((reg >> i) & 1u) << (31 - i);
  Crc32cBoost engine(reversed);
  engine.process_bytes(data, size);
  return engine.checksum();
}

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc) {
#if defined(__x86_64__)
  if (kHardware) return crc32cSse42(data, size, crc);
#endif
  return crc32cPortable(data, size, crc);
}

bool crc32cHardware() { return kHardware; }

}  // namespace cvagent::runtime
