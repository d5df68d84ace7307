// lsm/db_impl_background.cc — DBImpl's background threads: flushing immutable
// memtables, compacting, deleting obsolete files, and retrying failures with
// backoff so that a full disk stops writes only until space returns.
#include <chrono>

#include "base/logging.h"
#include "base/mutex.h"
#include "base/thread_pool.h"
#include "lsm/db_impl.h"
#include "lsm/filename.h"

namespace kvring::lsm {

namespace {
constexpr uint32_t kFirstBackoffMs = 10;
constexpr uint32_t kMaxBackoffMs = 1000;
}  // namespace

uint64_t DBImpl::NewPendingFileNumber() {
  base::MutexLock l(&mu_);
  uint64_t number = versions_->NewFileNumber();
  pending_outputs_.insert(number);
  return number;
}

JobContext DBImpl::MakeJobContext(std::shared_ptr<const RangeDeletions> deletions) {
  JobContext ctx;
  ctx.range_deletions = std::move(deletions);
  ctx.env = env_;
  ctx.dbname = dbname_;
  ctx.options = &options_;
  ctx.table_cache = table_cache_.get();
  ctx.new_file_number = [this] { return NewPendingFileNumber(); };
  ctx.shutting_down = &shutting_down_;
  return ctx;
}

void DBImpl::BackoffLocked(uint32_t* backoff_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*backoff_ms);
  while (!shutting_down_.load(std::memory_order_acquire) && bg_cv_.WaitUntil(&mu_, deadline)) {
  }
  *backoff_ms = std::min(kMaxBackoffMs, *backoff_ms * 2);
}

// ---------------------------------------------------------------- flush

void DBImpl::FlushThread() {
  base::MutexLock l(&mu_);
  uint32_t backoff_ms = kFirstBackoffMs;
  while (true) {
    while (!shutting_down_.load() && imm_.empty()) bg_cv_.Wait(&mu_);
    if (shutting_down_.load()) break;
    base::Status s = FlushOldestLocked();
    if (s.ok()) {
      flush_error_ = base::Status::OK();
      backoff_ms = kFirstBackoffMs;
      // The table may hold entries of a deletion made while it was written.
      if (!versions_->range_deletions()->empty()) range_work_pending_ = true;
      ForgetObsoleteRangeDeletionsLocked();
      RemoveObsoleteFilesLocked(false);
    } else if (!shutting_down_.load()) {
      flush_error_ = s;
      LOG_ERROR(logger_, "flush failed (retrying in %u ms): %s", backoff_ms, s.ToString().c_str());
      bg_cv_.SignalAll();  // stalled writers fail fast with the error
      BackoffLocked(&backoff_ms);
    }
    bg_cv_.SignalAll();
  }
}

base::Status DBImpl::FlushOldestLocked() {
  const ImmEntry imm = imm_.front();
  const SequenceNumber smallest_snapshot = SmallestSnapshotLocked();
  // The WALs before the next memtable's are no longer needed.
  const uint64_t log_number = LogNumberAfterImmLocked();
  // A guess for the table's compression; the level is decided at install time.
  FileMetaData meta;
  JobStats stats;
  JobContext ctx = MakeJobContext(versions_->range_deletions());
  mu_.Unlock();
  auto iter = imm.mem->NewIterator();
  base::Status s = BuildTable(ctx, iter.get(), 0, smallest_snapshot, &meta, &stats);
  iter.reset();
  if (s.ok() && meta.file_size > 0) s = env_->SyncDir(dbname_);
  // Before the manifest makes the WAL obsolete: every write after imm's is in a
  // WAL recovery replays, which marks its leaf again. A failure is logged.
  if (s.ok() && merkle_enabled_) PersistMerkle(log_number, imm.last_sequence).IgnoreError();
  mu_.Lock();
  int level = 0;
  VersionEdit edit;
  if (s.ok()) {
    if (meta.file_size > 0) {
      // Straight to a deeper level when nothing overlaps, unless a compaction
      // is running (its outputs could overlap the file).
      if (!compaction_running_) {
        level = versions_->current()->PickLevelForMemTableOutput(options_, ExtractUserKey(meta.smallest),
                                                                  ExtractUserKey(meta.largest));
      }
      edit.AddFile(level, meta);
    }
    edit.SetLogNumber(log_number);
    flush_installing_deep_ = level > 0;
    s = versions_->LogAndApply(&edit, &mu_);
    flush_installing_deep_ = false;
  }
  for (uint64_t number : stats.file_numbers) pending_outputs_.erase(number);
  if (!s.ok()) return s.WithContext("flush");
  imm_.pop_front();
  imm.mem->Unref();
  flushes_++;
  range_deleted_bytes_ += stats.bytes_range_deleted;
  level_counters_[static_cast<size_t>(level)].bytes_written += meta.file_size;
  return base::Status::OK();
}

