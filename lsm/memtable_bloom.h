// lsm/memtable_bloom.h — a bloom filter over the user keys of one memtable, so
// a point lookup of a key the memtable does not hold (most lookups, once data
// lives in tables) skips the skiplist walk: one cache line per probe instead of
// ~30 cache misses. Cache-line blocked: a key's bits all sit in one 64-byte line.
//
// Concurrency: the memtable's single writer sets bits (relaxed stores) before
// it publishes the entry; a reader that may see the entry (its sequence is
// visible, published under the DB mutex after the insert) therefore sees the
// bits. A reader racing an unpublished insert may miss it, which is correct.
// Thread safety: Add needs external synchronization (one writer); MayContain is
// thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/hash.h"

namespace kvring::lsm {

class MemTableBloom {
 public:
  static constexpr int kProbes = 6;

  // bytes == 0 disables the filter (MayContain is always true).
  explicit MemTableBloom(size_t bytes)
      : lines_(bytes / kLineBytes), words_(lines_ > 0 ? new std::atomic<uint64_t>[lines_ * kWordsPerLine] : nullptr) {
    for (size_t i = 0; i < lines_ * kWordsPerLine; i++) words_[i].store(0, std::memory_order_relaxed);
  }
  MemTableBloom(const MemTableBloom&) = delete;
  MemTableBloom& operator=(const MemTableBloom&) = delete;

  void Add(std::string_view user_key) { AddHash(base::Hash64(user_key)); }
  bool MayContain(std::string_view user_key) const { return MayContainHash(base::Hash64(user_key)); }

  // The same with the key's base::Hash64 computed by the caller (the memtable
  // shares it with its hash index).
  void AddHash(uint64_t h) {
    if (lines_ == 0) return;
    std::atomic<uint64_t>* line = Line(h);
    for (int i = 0; i < kProbes; i++) {
      const uint32_t bit = Bit(&h);
      // One writer: a plain load and store suffice (no locked read-modify-write).
      std::atomic<uint64_t>& word = line[bit >> 6];
      word.store(word.load(std::memory_order_relaxed) | (uint64_t{1} << (bit & 63)), std::memory_order_relaxed);
    }
  }

  bool MayContainHash(uint64_t h) const {
    if (lines_ == 0) return true;
    const std::atomic<uint64_t>* line = Line(h);
    for (int i = 0; i < kProbes; i++) {
      const uint32_t bit = Bit(&h);
      if ((line[bit >> 6].load(std::memory_order_relaxed) & (uint64_t{1} << (bit & 63))) == 0) return false;
    }
    return true;
  }

  size_t bytes() const { return lines_ * kLineBytes; }

 private:
  static constexpr size_t kLineBytes = 64;
  static constexpr size_t kWordsPerLine = kLineBytes / 8;

  std::atomic<uint64_t>* Line(uint64_t h) const {
    return &words_[static_cast<size_t>((static_cast<__uint128_t>(h) * lines_) >> 64) * kWordsPerLine];
  }
  // The next 9-bit position within the line, from a remixed hash.
  static uint32_t Bit(uint64_t* h) {
    *h = base::Mix64(*h);
    return static_cast<uint32_t>(*h & 511);
  }

  const size_t lines_;
  const std::unique_ptr<std::atomic<uint64_t>[]> words_;
};

}  // namespace kvring::lsm
