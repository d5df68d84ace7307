// lsm/merkle_index.h — the engine's Merkle index: per-leaf hashes over the key
// space, kept incrementally (a write marks its leaf dirty; a dirty leaf is
// recomputed by a range scan when asked for; lsm/db_impl_merkle.cc drives it).
//
// A key's prefix is its first 8 bytes read as a big-endian u64 (shorter keys are
// zero-padded). Leaves are the half-open prefix intervals between the sorted
// boundaries: the grid {i << (64 - leaf_bits)} united with the split points.
// A leaf's hash is the XOR over its indexed entries of EntryHash(key, digest),
// so it does not depend on the order the entries are added in.
//
// The persisted form (Encode/Decode) is docs/formats/merkle.md.
// Thread safety: not thread-safe; the DB guards one with its Merkle mutex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lsm/dbformat.h"

namespace kvring::lsm {

class MerkleIndex {
 public:
  static constexpr int kMaxLeafBits = 20;

  // A leaf's state (a copy: see leaf()).
  struct Leaf {
    uint64_t hash = 0;
    uint64_t keys = 0;
    uint64_t epoch = 0;          // bumped by every MarkDirty (not persisted)
    SequenceNumber computed_at = 0;  // snapshot the clean hash was computed at
    bool dirty = true;
  };

  // What a persisted index was written against (docs/formats/merkle.md).
  struct FileState {
    uint64_t log_number = 0;  // the manifest's log number the file is valid with
    SequenceNumber sequence = 0;  // every write at or below it is in the clean leaves
  };

  // 2^leaf_bits grid leaves plus the split points; every leaf dirty.
  // REQUIRES: 0 <= leaf_bits <= kMaxLeafBits.
  MerkleIndex(int leaf_bits, std::vector<uint64_t> splits);

  // The big-endian u64 of key's first 8 bytes, zero-padded.
  static uint64_t KeyPrefix(std::string_view key);
  // Hash64(key || digest as 8 little-endian bytes).
  static uint64_t EntryHash(std::string_view key, uint64_t digest);
  // The shortest user key at or above which every key has prefix >= prefix:
  // the big-endian bytes without trailing zeros ("" for 0).
  static std::string PrefixStartKey(uint64_t prefix);

  int leaf_bits() const { return leaf_bits_; }
  const std::vector<uint64_t>& splits() const { return splits_; }
  size_t num_leaves() const { return boundaries_.size(); }
  size_t dirty_leaves() const { return dirty_count_; }
  // Bumped whenever the boundaries change (SetSplits): a recompute started
  // before must not store its result.
  uint64_t generation() const { return generation_; }

  // The leaf whose interval holds prefix.
  size_t LeafOf(uint64_t prefix) const;
  uint64_t LeafBegin(size_t i) const { return boundaries_[i]; }
  // 0 means 2^64.
  uint64_t LeafEnd(size_t i) const { return i + 1 < boundaries_.size() ? boundaries_[i + 1] : 0; }
  Leaf leaf(size_t i) const;

  // A write to a key with this prefix was applied: its leaf is dirty.
  void MarkDirty(uint64_t prefix);
  // Keys with prefixes in [first, last] changed (a range deletion). REQUIRES: first <= last.
  void MarkRangeDirty(uint64_t first, uint64_t last);
  void MarkAllDirty();
  // Stores a recomputed leaf when no write marked it since epoch was read.
  // Returns whether it stored.
  bool StoreIfUnchanged(size_t i, uint64_t epoch, uint64_t hash, uint64_t keys, SequenceNumber at);
  // Replaces the split points; leaves whose bounds are unchanged keep their state.
  void SetSplits(std::vector<uint64_t> splits);

  // The file: every leaf clean at or below state.sequence is written clean,
  // the others dirty.
  std::string Encode(const FileState& state) const;
  // Replaces *this with the file's index. Corruption naming what failed on bad
  // bytes; InvalidArgument when its leaf_bits differs from expected_leaf_bits.
  [[nodiscard]] base::Status Decode(std::string_view data, int expected_leaf_bits, FileState* state);

 private:
  // What a recompute stores; the write path never touches it.
  struct Stored {
    uint64_t hash = 0;
    uint64_t keys = 0;
    SequenceNumber computed_at = 0;
  };
  static constexpr uint32_t kDirtyBit = 1u << 31;
  static constexpr uint32_t kEpochMask = kDirtyBit - 1;

  void Build();
  void SetLeafDirty(size_t i);

  int leaf_bits_;
  std::vector<uint64_t> splits_;      // sorted, unique, none on the grid
  std::vector<uint64_t> boundaries_;  // sorted grid ∪ splits; boundaries_[0] == 0
  // cell_start_[g]: the index in boundaries_ of grid point g (one extra at the end).
  std::vector<uint32_t> cell_start_;
  // Per leaf, what a write touches: the dirty bit and a 31-bit epoch, 4 bytes,
  // so the write path's working set stays small (256 KiB at 16 leaf bits).
  std::vector<uint32_t> marks_;
  std::vector<Stored> stored_;
  size_t dirty_count_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace kvring::lsm
