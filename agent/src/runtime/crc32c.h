#pragma once
// CRC32C (Castagnoli), the checksum of disk buffer records. Debian 12 packages no CRC32C library:
// the portable path is Boost.CRC; on x86-64 CPUs with SSE4.2 the crc32 instruction is selected at
// run time (about 20x faster). Both give the same value; tests hold them against each other.

#include <cstddef>
#include <cstdint>

namespace cvagent::runtime {

// Continues `crc` (0 to start) over `size` bytes.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);

// The portable implementation alone (the reference in tests).
std::uint32_t crc32cPortable(const void* data, std::size_t size, std::uint32_t crc = 0);

// True when crc32c() uses the SSE4.2 instruction on this machine.
bool crc32cHardware();

}  // namespace cvagent::runtime
