// lsm/db_impl_merkle.cc — DBImpl's Merkle index (Options::merkle): marking the
// leaves of applied writes dirty, recomputing dirty leaves by a scan under a
// snapshot, and persisting the index with every flush and at close
// (docs/architecture.md, "The Merkle index"; docs/formats/merkle.md).
//
// Why a recompute never stores a stale hash: a write is marked after it is
// visible (its sequence published), in the same mu_ section. A recompute reads
// the leaf's epoch, then takes its snapshot (under mu_), scans, and stores only
// if the epoch is unchanged. A write marked before the epoch was read is in the
// snapshot; one marked after changed the epoch.
#include <algorithm>

#include "base/hash.h"
#include "base/logging.h"
#include "lsm/db_impl.h"
#include "lsm/filename.h"

namespace kvring::lsm {

// A leaf (or the clipped part of one) that MerkleLeaves computes by scan.
struct DBImpl::MerkleTask {
  size_t leaf = 0;     // in the index
  size_t out = 0;      // in the caller's vector
  uint64_t epoch = 0;  // the leaf's epoch before the snapshot
  bool store = false;  // a whole dirty leaf: store the result when unchanged
};

namespace {

class DirtyMarker final : public WriteBatch::Handler {
 public:
  explicit DirtyMarker(MerkleIndex* index) : index_(index) {}
  void Put(std::string_view key, std::string_view) override { index_->MarkDirty(MerkleIndex::KeyPrefix(key)); }
  void Delete(std::string_view key) override { index_->MarkDirty(MerkleIndex::KeyPrefix(key)); }

