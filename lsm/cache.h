// lsm/cache.h — a sharded LRU cache with a byte budget: the block cache (keys
// are (table cache id, block offset)) and the table cache's list of open tables.
//
// Each entry has a charge; the cache evicts least-recently-used entries while the
// total charge exceeds the capacity. Entries are reference counted: Insert and
// Lookup return a pinned Handle that stays valid (and its value alive) until
// Release, even if the entry is erased or evicted meanwhile. Pinned entries are
// never evicted, so the total may exceed the capacity only while entries are
// pinned; as soon as they are released the cache shrinks back under budget.
// With capacity 0 nothing is retained (Insert hands back an uncached handle).
//
// Thread safety: thread-safe. Each shard has its own mutex; a key's shard comes
// from its hash. Deleters run without any cache lock held.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace kvring::lsm {

class Cache {
 public:
  struct Handle;  // opaque
  // Destroys an entry's value once it has left the cache and is unpinned.
  using Deleter = void (*)(std::string_view key, void* value);

  static constexpr int kDefaultShardBits = 4;  // 16 shards

  // REQUIRES: 0 <= num_shard_bits <= 8.
  explicit Cache(size_t capacity_bytes, int num_shard_bits = kDefaultShardBits);
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;
  // REQUIRES: every handle has been released.
  ~Cache();

  // kLow: an entry unlikely to be used again soon (a block read by a scan).
  // Once unpinned it waits at the cold end of the LRU list, so it is evicted
  // before any other entry and a long scan cannot flush the working set of point
  // reads; a Lookup hit promotes it to kHigh.
  enum class Priority { kHigh, kLow };

  // Inserts key -> value (replacing an older entry with the key) and returns it
  // pinned. REQUIRES: the caller Releases the handle.
  Handle* Insert(std::string_view key, void* value, size_t charge, Deleter deleter,
                 Priority priority = Priority::kHigh);
  // The pinned entry for key, or nullptr. Counts a hit or a miss.
  Handle* Lookup(std::string_view key);
  // Unpins. REQUIRES: h came from this cache and is not used afterwards.
  void Release(Handle* h);
  // REQUIRES: h is pinned.
  static void* Value(Handle* h);
  // Drops key's entry (its value dies when the last pin is released).
  void Erase(std::string_view key);
  // A fresh id, for tables to build cache keys that never collide.
  uint64_t NewId() { return next_id_.fetch_add(1, std::memory_order_relaxed) + 1; }

  size_t capacity() const { return capacity_; }
  size_t TotalCharge() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  class Shard;
  Shard& ShardFor(uint64_t hash) const;

  const size_t capacity_;
  const int shard_bits_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace kvring::lsm
