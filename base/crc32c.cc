#include "base/crc32c.h"

#include <cpuid.h>

#include <array>
#include <cstring>

namespace kvring::base::crc32c {

namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

// tables[k][b]: the crc of byte b followed by k zero bytes (slicing-by-8).
struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t;
  Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t crc = b;
      for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1) ? kPoly : 0);
      t[0][b] = crc;
    }
    for (uint32_t b = 0; b < 256; ++b) {
      for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

// --- Three interleaved hardware streams ---
//
// The crc32 instruction has a latency of about three cycles but can start one
// per cycle, so one dependent stream uses a third of the unit. For long inputs
// three streams run over three adjacent chunks of equal length and are joined
// with the linearity of the CRC register: processing chunk B from register s
// gives Shift(s, |B|) ^ (B processed from register 0), where Shift(s, n) is s
// times x^(8n) modulo the polynomial. Shift for the two fixed chunk lengths
// below is a table lookup per byte of s (tables built once, from MultModP).

// a * b modulo the polynomial, both in the reflected bit order of the register
// (bit 31 is the coefficient of x^0).
uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return product;
}

// x^(8n) modulo the polynomial: what n zero bytes do to the register.
uint32_t ZeroBytesOperator(size_t n) {
  uint32_t result = 1u << 31;   // x^0
  uint32_t square = 1u << 23;   // x^8: one byte
  while (n > 0) {
    if (n & 1) result = MultModP(square, result);
    square = MultModP(square, square);
    n >>= 1;
  }
  return result;
}

// Shift(s, n) for one fixed n, as four byte-indexed tables.
struct ShiftTable {
  std::array<std::array<uint32_t, 256>, 4> t;
  explicit ShiftTable(size_t n) {
    const uint32_t op = ZeroBytesOperator(n);
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) t[k][b] = MultModP(op, b << (8 * k));
    }
  }
  uint32_t Shift(uint32_t s) const {
    return t[0][s & 0xff] ^ t[1][(s >> 8) & 0xff] ^ t[2][(s >> 16) & 0xff] ^ t[3][s >> 24];
  }
};

// Chunk lengths (multiples of 8): long ones for big buffers, short ones so a
// 4 KiB block still runs mostly interleaved.
constexpr size_t kLongChunk = 8192;
constexpr size_t kShortChunk = 256;

const ShiftTable& LongShift() {
  static const ShiftTable table(kLongChunk);
  return table;
}
const ShiftTable& ShortShift() {
  static const ShiftTable table(kShortChunk);
  return table;
}

inline uint64_t Load64(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

// Runs three streams over [p, p + 3 * chunk) starting from register crc.
__attribute__((target("sse4.2"))) inline uint64_t ThreeStreams(uint64_t crc, const char* p, size_t chunk,
                                                               const ShiftTable& shift) {
  uint64_t crc1 = 0, crc2 = 0;
  const char* end = p + chunk;
  for (; p < end; p += 8) {
    crc = __builtin_ia32_crc32di(crc, Load64(p));
    crc1 = __builtin_ia32_crc32di(crc1, Load64(p + chunk));
    crc2 = __builtin_ia32_crc32di(crc2, Load64(p + 2 * chunk));
  }
  crc = shift.Shift(static_cast<uint32_t>(crc)) ^ crc1;
  return shift.Shift(static_cast<uint32_t>(crc)) ^ crc2;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t init, const char* data,
                                                          size_t n) {
  uint64_t crc = static_cast<uint32_t>(~init);
  const char* p = data;
  while (n >= 3 * kLongChunk) {
    crc = ThreeStreams(crc, p, kLongChunk, LongShift());
    p += 3 * kLongChunk;
    n -= 3 * kLongChunk;
  }
  while (n >= 3 * kShortChunk) {
    crc = ThreeStreams(crc, p, kShortChunk, ShortShift());
    p += 3 * kShortChunk;
    n -= 3 * kShortChunk;
  }
  while (n >= 8) {
    crc = __builtin_ia32_crc32di(crc, Load64(p));
    p += 8;
    n -= 8;
  }
  uint32_t c = static_cast<uint32_t>(crc);
  while (n > 0) {
    c = __builtin_ia32_crc32qi(c, static_cast<unsigned char>(*p));
    ++p;
    --n;
  }
  return ~c;
}

bool DetectSse42() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}

const bool kHasSse42 = DetectSse42();

}  // namespace

uint32_t ExtendPortable(uint32_t init, const char* data, size_t n) {
  const auto& t = GetTables().t;
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  uint32_t crc = ~init;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xff];
    ++p;
    --n;
  }
  return ~crc;
}

bool HardwareAccelerated() { return kHasSse42; }

uint32_t Extend(uint32_t init, const char* data, size_t n) {
  return kHasSse42 ? ExtendHardware(init, data, n) : ExtendPortable(init, data, n);
}

}  // namespace kvring::base::crc32c
