// base/hash.h — 64-bit non-cryptographic hashing: ring tokens, bloom filters,
// Merkle leaves, sharding. An implementation of the published XXH64 algorithm
// (written here from its specification), so tokens are stable across builds,
// processes and machines: they are part of the on-disk key order.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvring::base {

// The seed has no default here on purpose: Hash64("literal", 0) must mean the
// string_view overload with seed 0, not the first 0 bytes of the literal.
uint64_t Hash64(const char* data, size_t n, uint64_t seed);
inline uint64_t Hash64(std::string_view s, uint64_t seed = 0) { return Hash64(s.data(), s.size(), seed); }

// Finalizer that spreads the bits of an integer (splitmix64's mixer).
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace kvring::base
