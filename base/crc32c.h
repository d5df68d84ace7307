// base/crc32c.h — CRC-32C (Castagnoli), the checksum of every WAL record, SSTable
// block and manifest record. Uses the SSE4.2 crc32 instruction when the CPU has
// it (checked once at start-up; three interleaved streams on long inputs), a
// slicing-by-8 table otherwise.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kvring::base::crc32c {

// crc32c of data[0,n) continued from a previous crc32c `init` (0 for a fresh one).
uint32_t Extend(uint32_t init, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }

// The portable implementation, exposed so tests can compare both paths.
uint32_t ExtendPortable(uint32_t init, const char* data, size_t n);
// True when Extend uses the hardware instruction.
bool HardwareAccelerated();

// A CRC stored next to the data it covers is masked, so that a CRC over bytes
// that themselves contain CRCs does not degenerate (same idea as LevelDB).
constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace kvring::base::crc32c