 private:
  MerkleIndex* const index_;
};

base::Status NoIndex() { return base::Status::NotSupported("the Merkle index is off (Options::merkle.leaf_bits == 0)"); }

// Whether a key with this prefix lies below the interval end (0: 2^64).
bool BelowEnd(uint64_t prefix, uint64_t end) { return end == 0 || prefix < end; }

}  // namespace

void DBImpl::LoadMerkleLocked() {
  base::MutexLock l(&merkle_mu_);
  merkle_ = std::make_unique<MerkleIndex>(options_.merkle.leaf_bits, std::vector<uint64_t>());
  merkle_replay_floor_ = 0;
  const std::string path = MerkleFileName(dbname_);
  if (!env_->FileExists(path)) {
    LOG_INFO(logger_, "DB %s: no Merkle index file: every leaf dirty (recomputed when asked for)", dbname_.c_str());
    return;
  }
  std::string data;
  MerkleIndex::FileState state;
  base::Status s = base::ReadFileToString(env_, path, &data);
  if (s.ok()) s = merkle_->Decode(data, options_.merkle.leaf_bits, &state);
  if (s.ok() && state.log_number != versions_->log_number()) {
    s = base::Status::Corruption("written for log number " + std::to_string(state.log_number) +
                                 ", the manifest has " + std::to_string(versions_->log_number()));
    merkle_->MarkAllDirty();  // keeps the file's split points
  }
  if (!s.ok()) {
    LOG_WARN(logger_, "DB %s: Merkle index %s not used (%s): every leaf dirty (recomputed when asked for)",
             dbname_.c_str(), path.c_str(), s.ToString().c_str());
    return;
  }
  merkle_replay_floor_ = state.sequence;
}

void DBImpl::MarkMerkleDirty(std::string_view record) {
  base::MutexLock l(&merkle_mu_);
  DirtyMarker marker(merkle_.get());
  WriteBatch::IterateRep(record, &marker).IgnoreError();  // validated before it was applied
}

void DBImpl::MarkMerkleRangeDirty(std::string_view begin, std::string_view end) {
  // Every key below end has a prefix at most end's.
  const uint64_t last = end.empty() ? ~uint64_t{0} : MerkleIndex::KeyPrefix(end);
  base::MutexLock l(&merkle_mu_);
  merkle_->MarkRangeDirty(MerkleIndex::KeyPrefix(begin), last);
}

base::Status DBImpl::PersistMerkle(uint64_t log_number, SequenceNumber sequence) {
  std::string bytes;
  {
    base::MutexLock l(&merkle_mu_);
    bytes = merkle_->Encode({log_number, sequence});
  }
  const std::string path = MerkleFileName(dbname_);
  base::Status s = base::WriteStringToFileAtomic(env_, bytes, path);
  if (!s.ok()) {
    LOG_WARN(logger_, "DB %s: writing the Merkle index %s failed (%s): the next open recomputes it lazily",
             dbname_.c_str(), path.c_str(), s.ToString().c_str());
    return s.WithContext("Merkle index " + path);
  }
  merkle_bytes_persisted_.fetch_add(bytes.size(), std::memory_order_relaxed);
  return s;
}

void DBImpl::PersistMerkleAtClose() {
  if (!merkle_enabled_ || !opened_) return;
  // Clean leaves may cover writes only in the WAL: they must be durable first.
  if (!syncer_->SyncAll().ok()) return;  // the file on disk stays valid for what is durable
  uint64_t log_number;
  SequenceNumber sequence;
  {
    base::MutexLock l(&mu_);
    if (versions_->manifest_uncertain()) return;
    log_number = versions_->log_number();
    sequence = versions_->last_sequence();
  }
  PersistMerkle(log_number, sequence).IgnoreError();  // logged
}

bool DBImpl::MerkleDigest(std::string_view key, std::string_view value, uint64_t* digest) const {
  if (options_.merkle.digest) return options_.merkle.digest(key, value, digest);
  *digest = base::Hash64(value);
  return true;
}

// ---------------------------------------------------------------- the API

base::Status DBImpl::SetMerkleSplits(std::vector<uint64_t> splits) {
  if (!merkle_enabled_) return NoIndex();
  base::MutexLock l(&merkle_mu_);
  merkle_->SetSplits(std::move(splits));
  return base::Status::OK();
}

base::Status DBImpl::MerkleLeaves(uint64_t begin, uint64_t end, std::vector<MerkleLeaf>* leaves) {
  if (!merkle_enabled_) return NoIndex();
  leaves->clear();
  std::vector<MerkleTask> tasks;
  uint64_t generation;
  {
    base::MutexLock l(&merkle_mu_);
    generation = merkle_->generation();
    CollectMerkleLeavesLocked(begin, end, leaves, &tasks);
  }
  if (tasks.empty()) return base::Status::OK();
  const Snapshot* snapshot = GetSnapshot();
  base::Status s = ScanMerkleTasks(snapshot, &tasks, leaves);
  if (s.ok()) StoreMerkleTasks(generation, snapshot->sequence(), tasks, *leaves);
  ReleaseSnapshot(snapshot);
  if (!s.ok()) leaves->clear();
  return s;
}

void DBImpl::CollectMerkleLeavesLocked(uint64_t begin, uint64_t end, std::vector<MerkleLeaf>* leaves,
                                       std::vector<MerkleTask>* tasks) {
  if (end != 0 && begin >= end) return;
  for (size_t i = merkle_->LeafOf(begin); i < merkle_->num_leaves() && BelowEnd(merkle_->LeafBegin(i), end); i++) {
    const uint64_t leaf_end = merkle_->LeafEnd(i);
    MerkleLeaf out;
    out.begin = std::max(merkle_->LeafBegin(i), begin);
    out.end = leaf_end;
    if (end != 0 && (leaf_end == 0 || leaf_end > end)) out.end = end;  // clipped by the interval's end
    const bool whole = out.begin == merkle_->LeafBegin(i) && out.end == leaf_end;
    const MerkleIndex::Leaf leaf = merkle_->leaf(i);
    if (whole && !leaf.dirty) {
      out.hash = leaf.hash;
      out.keys = leaf.keys;
    } else {
      tasks->push_back({i, leaves->size(), leaf.epoch, whole});
    }
    leaves->push_back(out);
  }
}

base::Status DBImpl::ScanMerkleTasks(const Snapshot* snapshot, std::vector<MerkleTask>* tasks,
                                     std::vector<MerkleLeaf>* leaves) {
  ReadOptions options;
  options.snapshot = snapshot;
  options.fill_cache = false;
  std::unique_ptr<Iterator> iter = NewIterator(options);
  uint64_t scanned = 0;
  // After a task the iterator is at the first key at or past its end: a task
  // starting there needs no seek.
  bool positioned = false;
  uint64_t positioned_at = 0;
  for (const MerkleTask& task : *tasks) {
    MerkleLeaf& out = (*leaves)[task.out];
    if (!positioned || positioned_at != out.begin) iter->Seek(MerkleIndex::PrefixStartKey(out.begin));
    for (; iter->Valid() && BelowEnd(MerkleIndex::KeyPrefix(iter->key()), out.end); iter->Next()) {
      scanned++;
      uint64_t digest;
      if (!MerkleDigest(iter->key(), iter->value(), &digest)) continue;
      out.hash ^= MerkleIndex::EntryHash(iter->key(), digest);
      out.keys++;
    }
    positioned = out.end != 0;
    positioned_at = out.end;
  }
  merkle_keys_scanned_.fetch_add(scanned, std::memory_order_relaxed);
  return iter->status();
}

void DBImpl::StoreMerkleTasks(uint64_t generation, SequenceNumber at, const std::vector<MerkleTask>& tasks,
                              const std::vector<MerkleLeaf>& leaves) {
  base::MutexLock l(&merkle_mu_);
  if (merkle_->generation() != generation) return;  // the boundaries changed meanwhile
  for (const MerkleTask& task : tasks) {
    if (!task.store) continue;
    const MerkleLeaf& out = leaves[task.out];
    if (merkle_->StoreIfUnchanged(task.leaf, task.epoch, out.hash, out.keys, at)) merkle_recomputed_++;
  }
}

void DBImpl::AddMerkleStats(Stats* stats) {
  if (!merkle_enabled_) return;
  base::MutexLock l(&merkle_mu_);
  stats->merkle_leaves = merkle_->num_leaves();
  stats->merkle_dirty_leaves = merkle_->dirty_leaves();
  stats->merkle_leaves_recomputed = merkle_recomputed_;
  stats->merkle_keys_scanned = merkle_keys_scanned_.load(std::memory_order_relaxed);
  stats->merkle_bytes_persisted = merkle_bytes_persisted_.load(std::memory_order_relaxed);
}

}  // namespace kvring::lsm
