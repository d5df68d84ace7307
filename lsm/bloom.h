// lsm/bloom.h — the bloom filter of an SSTable: one filter per table over the
// user keys of all its entries (a whole-file filter: one probe answers a Get for
// the whole file, and the filter is pinned in memory with the table's index).
//
// Layout (docs/formats/sstable.md): a cache-line-blocked bloom filter.
//   filter := line[num_lines] num_probes:u8 kind:u8      (kind 1 = this scheme)
//   line   := 64 bytes = 512 bits
// A key's 64-bit hash (base::Hash64 of the user key) picks one line with its high
// 32 bits; its low 32 bits drive num_probes bit positions inside that line
// (multiplicative re-hashing), so a probe costs one cache miss. At 10 bits per
// key the measured false-positive rate is about 1% (test/lsm/bloom_test.cc).
// A reader treats a filter it cannot parse (unknown kind, odd size) as "may
// contain" for every key: a bad filter costs reads, never correctness.
// Thread safety: BloomFilterBuilder needs external synchronization; BloomFilter
// is immutable and may be shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvring::lsm {

constexpr uint8_t kBloomKindBlocked = 1;  // on-disk value: never renumber
constexpr size_t kBloomLineBytes = 64;

// The hash a filter is built and probed with.
uint64_t BloomHash(std::string_view user_key);

class BloomFilterBuilder {
 public:
  // REQUIRES: bits_per_key >= 1.
  explicit BloomFilterBuilder(int bits_per_key);
  BloomFilterBuilder(const BloomFilterBuilder&) = delete;
  BloomFilterBuilder& operator=(const BloomFilterBuilder&) = delete;

  // Adds a key; consecutive repeats of one key (versions) are counted once.
  void AddKey(std::string_view user_key);
  void AddHash(uint64_t hash);
  size_t num_keys() const { return hashes_.size(); }
  // The filter bytes over every key added so far.
  std::string Finish() const;

 private:
  const int bits_per_key_;
  std::vector<uint64_t> hashes_;
};

class BloomFilter {
 public:
  // *data must outlive the filter.
  explicit BloomFilter(std::string_view data);

  bool MayContain(std::string_view user_key) const { return MayContainHash(BloomHash(user_key)); }
  bool MayContainHash(uint64_t hash) const;
  // False when the bytes were not a filter this reader understands.
  bool usable() const { return num_lines_ > 0; }

 private:
  const uint8_t* lines_ = nullptr;
  uint32_t num_lines_ = 0;
  int num_probes_ = 0;
};

}  // namespace kvring::lsm
