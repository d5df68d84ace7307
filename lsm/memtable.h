// lsm/memtable.h — the in-memory write buffer: a skiplist of entries in an arena.
//   entry := internal_key_length:varint32 internal_key value_length:varint32 value
// ordered by InternalKeyCompare (user key ascending, newest first).
// Reference counted: the DB, readers and iterators each hold a reference; the
// last Unref deletes it.
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
#include "lsm/skiplist.h"

namespace kvring::lsm {

class MemTable {
 public:
  // Starts with one reference held by the creator. bloom_bytes > 0 adds a bloom
  // filter over the user keys that lets Get skip the skiplist for absent keys.
  explicit MemTable(size_t bloom_bytes = 0);
  // A bloom size for a memtable of memtable_bytes: ~10 bits per 100-byte entry.
  static size_t BloomBytesFor(size_t memtable_bytes) { return memtable_bytes / 80; }
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Deletes the memtable when the last reference goes.
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // REQUIRES: (key, seq) not already present; one writer at a time.
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

  size_t ApproximateMemoryUsage() const { return arena_.memory_usage() + bloom_.bytes(); }
  uint64_t num_entries() const { return entries_.load(std::memory_order_relaxed); }
  bool empty() const { return num_entries() == 0; }

 private:
  struct KeyComparator {
    int operator()(const char* a, const char* b) const;
  };
  using Table = SkipList<const char*, KeyComparator>;
  class MemTableIterator;

  ~MemTable();  // only through Unref

  std::atomic<int> refs_{1};
  std::atomic<uint64_t> entries_{0};
  Arena arena_;
  Table table_;
  MemTableBloom bloom_;
};

}  // namespace kvring::lsm
