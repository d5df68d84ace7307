// base/coding.h — little-endian fixed-width and varint encodings.
// Every on-disk and on-wire integer in kvring goes through these helpers.
// Fixed: 2/4/8 bytes little-endian. Varint: 7 bits per byte, low group first,
// high bit set on every byte but the last (at most 5 bytes for 32 bits, 10 for 64).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace kvring::base {

constexpr int kMaxVarint32Bytes = 5;
constexpr int kMaxVarint64Bytes = 10;

inline void EncodeFixed16(char* dst, uint16_t v) { std::memcpy(dst, &v, 2); }
inline void EncodeFixed32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }
inline void EncodeFixed64(char* dst, uint64_t v) { std::memcpy(dst, &v, 8); }
inline uint16_t DecodeFixed16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t DecodeFixed32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t DecodeFixed64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "kvring formats assume a little-endian host");

// Big-endian 64-bit, used where byte order must equal numeric order (token keys).
inline void EncodeBigEndian64(char* dst, uint64_t v) {
  uint64_t be = __builtin_bswap64(v);
  std::memcpy(dst, &be, 8);
}
inline uint64_t DecodeBigEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

void PutFixed16(std::string* dst, uint16_t v);
void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
// varint32 length, then the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view value);

// Writes a varint into dst (room for kMaxVarint64Bytes); returns one past the end.
char* EncodeVarint32(char* dst, uint32_t v);
char* EncodeVarint64(char* dst, uint64_t v);
int VarintLength(uint64_t v);

// Decoders from a raw range: return one past the parsed value, or nullptr when the
// input is truncated or the varint is too long.
const char* GetVarint32Ptr(const char* p, const char* limit, uint32_t* v);
const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v);

// Decoders that consume from the front of *input; false on truncated/malformed input.
bool GetFixed16(std::string_view* input, uint16_t* v);
bool GetFixed32(std::string_view* input, uint32_t* v);
bool GetFixed64(std::string_view* input, uint64_t* v);
bool GetVarint32(std::string_view* input, uint32_t* v);
bool GetVarint64(std::string_view* input, uint64_t* v);
bool GetLengthPrefixed(std::string_view* input, std::string_view* value);
bool GetBytes(std::string_view* input, size_t n, std::string_view* value);

}  // namespace kvring::base
