// lsm/memtable_index.h — a point-lookup hash index over one memtable: user key
// -> an entry of that key. The memtable indexes each key's skiplist node (its
// first version) and chains later versions to it (lsm/memtable.h), so a Get
// costs one or two cache misses (the slot's line, the node and its chain head)
// instead of a ~30-step skiplist walk, and an overwrite needs no walk at all.
//
// Layout: open addressing with linear probing over a power-of-two array of
// 8-byte slots, capacity fixed at construction (counted in the memtable's
// memory budget). A slot is 0 (empty) or (tag << 48) | entry, where entry is
// the address of the memtable entry (its length-prefixed internal key, as the
// skiplist stores it) and tag is the top 16 bits of the user key's hash, so a
// probe rejects other keys without touching their entries.
//
// Invariants (what makes lock-free reads safe):
//   1. One writer (the memtable's) inserts and updates; readers only load.
//      Slots are atomics: the writer stores with release after the entry's bytes
//      are written, readers load with acquire, so a reader that sees a slot sees
//      the entry it points to.
//   2. A slot, once claimed for a user key, belongs to that key for the life of
//      the index: it changes only to a newer entry of the same key (a larger
//      sequence). Slots are never emptied, so a probe that meets an empty slot
//      may conclude the key was not indexed when the reader's view began.
//   3. The writer claims at most max_keys() slots (3/4 of the capacity), so
//      every probe sequence ends at an empty slot. A key that arrives once the
//      index is full is not indexed and sets full(); from then on absence from
//      the index proves nothing and readers fall back to the skiplist.
//   4. What an indexed entry means is the caller's: the memtable upserts a key
//      once, with its node's record, and finds newer versions through it.
// Thread safety: Upsert needs external synchronization (one writer); Find,
// full() and the accessors are thread-safe and lock-free.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <memory>
#include <string_view>

namespace kvring::lsm {

class MemTableIndex {
 public:
  // Reads the user key of an entry (a length-prefixed internal key).
  using UserKeyOf = std::string_view (*)(const char* entry);

  // slots == 0 disables the index (Find finds nothing, full() is true);
  // otherwise it is rounded up to a power of two.
  MemTableIndex(size_t slots, UserKeyOf user_key_of);
  MemTableIndex(const MemTableIndex&) = delete;
  MemTableIndex& operator=(const MemTableIndex&) = delete;

  // The entry last upserted for user_key (hash = base::Hash64(user_key)), or
  // null when the key is not indexed.
  const char* Find(uint64_t hash, std::string_view user_key) const {
    if (mask_ == 0) return nullptr;
    const uint64_t tag = hash >> kTagShift;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const uint64_t slot = slots_[i].load(std::memory_order_acquire);
      if (slot == 0) return nullptr;  // invariant 3: every probe ends here
      if ((slot >> kTagShift) == tag) {
        const char* entry = reinterpret_cast<const char*>(slot & kPointerMask);
        if (user_key_of_(entry) == user_key) return entry;
      }
    }
  }

  // Starts loading the slot where a probe for hash begins (the writer calls it
  // before its skiplist walk, so the miss overlaps the walk).
  void Prefetch(uint64_t hash) const {
    if (mask_ != 0) __builtin_prefetch(&slots_[hash & mask_]);
  }

  // Makes entry the indexed entry of user_key. REQUIRES: one writer; entry is
  // newer than any entry indexed for the key before. False when the key could
  // not be indexed (the index is full, or the address does not fit in a slot).
  bool Upsert(uint64_t hash, std::string_view user_key, const char* entry);

  // True once a key was left out (or when the index is disabled).
  bool full() const { return full_.load(std::memory_order_acquire); }
  size_t capacity() const { return mask_ == 0 ? 0 : mask_ + 1; }
  // At most this many keys are indexed (invariant 3).
  size_t max_keys() const { return max_keys_; }
  size_t keys() const { return keys_; }  // writer only
  size_t bytes() const { return capacity() * sizeof(std::atomic<uint64_t>); }

 private:
  static constexpr int kTagShift = 48;
  static constexpr uint64_t kPointerMask = (uint64_t{1} << kTagShift) - 1;

  const size_t mask_;  // capacity - 1, or 0 when disabled
  const size_t max_keys_;
  const UserKeyOf user_key_of_;
  const std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  size_t keys_ = 0;  // slots claimed (writer only)
  std::atomic<bool> full_;
};

}  // namespace kvring::lsm
