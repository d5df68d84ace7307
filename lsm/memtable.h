// lsm/memtable.h — the in-memory write buffer: a skiplist of records in an arena.
//   record := link:8 bytes entry
//   entry  := internal_key_length:varint32 internal_key value_length:varint32 value
// ordered by InternalKeyCompare (user key ascending, newest first).
// Versions: the first version of a key the hash index takes is a skiplist node;
// later versions of that key are chained to it, newest first (the node's link
// is the chain's head, a chained record's link the next older one), so an
// overwrite costs an index probe instead of a skiplist walk. Keys the full index
// could not take get a node per version. Readers see a key's versions in order:
// the chain from its head, then the node's own (oldest) record.
// Reference counted: the DB, readers and iterators each hold a reference; the
// last Unref deletes it.
// Point lookups: a bloom filter over the user keys (lsm/memtable_bloom.h) turns
// most absent keys away, and a hash index (lsm/memtable_index.h) maps each user
// key to its node, so a Get (at any snapshot) reads the node's version chain and
// skips the skiplist; only keys the full index could not take walk it.
// Thread safety: Add needs external synchronization (one writer: the write
// leader or recovery); Get, NewIterator, Ref/Unref and the size accessors are
// thread-safe and lock-free.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "lsm/arena.h"
#include "lsm/dbformat.h"
#include "lsm/iterator.h"
#include "lsm/lookup_key.h"
#include "lsm/memtable_bloom.h"
#include "lsm/memtable_index.h"
#include "lsm/skiplist.h"

namespace kvring::lsm {

class MemTable {
 public:
  // Starts with one reference held by the creator. bloom_bytes > 0 adds a bloom
  // filter over the user keys that lets Get skip the skiplist for absent keys;
  // index_slots > 0 adds the hash index (rounded up to a power of two; at most
  // 3/4 of the slots take keys).
  explicit MemTable(size_t bloom_bytes = 0, size_t index_slots = 0);
  // A bloom size for a memtable of memtable_bytes: ~10 bits per 100-byte entry.
  static size_t BloomBytesFor(size_t memtable_bytes) { return memtable_bytes / 80; }
  // Index slots for a memtable of memtable_bytes: one per 64 bytes, so entries
  // of ~100-byte values (~150 bytes each) load it to under half; 8 bytes per
  // slot, i.e. 1/8 of the budget, counted in ApproximateMemoryUsage.
  static size_t IndexSlotsFor(size_t memtable_bytes) { return memtable_bytes / 64; }
  // A memtable with the bloom filter and index sized for memtable_bytes.
  static MemTable* NewForBudget(size_t memtable_bytes) {
    return new MemTable(BloomBytesFor(memtable_bytes), IndexSlotsFor(memtable_bytes));
  }
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Deletes the memtable when the last reference goes.
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // REQUIRES: (key, seq) not already present; one writer at a time; the entries
  // of one key arrive in increasing sequence order (the hash index keeps the last).
  void Add(SequenceNumber seq, ValueKind kind, std::string_view key, std::string_view value);
  // Inserts every op of an encoded write batch (lsm/write_batch.h), op i at
  // sequence(rep) + i. Corruption when the rep is malformed (ops before the bad one
  // stay inserted: callers validate WAL payloads first with WriteBatch::CheckRep).
  [[nodiscard]] base::Status AddBatchRep(std::string_view rep);

  enum class GetResult { kAbsent, kFound, kDeleted };
  // The newest entry of key.user_key() with sequence <= the lookup's sequence.
  // kFound fills *value.
  GetResult Get(const LookupKey& key, std::string* value) const;

  // An iterator over internal keys (InternalKeyCompare order). It holds a
  // reference to the memtable until it dies.
  std::unique_ptr<Iterator> NewIterator();

  // Bytes before each entry: the version link (see the top of the file).
  static constexpr size_t kLinkBytes = 8;

  size_t ApproximateMemoryUsage() const { return arena_.memory_usage() + bloom_.bytes() + index_.bytes(); }
  // Tests: whether some key could not be indexed (or there is no index).
  bool index_full() const { return index_.full(); }
  uint64_t num_entries() const { return entries_.load(std::memory_order_relaxed); }
  bool empty() const { return num_entries() == 0; }
  // User keys + values of every entry added (what a flush writes as data_bytes).
  uint64_t data_bytes() const { return data_bytes_.load(std::memory_order_relaxed); }

 private:
  struct KeyComparator {
    int operator()(const char* a, const char* b) const;
  };
  using Table = SkipList<const char*, KeyComparator>;
  class MemTableIterator;

  ~MemTable();  // only through Unref

  // The newest entry of the lookup's user key at or below its sequence, or null.
  const char* FindEntry(const LookupKey& key) const;

  std::atomic<int> refs_{1};
  std::atomic<uint64_t> entries_{0};
  std::atomic<uint64_t> data_bytes_{0};
  Arena arena_;
  Table table_;
  MemTableBloom bloom_;
  MemTableIndex index_;
};

}  // namespace kvring::lsm
