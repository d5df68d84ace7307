// lsm/db_impl_open.cc — opening a DB: the LOCK file, creating or recovering the
// manifest, replaying the WALs the manifest does not cover into L0 tables, a
// fresh WAL, and the background threads. With Options::open_on_full_disk, a
// recovery that runs out of space starts over keeping the replayed writes in
// memory (docs/architecture.md, "Failures on the write path").
#include <algorithm>

#include "base/logging.h"
#include "base/mutex.h"
#include "base/thread_pool.h"
#include "lsm/db_impl.h"
#include "lsm/filename.h"
#include "lsm/wal_reader.h"

namespace kvring::lsm {

base::Status DBImpl::Open() {
  KV_RETURN_IF_ERROR(env_->CreateDir(dbname_));
  base::Status s = env_->LockFile(LockFileName(dbname_), &db_lock_);
  if (s.IsBusy()) return base::Status::Busy("already in use (" + s.message() + ")");
  KV_RETURN_IF_ERROR(s);
  syncer_ = std::make_unique<LogSyncer>(options_.sync_mode, options_.sync_interval_ms, logger_);
  {
    base::MutexLock l(&mu_);
    KV_RETURN_IF_ERROR(RecoverLocked());
    // Tables from before the open may hold what a deletion in force hides.
    range_work_pending_ = !versions_->range_deletions()->empty();
    RemoveObsoleteFilesLocked(/*at_open=*/true);
  }
  opened_ = true;
  flush_thread_ = std::thread([this] {
    base::NameCurrentThread("kv-flush");
    FlushThread();
  });
  compaction_thread_ = std::thread([this] {
    base::NameCurrentThread("kv-compact");
    CompactionThread();
  });
  return base::Status::OK();
}

// What replaying the WALs produced, before it is installed.
struct DBImpl::Recovery {
  bool in_memory = false;  // keep the replayed writes in one memtable, write nothing
  VersionEdit edit;        // the tables written (not in memory mode)
  SequenceNumber max_sequence = 0;
  MemTable* mem = nullptr;
  uint64_t mem_first_log = 0;  // the oldest WAL with a record in mem
  std::shared_ptr<const RangeDeletions> deletions;  // in force: the replayed tables leave them out
  ~Recovery() {
    if (mem != nullptr) mem->Unref();
  }
};

base::Status DBImpl::RecoverLocked() {
  const bool exists = env_->FileExists(CurrentFileName(dbname_));
  if (!exists) {
    if (!options_.create_if_missing) {
      return base::Status::InvalidArgument("DB " + dbname_ + " does not exist (create_if_missing is false)");
    }
    KV_RETURN_IF_ERROR(versions_->CreateNew());
  } else if (options_.error_if_exists) {
    return base::Status::InvalidArgument("DB " + dbname_ + " exists (error_if_exists is true)");
  }
  KV_RETURN_IF_ERROR(versions_->Recover());
  if (merkle_enabled_) {
    LoadMerkleLocked();
    // The persisted index may predate a range deletion still in force.
    for (const RangeDeletions::Fragment& f : versions_->range_deletions()->Fragments()) {
      MarkMerkleRangeDirty(f.begin, f.end);
    }
  }
  KV_RETURN_IF_ERROR(CheckLiveFilesExist());
  if (options_.paranoid_checks) KV_RETURN_IF_ERROR(CheckTablesOpen());
  std::vector<uint64_t> logs;
  KV_RETURN_IF_ERROR(LogsToReplay(&logs));
  base::Status s = RecoverWalsLocked(logs, /*in_memory=*/false);
  if (!s.IsNoSpace() || !options_.open_on_full_disk) return s;
  LOG_WARN(logger_, "DB %s: the disk is full (%s): opened with the replayed writes in memory; writes fail "
           "until space returns, then the flush writes them out", dbname_.c_str(), s.ToString().c_str());
  return RecoverWalsLocked(logs, /*in_memory=*/true);
}

base::Status DBImpl::LogsToReplay(std::vector<uint64_t>* logs) {
  // Logs at or past the manifest's log number hold writes no table has yet.
  std::vector<std::string> names;
  KV_RETURN_IF_ERROR(env_->GetChildren(dbname_, &names));
  for (const auto& name : names) {
    uint64_t number;
    FileType type;
    if (ParseFileName(name, &number, &type) && type == FileType::kLog) {
      versions_->MarkFileNumberUsed(number);
      if (number >= versions_->log_number()) logs->push_back(number);
    }
  }
  std::sort(logs->begin(), logs->end());
  return base::Status::OK();
}

base::Status DBImpl::RecoverWalsLocked(const std::vector<uint64_t>& logs, bool in_memory) {
  Recovery r;
  r.in_memory = in_memory;
  r.max_sequence = versions_->last_sequence();
  r.mem = new MemTable();
  r.deletions = versions_->range_deletions();
  mu_.Unlock();
  base::Status s;
  for (uint64_t number : logs) {
    s = ReplayLog(number, &r);
    if (!s.ok()) break;
  }
  if (s.ok() && !in_memory && !r.mem->empty()) s = WriteRecoveredTable(&r);
  mu_.Lock();
  if (s.ok()) s = StartFreshLogLocked(r);
  if (!s.ok()) {
    RemoveRecoveredTablesLocked(r.edit);
    return s;
  }
  if (in_memory) {
    // The old manifest stays in force: its log number keeps these WALs live
    // until the flush of this memtable records a later one.
    if (!r.mem->empty()) {
      imm_.push_back({r.mem, r.mem_first_log, r.max_sequence, /*first_sequence=*/0});
      r.mem = nullptr;  // imm_ holds its reference now
    }
    LOG_INFO(logger_, "DB %s: replayed %zu WAL file(s) into memory up to sequence %llu", dbname_.c_str(),
             logs.size(), static_cast<unsigned long long>(r.max_sequence));
    return base::Status::OK();
  }
  r.edit.SetLogNumber(log_->number);
  // The index goes with the manifest that makes the replayed WALs obsolete; if
  // writing it fails, the next open finds it stale (logged).
  if (merkle_enabled_) PersistMerkle(log_->number, r.max_sequence).IgnoreError();
  // Writes a fresh manifest holding the recovered state. On failure the tables
  // stay: whether the manifest naming them reached the disk is unknown.
  s = versions_->LogAndApply(&r.edit, &mu_);
  pending_outputs_.clear();  // recovery's tables: installed, or garbage if it failed
  if (!s.ok()) return s;
  if (!logs.empty()) {
    LOG_INFO(logger_, "DB %s: recovered %zu WAL file(s) up to sequence %llu", dbname_.c_str(), logs.size(),
             static_cast<unsigned long long>(r.max_sequence));
  }
  return base::Status::OK();
}

base::Status DBImpl::StartFreshLogLocked(const Recovery& r) {
  versions_->SetLastSequence(r.max_sequence);
  if (mem_ == nullptr) {
    mem_ = MemTable::NewForBudget(options_.memtable_bytes);
    mem_first_sequence_ = versions_->last_sequence() + 1;
  }
  if (log_ != nullptr) return base::Status::OK();  // an earlier attempt created it
  std::shared_ptr<LogFile> log;
  base::Status s = NewLogFileLocked(&log);
  if (s.ok()) log_ = log;
  if (s.ok() || !r.in_memory || !s.IsNoSpace()) return s;
  log_broken_ = true;  // the first write creates one
  return base::Status::OK();
}

void DBImpl::RemoveRecoveredTablesLocked(const VersionEdit& edit) {
  for (const auto& [level, meta] : edit.new_files()) {
    table_cache_->Evict(meta.number);
    env_->RemoveFile(TableFileName(dbname_, meta.number)).IgnoreError();  // garbage either way
    pending_outputs_.erase(meta.number);
  }
}

base::Status DBImpl::CheckLiveFilesExist() {
  std::set<uint64_t> live;
  versions_->AddLiveFiles(&live);
  std::vector<std::string> names;
  KV_RETURN_IF_ERROR(env_->GetChildren(dbname_, &names));
  for (const auto& name : names) {
    uint64_t number;
    FileType type;
    if (ParseFileName(name, &number, &type) && type == FileType::kTable) live.erase(number);
  }
  if (live.empty()) return base::Status::OK();
  std::string missing;
  for (uint64_t number : live) missing += (missing.empty() ? "" : ", ") + TableFileName("", number);
  return base::Status::Corruption("DB " + dbname_ + ": the manifest lists missing sstable(s): " + missing);
}

base::Status DBImpl::CheckTablesOpen() {
  // Opening a table reads and verifies its footer, index and filter blocks.
  const auto& v = versions_->current();
  for (int level = 0; level < v->num_levels(); level++) {
    for (const FileRef& f : v->files(level)) {
      auto it = table_cache_->NewIterator(ReadOptions(), f->number, f->file_size);
      KV_RETURN_IF_ERROR(it->status());
    }
  }
  return base::Status::OK();
}

namespace {

class LogReporter final : public WalReader::Reporter {
 public:
  LogReporter(base::Logger* logger, bool paranoid) : logger_(logger), paranoid_(paranoid) {}
  void Corruption(uint64_t, uint64_t bytes, const base::Status& reason) override {
    LOG_WARN(logger_, "%s%s", reason.ToString().c_str(), paranoid_ ? "" : " (skipped; paranoid_checks is off)");
    (void)bytes;
    if (paranoid_ && status.ok()) status = reason;
  }
  base::Status status;

