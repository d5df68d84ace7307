// lsm/db_impl_open.cc — opening a DB: the LOCK file, creating or recovering the
// manifest, replaying the WALs the manifest does not cover into L0 tables, a
// fresh WAL, and the background threads.
#include <algorithm>

#include "base/logging.h"
#include "base/mutex.h"
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
    RemoveObsoleteFilesLocked(/*at_open=*/true);
  }
  opened_ = true;
  flush_thread_ = std::thread([this] { FlushThread(); });
  compaction_thread_ = std::thread([this] { CompactionThread(); });
  return base::Status::OK();
}

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
  KV_RETURN_IF_ERROR(CheckLiveFilesExist());
  if (options_.paranoid_checks) KV_RETURN_IF_ERROR(CheckTablesOpen());

  // Logs at or past the manifest's log number hold writes no table has yet.
  std::vector<std::string> names;
  KV_RETURN_IF_ERROR(env_->GetChildren(dbname_, &names));
  std::vector<uint64_t> logs;
  for (const auto& name : names) {
    uint64_t number;
    FileType type;
    if (ParseFileName(name, &number, &type) && type == FileType::kLog) {
      versions_->MarkFileNumberUsed(number);
      if (number >= versions_->log_number()) logs.push_back(number);
    }
  }
  std::sort(logs.begin(), logs.end());
  VersionEdit edit;
  SequenceNumber max_sequence = versions_->last_sequence();
  MemTable* mem = new MemTable();
  mu_.Unlock();
  base::Status s;
  for (uint64_t number : logs) {
    s = ReplayLog(number, &edit, &max_sequence, &mem);
    if (!s.ok()) break;
  }
  if (s.ok() && !mem->empty()) s = WriteRecoveredTable(mem, &edit);
  mem->Unref();
  mu_.Lock();
  KV_RETURN_IF_ERROR(s);
  versions_->SetLastSequence(max_sequence);

  std::shared_ptr<LogFile> log;
  KV_RETURN_IF_ERROR(NewLogFileLocked(&log));
  log_ = log;
  mem_ = MemTable::NewForBudget(options_.memtable_bytes);
  edit.SetLogNumber(log->number);
  // Writes a fresh manifest holding the recovered state.
  s = versions_->LogAndApply(&edit, &mu_);
  pending_outputs_.clear();  // recovery's tables: installed, or garbage if it failed
  if (!s.ok()) return s;
  if (!logs.empty()) {
    LOG_INFO(logger_, "DB %s: recovered %zu WAL file(s) up to sequence %llu", dbname_.c_str(), logs.size(),
             static_cast<unsigned long long>(max_sequence));
  }
  return base::Status::OK();
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

base::Status DBImpl::ReplayLog(uint64_t number, VersionEdit* edit, SequenceNumber* max_sequence, MemTable** mem) {
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
    KV_RETURN_IF_ERROR((*mem)->AddBatchRep(record));
    const uint32_t count = WriteBatch::CountOf(record);
    if (count > 0) {
      *max_sequence = std::max(*max_sequence, WriteBatch::SequenceOf(record) + count - 1);
    }
    if ((*mem)->ApproximateMemoryUsage() >= options_.memtable_bytes) {
      KV_RETURN_IF_ERROR(WriteRecoveredTable(*mem, edit));
      (*mem)->Unref();
      *mem = new MemTable();
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

base::Status DBImpl::WriteRecoveredTable(MemTable* mem, VersionEdit* edit) {
  FileMetaData meta;
  JobStats stats;
  auto iter = mem->NewIterator();
  // No snapshot exists yet: keep every version (the filter only drops shadowed
  // versions below this sequence, and there are none older than the WAL).
  KV_RETURN_IF_ERROR(BuildTable(MakeJobContext(), iter.get(), 0, 0, &meta, &stats));
  if (meta.file_size == 0) return base::Status::OK();
  KV_RETURN_IF_ERROR(env_->SyncDir(dbname_));
  edit->AddFile(0, meta);
  base::MutexLock l(&mu_);
  level_counters_[0].bytes_written += meta.file_size;
  return base::Status::OK();
}

}  // namespace kvring::lsm
