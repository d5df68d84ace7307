#include "lsm/bloom.h"

#include <algorithm>
#include <cmath>

#include "base/hash.h"

namespace kvring::lsm {

namespace {

constexpr uint64_t kBloomSeed = 0x6b76626c6f6f6d31ull;  // part of the format: never change
constexpr uint32_t kProbeMultiplier = 0x9e3779b9u;    // odd: every step reaches new bits
constexpr size_t kBitsPerLine = kBloomLineBytes * 8;

// Probes per key for a blocked filter: a little under the classic ln2 * bits,
// because keys crowd unevenly into lines.
int ProbesFor(int bits_per_key) {
  int k = static_cast<int>(std::lround(bits_per_key * 0.62));
  return std::clamp(k, 1, 24);
}

inline uint32_t LineOf(uint64_t hash, uint32_t num_lines) {
  return static_cast<uint32_t>(((hash >> 32) * num_lines) >> 32);
}

}  // namespace

uint64_t BloomHash(std::string_view user_key) { return base::Hash64(user_key, kBloomSeed); }

BloomFilterBuilder::BloomFilterBuilder(int bits_per_key) : bits_per_key_(std::max(bits_per_key, 1)) {}

void BloomFilterBuilder::AddKey(std::string_view user_key) { AddHash(BloomHash(user_key)); }

void BloomFilterBuilder::AddHash(uint64_t hash) {
  if (!hashes_.empty() && hashes_.back() == hash) return;
  hashes_.push_back(hash);
}

std::string BloomFilterBuilder::Finish() const {
  const uint64_t bits = std::max<uint64_t>(hashes_.size() * static_cast<uint64_t>(bits_per_key_), 1);
  const uint64_t lines64 = std::min<uint64_t>((bits + kBitsPerLine - 1) / kBitsPerLine, UINT32_MAX);
  const auto num_lines = static_cast<uint32_t>(lines64);
  const int probes = ProbesFor(bits_per_key_);
  std::string out(num_lines * kBloomLineBytes, '\0');
  auto* base = reinterpret_cast<uint8_t*>(out.data());
  for (uint64_t h : hashes_) {
    uint8_t* line = base + static_cast<size_t>(LineOf(h, num_lines)) * kBloomLineBytes;
    uint32_t h2 = static_cast<uint32_t>(h);
    for (int i = 0; i < probes; ++i) {
      const uint32_t bit = h2 >> 23;  // top 9 bits: a position in 512
      line[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
      h2 *= kProbeMultiplier;
    }
  }
  out.push_back(static_cast<char>(probes));
  out.push_back(static_cast<char>(kBloomKindBlocked));
  return out;
}

BloomFilter::BloomFilter(std::string_view data) {
  if (data.size() < 2 + kBloomLineBytes) return;
  const size_t body = data.size() - 2;
  const int probes = static_cast<uint8_t>(data[body]);
  const auto kind = static_cast<uint8_t>(data[body + 1]);
  if (kind != kBloomKindBlocked || body % kBloomLineBytes != 0 || probes < 1 || probes > 30 ||
      body / kBloomLineBytes > UINT32_MAX) {
    return;
  }
  lines_ = reinterpret_cast<const uint8_t*>(data.data());
  num_lines_ = static_cast<uint32_t>(body / kBloomLineBytes);
  num_probes_ = probes;
}

bool BloomFilter::MayContainHash(uint64_t hash) const {
  if (num_lines_ == 0) return true;  // unusable filter: no false negatives
  const uint8_t* line = lines_ + static_cast<size_t>(LineOf(hash, num_lines_)) * kBloomLineBytes;
  uint32_t h2 = static_cast<uint32_t>(hash);
  for (int i = 0; i < num_probes_; ++i) {
    const uint32_t bit = h2 >> 23;
    if ((line[bit >> 3] & (1u << (bit & 7))) == 0) return false;
    h2 *= kProbeMultiplier;
  }
  return true;
}

}  // namespace kvring::lsm
