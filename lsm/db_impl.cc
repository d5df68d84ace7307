// lsm/db_impl.cc — DBImpl: construction, shutdown, reads, snapshots, explicit
// flush/compaction/sync requests and statistics. Opening is in
// db_impl_open.cc, the write path in db_impl_write.cc, background work in
// db_impl_background.cc.
#include "lsm/db_impl.h"

#include <algorithm>

#include "lsm/db_iter.h"
#include "lsm/merging_iterator.h"
#include "lsm/snapshot.h"
#include "lsm/table_format.h"

namespace kvring::lsm {

namespace {
// Queued CompactTombstones requests beyond this are dropped (a node asks once per
// ring range and comparison round: a few thousand at most).
constexpr size_t kMaxTombstoneRequests = 65536;
}  // namespace

Options SanitizeOptions(const Options& options) {
  Options o = options;
  o.num_levels = std::clamp(o.num_levels, 2, kMaxLevels);
  o.max_immutable_memtables = std::clamp(o.max_immutable_memtables, 1, DBImpl::kMaxImmutableMemTables);
  o.memtable_bytes = std::max<size_t>(o.memtable_bytes, 16 << 10);
  o.target_file_bytes = std::max<uint64_t>(o.target_file_bytes, 16 << 10);
  o.max_bytes_level1 = std::max<uint64_t>(o.max_bytes_level1, o.target_file_bytes);
  o.level_size_ratio = std::max(o.level_size_ratio, 2);
  o.max_open_files = std::max(o.max_open_files, 16);
  o.l0_compaction_trigger = std::max(o.l0_compaction_trigger, 1);
  o.l0_slowdown_trigger = std::max(o.l0_slowdown_trigger, o.l0_compaction_trigger);
  o.l0_stop_trigger = std::max(o.l0_stop_trigger, o.l0_slowdown_trigger);
  o.merkle.leaf_bits = std::clamp(o.merkle.leaf_bits, 0, MerkleIndex::kMaxLeafBits);
  if (o.env == nullptr) o.env = base::Env::Default();
  if (o.clock == nullptr) o.clock = base::SystemClock::Get();
  if (o.logger == nullptr) o.logger = base::Logger::Null();
  return o;
}

DBImpl::DBImpl(const Options& options, std::string dbname)
    : options_(SanitizeOptions(options)),
      dbname_(std::move(dbname)),
      env_(options_.env),
      logger_(options_.logger),
      block_cache_(std::make_unique<Cache>(options_.block_cache_bytes)),
      table_cache_(std::make_unique<TableCache>(env_, dbname_, TableOptionsForLevel(options_, 0),
                                                options_.max_open_files, block_cache_.get())),
      versions_(std::make_unique<VersionSet>(dbname_, options_)),
      merkle_enabled_(options_.merkle.leaf_bits > 0),
      level_counters_(static_cast<size_t>(options_.num_levels)) {}

DBImpl::~DBImpl() {
  // manual_wal_flush: buffered records reach the OS (and their callbacks run) first.
  if (log_ != nullptr) FlushWal().IgnoreError();  // a failure is logged and given to the callbacks
  {
    base::MutexLock l(&mu_);
    shutting_down_.store(true, std::memory_order_release);
  }
  bg_cv_.SignalAll();
  if (flush_thread_.joinable()) flush_thread_.join();
  if (compaction_thread_.joinable()) compaction_thread_.join();
  PersistMerkleAtClose();
  syncer_.reset();  // syncs what was written and resolves every callback
  if (log_ != nullptr) log_->file->Close().IgnoreError();  // synced above when it mattered
  if (mem_ != nullptr) mem_->Unref();
  for (auto& imm : imm_) imm.mem->Unref();
  versions_.reset();
  if (db_lock_ != nullptr) env_->UnlockFile(std::move(db_lock_)).IgnoreError();  // the process may be exiting
}

// ---------------------------------------------------------------- reads

base::Status DBImpl::Get(const ReadOptions& options, std::string_view key, std::string* value) {
  std::array<MemTable*, kMaxImmutableMemTables + 1> mems;
  size_t num_mems = 0;
  std::shared_ptr<const Version> version;
  SequenceNumber sequence;
  {
    base::MutexLock l(&mu_);
    if (versions_->range_deletions()->CoveringSequence(key) != 0) {
      l.Unlock();
      return GetThroughIterator(options, key, value);
    }
    sequence = options.snapshot != nullptr ? options.snapshot->sequence() : versions_->last_sequence();
    mems[num_mems++] = mem_;
    for (auto it = imm_.rbegin(); it != imm_.rend(); ++it) mems[num_mems++] = it->mem;  // newest first
    for (size_t i = 0; i < num_mems; i++) mems[i]->Ref();
    version = versions_->current();
  }
  LookupKey lookup(key, sequence);
  base::Status s;
  bool done = false;
  for (size_t i = 0; i < num_mems && !done; i++) {
    switch (mems[i]->Get(lookup, value)) {
      case MemTable::GetResult::kFound: done = true; break;
      case MemTable::GetResult::kDeleted: done = true; s = base::Status::NotFound(""); break;
      case MemTable::GetResult::kAbsent: break;
    }
  }
  if (!done) {
    Version::GetResult result;
    s = version->Get(options, lookup, table_cache_.get(), value, &result);
    if (s.ok() && result != Version::GetResult::kFound) s = base::Status::NotFound("");
  }
  for (size_t i = 0; i < num_mems; i++) mems[i]->Unref();
  return s;
}

base::Status DBImpl::GetThroughIterator(const ReadOptions& options, std::string_view key, std::string* value) {
  ReadOptions scan = options;
  const std::string upper = std::string(key) + '\0';  // the key's successor: the scan stops right after it
  scan.upper_bound = &upper;
  std::unique_ptr<Iterator> it = NewIterator(scan);
  it->Seek(key);
  KV_RETURN_IF_ERROR(it->status());
  if (!it->Valid() || it->key() != key) return base::Status::NotFound("");
  value->assign(it->value().data(), it->value().size());
  return base::Status::OK();
}

std::unique_ptr<Iterator> DBImpl::NewIterator(const ReadOptions& options) {
  std::vector<std::unique_ptr<Iterator>> children;
  std::shared_ptr<const Version> version;
  std::shared_ptr<const RangeDeletions> deletions;
  SequenceNumber sequence;
  {
    base::MutexLock l(&mu_);
    deletions = versions_->range_deletions();
    sequence = options.snapshot != nullptr ? options.snapshot->sequence() : versions_->last_sequence();
    children.push_back(mem_->NewIterator());
    for (auto it = imm_.rbegin(); it != imm_.rend(); ++it) children.push_back(it->mem->NewIterator());
    version = versions_->current();
  }
  version->AddIterators(options, table_cache_.get(), &children);
  std::optional<std::string> upper;
  if (options.upper_bound != nullptr) upper = *options.upper_bound;
  auto iter = NewDBIterator(NewRangeDeletionFilter(NewMergingIterator(std::move(children)), std::move(deletions)),
                            sequence, std::move(upper));
  // Runs after the internal iterators die: the version outlives them.
  iter->RegisterCleanup([version]() {});
  return iter;
}

const Snapshot* DBImpl::GetSnapshot() {
  base::MutexLock l(&mu_);
  SequenceNumber s = versions_->last_sequence();
  snapshots_.insert(s);
  return new SnapshotImpl(s);
}

void DBImpl::ReleaseSnapshot(const Snapshot* snapshot) {
  if (snapshot == nullptr) return;
  {
    base::MutexLock l(&mu_);
    auto it = snapshots_.find(snapshot->sequence());
    if (it != snapshots_.end()) snapshots_.erase(it);
  }
  delete snapshot;
}

SequenceNumber DBImpl::SmallestSnapshotLocked() const {
  return snapshots_.empty() ? versions_->last_sequence() : *snapshots_.begin();
}

// ---------------------------------------------------------------- requests

base::Status DBImpl::SyncWal() {
  KV_RETURN_IF_ERROR(FlushWal());  // manual_wal_flush: buffered records first
  // Covers the current log and every retired one with unsynced bytes.
  return syncer_->SyncAll();
}

base::Status DBImpl::CompactRange(const std::string* begin, const std::string* end) {
  KV_RETURN_IF_ERROR(Flush());
  base::MutexLock l(&mu_);
  // Push everything down to the deepest level holding data (at least L1).
  int max_level = 1;
  for (int level = 1; level < options_.num_levels; level++) {
    if (versions_->current()->NumFiles(level) > 0) max_level = level;
  }
  for (int level = 0; level < max_level; level++) {
    ManualCompaction m;
    m.level = level;
    m.begin = begin;
    m.end = end;
    while (manual_ != nullptr && !shutting_down_.load()) bg_cv_.Wait(&mu_);
    if (shutting_down_.load()) return base::Status::Aborted("shutting down");
    manual_ = &m;
    bg_cv_.SignalAll();
    while (!m.done && !shutting_down_.load()) bg_cv_.Wait(&mu_);
    if (manual_ == &m) manual_ = nullptr;
    bg_cv_.SignalAll();
    if (!m.done) return base::Status::Aborted("shutting down");
    KV_RETURN_IF_ERROR(m.status);
  }
  return base::Status::OK();
}

void DBImpl::CompactTombstones(std::string begin, std::string end, SequenceNumber sequence) {
  base::MutexLock l(&mu_);
  const uint64_t epoch = ++tombstone_epoch_;
  for (TombstoneRequest& r : tombstone_requests_) {
    if (r.begin == begin && r.end == end) {  // tables it already rewrote are due again
      r.sequence = std::max(r.sequence, sequence);
      r.epoch = epoch;
      return;
    }
  }
  if (tombstone_requests_.size() >= kMaxTombstoneRequests) {
    LOG_WARN(logger_, "tombstone compaction queue full (%zu requests): dropped the request for a range",
             tombstone_requests_.size());
    return;
  }
  tombstone_requests_.push_back(TombstoneRequest{std::move(begin), std::move(end), sequence, epoch});
  bg_cv_.SignalAll();
}

// ---------------------------------------------------------------- stats

Stats DBImpl::GetStats() {
  Stats s;
  base::MutexLock l(&mu_);
  const auto& v = versions_->current();
  for (int level = 0; level < options_.num_levels; level++) {
    LevelStats ls;
    ls.files = v->NumFiles(level);
    ls.bytes = v->LevelBytes(level);
    const LevelCounters& c = level_counters_[static_cast<size_t>(level)];
    ls.compactions = c.compactions;
    ls.bytes_read = c.bytes_read;
    ls.bytes_written = c.bytes_written;
    s.levels.push_back(ls);
    for (const FileRef& f : v->files(level)) {
      s.tombstones += f->tombstones;
      s.entries += f->entries;
      s.data_bytes += f->data_bytes;
    }
  }
  s.memtable_bytes = mem_->ApproximateMemoryUsage();
  s.entries += mem_->num_entries();
  s.data_bytes += mem_->data_bytes();
  for (const auto& imm : imm_) {
    s.memtable_bytes += imm.mem->ApproximateMemoryUsage();
    s.entries += imm.mem->num_entries();
    s.data_bytes += imm.mem->data_bytes();
  }
  s.immutable_memtables = static_cast<int>(imm_.size());
  s.block_cache_bytes = block_cache_->TotalCharge();
  s.block_cache_hits = block_cache_->hits();
  s.block_cache_misses = block_cache_->misses();
  s.bloom_useful = table_cache_->bloom_useful();
  s.user_bytes_written = user_bytes_;
  s.wal_bytes_written = wal_bytes_;
  s.wal_syncs = syncer_ != nullptr ? syncer_->syncs() : 0;
  s.writes = writes_;
  s.flushes = flushes_;
  s.compactions = compactions_;
  s.stall_micros = stall_micros_;
  s.slowdowns = slowdowns_;
  s.stops = stops_;
  s.last_sequence = versions_->last_sequence();
  s.data_blocks_read = table_cache_->stats().blocks_read.load(std::memory_order_relaxed);
  s.tombstone_compactions = tombstone_compactions_;
  s.tombstone_requests = tombstone_requests_.size();
  s.range_deletes = range_deletes_;
  s.range_deletions = versions_->range_deletions()->size();
  s.range_deleted_files = range_deleted_files_;
  s.range_deleted_bytes = range_deleted_bytes_;
  AddMerkleStats(&s);
  base::Status bg = BackgroundErrorLocked();
  if (!bg.ok()) s.background_error = bg.ToString();
  return s;
}

std::string DBImpl::DebugLevels() {
  base::MutexLock l(&mu_);
  return versions_->current()->DebugString();
}

}  // namespace kvring::lsm
