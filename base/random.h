// base/random.h — a small, fast, seeded pseudo-random generator (xoshiro256**
// seeded through splitmix64). Every randomized component takes one of these, so a
// run is reproducible from its seed.
// Thread safety: needs external synchronization (one per thread).
#pragma once

#include <cstdint>
#include <string>

#include "base/hash.h"

namespace kvring::base {

class Random {
 public:
  explicit Random(uint64_t seed) { Seed(seed); }

  void Seed(uint64_t seed) {
    for (auto& word : s_) {
      seed += 0x9e3779b97f4a7c15ull;
      word = Mix64(seed);
    }
  }

  uint64_t Next64() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  uint32_t Next32() { return static_cast<uint32_t>(Next64() >> 32); }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) { return static_cast<uint64_t>((static_cast<__uint128_t>(Next64()) * n) >> 64); }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Uniform(hi - lo + 1); }
  // True with probability 1/n.
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }
  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next64() >> 11) * (1.0 / 9007199254740992.0); }
  // n random printable bytes.
  std::string RandomString(size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(' ' + Uniform(95));
    return s;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace kvring::base