uint64_t DBImpl::LogNumberAfterImmLocked() {
  if (imm_.size() > 1) return imm_[1].log_number;
  // No WAL yet (opened on a full disk): every write so far is in imm_.
  return log_ != nullptr ? log_->number : versions_->NewFileNumber();
}

// ---------------------------------------------------------------- compaction

bool DBImpl::CompactionWantedLocked() const {
  return !flush_installing_deep_ && ((manual_ != nullptr && !manual_->done) || range_work_pending_ ||
                                     versions_->NeedsCompaction() || !tombstone_requests_.empty());
}

std::unique_ptr<Compaction> DBImpl::PickNextCompactionLocked(ManualCompaction* manual, bool* tombstones) {
  if (manual != nullptr) return versions_->PickRangeCompaction(manual->level, manual->begin, manual->end);
  if (range_work_pending_) {
    std::unique_ptr<Compaction> c = versions_->PickRangeDeletionCompaction();
    if (c != nullptr) return c;
    range_work_pending_ = false;  // until the next deletion or flush
  }
  if (versions_->NeedsCompaction()) return versions_->PickCompaction();
  while (!tombstone_requests_.empty()) {
    std::unique_ptr<Compaction> c = versions_->PickTombstoneCompaction(tombstone_requests_.front());
    if (c != nullptr) {
      *tombstones = true;
      return c;
    }
    tombstone_requests_.pop_front();
  }
  return nullptr;
}

void DBImpl::CompactionThread() {
  base::Status nice = base::LowerCurrentThreadPriority(options_.compaction_nice);
  if (!nice.ok()) LOG_WARN(logger_, "compaction thread keeps its priority: %s", nice.ToString().c_str());
  base::MutexLock l(&mu_);
  uint32_t backoff_ms = kFirstBackoffMs;
  while (true) {
    while (!shutting_down_.load() && !CompactionWantedLocked()) bg_cv_.Wait(&mu_);
    if (shutting_down_.load()) break;
    ManualCompaction* manual = manual_ != nullptr && !manual_->done ? manual_ : nullptr;
    bool tombstones = false;
    std::unique_ptr<Compaction> c = PickNextCompactionLocked(manual, &tombstones);
    base::Status s;
    if (c != nullptr) s = RunCompactionLocked(c.get());
    if (tombstones && s.ok()) tombstone_compactions_++;
    if (manual != nullptr && (c == nullptr || !s.ok())) {
      manual->done = true;  // finished this level, or failed
      manual->status = s;
    }
    if (s.ok()) {
      compaction_error_ = base::Status::OK();
      backoff_ms = kFirstBackoffMs;
      ForgetObsoleteRangeDeletionsLocked();
      RemoveObsoleteFilesLocked(false);
    } else if (!shutting_down_.load()) {
      compaction_error_ = s;
      LOG_ERROR(logger_, "compaction failed (retrying in %u ms): %s", backoff_ms, s.ToString().c_str());
      bg_cv_.SignalAll();
      BackoffLocked(&backoff_ms);
    }
    bg_cv_.SignalAll();
  }
}

base::Status DBImpl::DropCoveredFilesLocked(Compaction* c) {
  KV_RETURN_IF_ERROR(versions_->LogAndApply(c->edit(), &mu_).WithContext("range deletion of whole tables"));
  range_deleted_files_ += c->inputs(0).size();
  range_deleted_bytes_ += TotalFileBytes(c->inputs(0));
  LOG_DEBUG(logger_, "range deletion removed %zu table(s) whole", c->inputs(0).size());
  return base::Status::OK();
}