 private:
  base::Logger* const logger_;
  const bool paranoid_;
};

}  // namespace

base::Status DBImpl::ReplayLog(uint64_t number, Recovery* r) {
  const std::string path = LogFileName(dbname_, number);
  std::unique_ptr<base::SequentialFile> file;
  KV_RETURN_IF_ERROR(env_->NewSequentialFile(path, &file));
  LogReporter reporter(logger_, options_.paranoid_checks);
  WalReader reader(file.get(), path, &reporter);
  std::string_view record;
  std::string scratch;
  while (reader.ReadRecord(&record, &scratch) && reporter.status.ok()) {
    // A record whose checksum holds but whose batch does not parse is corrupt
    // too; validating first keeps the batch all-or-nothing.
    base::Status s = WriteBatch::IterateRep(record, nullptr);
    if (!s.ok()) {
      reporter.Corruption(reader.last_record_offset(), record.size(),
                          s.WithContext(path + " at offset " + std::to_string(reader.last_record_offset())));
      continue;
    }
    if (r->mem->empty()) r->mem_first_log = number;
    KV_RETURN_IF_ERROR(r->mem->AddBatchRep(record));
    const uint32_t count = WriteBatch::CountOf(record);
    if (count > 0) {
      const SequenceNumber last = WriteBatch::SequenceOf(record) + count - 1;
      r->max_sequence = std::max(r->max_sequence, last);
      // The same marks as the write path, for writes the loaded index lacks.
      if (merkle_enabled_ && last > merkle_replay_floor_) MarkMerkleDirty(record);
    }
    // In memory mode one memtable holds everything: reads look at a bounded
    // number of memtables, and the WALs bound its size.
    if (!r->in_memory && r->mem->ApproximateMemoryUsage() >= options_.memtable_bytes) {
      KV_RETURN_IF_ERROR(WriteRecoveredTable(r));
      r->mem->Unref();
      r->mem = new MemTable();
    }
  }
  KV_RETURN_IF_ERROR(reader.status());
  KV_RETURN_IF_ERROR(reporter.status);
  if (reader.dropped_tail_bytes() > 0) {
    LOG_INFO(logger_, "WAL %s: dropped a torn tail of %llu bytes", path.c_str(),
             static_cast<unsigned long long>(reader.dropped_tail_bytes()));
  }
  return base::Status::OK();
}

base::Status DBImpl::WriteRecoveredTable(Recovery* r) {
  FileMetaData meta;
  JobStats stats;
  auto iter = r->mem->NewIterator();
  // No snapshot exists yet: keep every version (the filter only drops shadowed
  // versions below this sequence, and there are none older than the WAL).
  KV_RETURN_IF_ERROR(BuildTable(MakeJobContext(r->deletions), iter.get(), 0, 0, &meta, &stats));
  if (meta.file_size == 0) return base::Status::OK();
  KV_RETURN_IF_ERROR(env_->SyncDir(dbname_));
  r->edit.AddFile(0, meta);
  base::MutexLock l(&mu_);
  level_counters_[0].bytes_written += meta.file_size;
  return base::Status::OK();
}

}  // namespace kvring::lsm