void DBImpl::ForgetObsoleteRangeDeletionsLocked() {
  const std::shared_ptr<const RangeDeletions> deletions = versions_->range_deletions();
  if (deletions->empty()) return;
  const SequenceNumber oldest_memtable = imm_.empty() ? mem_first_sequence_ : imm_.front().first_sequence;
  versions_->ForgetRangeDeletions(ObsoleteRangeDeletions(*versions_->current(), *deletions, oldest_memtable));
}

base::Status DBImpl::RunCompactionLocked(Compaction* c) {
  if (c->drops_files()) return DropCoveredFilesLocked(c);
  compaction_running_ = true;
  base::Status s;
  JobStats stats;
  if (c->IsTrivialMove()) {
    const FileRef& f = c->inputs(0)[0];
    c->edit()->RemoveFile(c->level(), f->number);
    c->edit()->AddFile(c->output_level(), *f);
    s = versions_->LogAndApply(c->edit(), &mu_);
  } else {
    const SequenceNumber smallest_snapshot = SmallestSnapshotLocked();
    JobContext ctx = MakeJobContext(versions_->range_deletions());
    ctx.newest_snapshot = snapshots_.empty() ? 0 : *snapshots_.rbegin();
    ctx.filter_epoch = tombstone_epoch_;
    mu_.Unlock();
    s = RunCompaction(ctx, c, smallest_snapshot, &stats);
    if (s.ok() && stats.files_written > 0) s = env_->SyncDir(dbname_);
    mu_.Lock();
    if (s.ok()) s = versions_->LogAndApply(c->edit(), &mu_);
    for (uint64_t number : stats.file_numbers) pending_outputs_.erase(number);
  }
  compaction_running_ = false;
  if (!s.ok()) return s.WithContext("compaction " + c->DebugString());
  compactions_++;
  range_deleted_bytes_ += stats.bytes_range_deleted;
  // As engine.h defines them: reads count for the level compacted out of,
  // writes (and the compaction) for the level written into.
  level_counters_[static_cast<size_t>(c->level())].bytes_read += stats.bytes_read;
  auto& counters = level_counters_[static_cast<size_t>(c->output_level())];
  counters.compactions++;
  counters.bytes_written += stats.bytes_written;
  LOG_DEBUG(logger_, "compacted %s: %llu bytes in, %llu out", c->DebugString().c_str(),
            static_cast<unsigned long long>(stats.bytes_read), static_cast<unsigned long long>(stats.bytes_written));
  return base::Status::OK();
}

// ---------------------------------------------------------------- obsolete files

void DBImpl::RemoveObsoleteFilesLocked(bool at_open) {
  // After a failed manifest write the disk may hold an edit naming files we
  // think are garbage: delete nothing until a fresh manifest is written.
  if (versions_->manifest_uncertain()) return;
  std::set<uint64_t> live = pending_outputs_;
  versions_->AddLiveFiles(&live);
  const uint64_t log_number = versions_->log_number();
  const uint64_t manifest_number = versions_->manifest_file_number();
  std::vector<std::string> names;
  if (!env_->GetChildren(dbname_, &names).ok()) return;  // retried after the next job
  std::vector<std::pair<std::string, uint64_t>> doomed;  // name, table number (0: not a table)
  for (const auto& name : names) {
    uint64_t number;
    FileType type;
    if (!ParseFileName(name, &number, &type)) continue;
    bool keep = true;
    switch (type) {
      case FileType::kLog: keep = number >= log_number; break;
      case FileType::kManifest: keep = number >= manifest_number; break;
      case FileType::kTable: keep = live.count(number) != 0; break;
      case FileType::kTemp: keep = !at_open; break;  // a manifest write may be using it
      case FileType::kCurrent:
      case FileType::kLock: break;
    }
    if (!keep) doomed.emplace_back(name, type == FileType::kTable ? number : 0);
  }
  if (doomed.empty()) return;
  mu_.Unlock();
  for (const auto& [name, table] : doomed) {
    if (table != 0) table_cache_->Evict(table);
    env_->RemoveFile(base::JoinPath(dbname_, name)).IgnoreError();  // a leftover is retried next time
  }
  mu_.Lock();
}

}  // namespace kvring::lsm
