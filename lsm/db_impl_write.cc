// lsm/db_impl_write.cc — DBImpl's write path: the writer queue and group commit.
//
// Every write enqueues a Writer. The front writer is the leader: it makes room
// (memtable rotation, L0 slowdown/stop), merges the queued batches into one WAL
// record (group_rep_), appends and flushes it to the OS with the mutex released,
// inserts the ops into the memtable (it is the memtable's only writer), publishes
// the new last sequence and hands the outcome to every writer of its group.
// Durability is then each writer's own business: none needed, wait for the
// syncer, or a callback from the syncer (lsm/log_syncer.h).
#include <cassert>

#include "base/coding.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "lsm/db_impl.h"
#include "lsm/filename.h"

namespace kvring::lsm {

namespace {
constexpr int kWriterSpins = 1000;  // a few microseconds of pause instructions
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

struct DBImpl::Writer {
  WriteBatch* batch = nullptr;  // a batch, or the single op below
  ValueKind kind = ValueKind::kValue;
  std::string_view key;
  std::string_view value;
  bool force_rotate = false;  // Flush(): rotate the memtable, write nothing
  bool flush_wal = false;     // FlushWal(): hand the WAL buffer to the OS, write nothing
  const std::vector<KeyRange>* ranges = nullptr;  // DeleteRanges: write nothing else
  bool done = false;
  base::Status status;
  std::shared_ptr<LogFile> log;  // where the write's record went
  uint64_t log_end = 0;          // ... and the byte it ends at
  base::CondVar cv;
  // Set (under mu_) with every cv signal: lets a waiter spin on it unlocked.
  std::atomic<bool> signaled{false};

  size_t payload_bytes() const {
    return batch != nullptr ? batch->ApproximateSize() - WriteBatch::kHeaderBytes : key.size() + value.size() + 11;
  }
  uint32_t count() const { return batch != nullptr ? batch->Count() : 1; }
  // Leads alone: never merged into another writer's group.
  bool writes_nothing() const { return force_rotate || flush_wal || ranges != nullptr; }
};

base::Status DBImpl::Put(const WriteOptions& options, std::string_view key, std::string_view value) {
  Writer w;
  w.kind = ValueKind::kValue;
  w.key = key;
  w.value = value;
  return WriteInternal(options, &w, nullptr);
}

base::Status DBImpl::Delete(const WriteOptions& options, std::string_view key) {
  Writer w;
  w.kind = ValueKind::kDeletion;
  w.key = key;
  return WriteInternal(options, &w, nullptr);
}

base::Status DBImpl::Write(const WriteOptions& options, WriteBatch* batch, WriteCallback on_durable) {
  if (batch == nullptr) return base::Status::InvalidArgument("Write: null batch");
  Writer w;
  w.batch = batch;
  return WriteInternal(options, &w, std::move(on_durable));
}

base::Status DBImpl::DeleteRanges(const std::vector<KeyRange>& ranges) {
  std::vector<KeyRange> deleted;
  for (size_t i = 0; i < ranges.size(); i++) {
    const KeyRange& r = ranges[i];
    if (r.end.empty() || r.begin < r.end) {
      deleted.push_back(r);
    } else if (r.begin != r.end) {
      return base::Status::InvalidArgument("DeleteRange: range " + std::to_string(i) + " begins (" +
                                           std::to_string(r.begin.size()) + " bytes) after it ends (" +
                                           std::to_string(r.end.size()) + " bytes)");
    }
  }
  if (deleted.empty()) return base::Status::OK();
  Writer w;
  w.ranges = &deleted;
  return WriteInternal(WriteOptions(), &w, nullptr);
}

base::Status DBImpl::LeadRangeDeleteLocked(const std::vector<KeyRange>& ranges) {
  KV_RETURN_IF_ERROR(MakeRoomForWrite(/*force=*/true));
  // Every write so far is now in an immutable memtable or a table: the fresh
  // memtable holds only writes after the deletion.
  const SequenceNumber sequence = versions_->last_sequence();
  mem_first_sequence_ = sequence + 1;
  if (sequence == 0) return base::Status::OK();  // nothing was ever written
  VersionEdit edit;
  for (const KeyRange& r : ranges) edit.AddRangeDeletion(r.begin, r.end, sequence);
  KV_RETURN_IF_ERROR(versions_->LogAndApply(&edit, &mu_).WithContext("DeleteRange"));
  range_deletes_++;
  range_work_pending_ = true;
  bg_cv_.SignalAll();
  // After it is visible, as for writes: a recompute that read the old epoch stores nothing.
  if (merkle_enabled_) {
    for (const KeyRange& r : ranges) MarkMerkleRangeDirty(r.begin, r.end);
  }
  return base::Status::OK();
}

base::Status DBImpl::Flush() {
  Writer w;
  w.force_rotate = true;
  KV_RETURN_IF_ERROR(WriteInternal(WriteOptions(), &w, nullptr));
  base::MutexLock l(&mu_);
  if (imm_.empty()) return base::Status::OK();
  const uint64_t target = imm_.back().log_number;  // everything up to the rotation
  while (!imm_.empty() && imm_.front().log_number <= target) {
    if (shutting_down_.load()) return base::Status::Aborted("shutting down");
    if (!flush_error_.ok()) return flush_error_;
    bg_cv_.Wait(&mu_);
  }
  return base::Status::OK();
}

base::Status DBImpl::BackgroundErrorLocked() const {
  if (!flush_error_.ok()) return flush_error_;
  return compaction_error_;
}

DBImpl::Writer* DBImpl::BuildGroupLocked(std::string_view* record) {
  Writer* first = writers_.front();
  const SequenceNumber sequence = versions_->last_sequence() + 1;
  if (first->batch != nullptr && (writers_.size() == 1 || writers_[1]->writes_nothing())) {
    first->batch->set_sequence(sequence);  // the batch alone: its rep is the record
    *record = first->batch->rep();
    return first;
  }
  // Cap the group so one small write does not wait behind a huge record.
  size_t max_bytes = 1 << 20;
  if (first->payload_bytes() <= (128 << 10)) max_bytes = first->payload_bytes() + (128 << 10);
  group_rep_.resize(WriteBatch::kHeaderBytes);
  uint32_t count = 0;
  size_t bytes = 0;
  Writer* last = first;
  for (Writer* w : writers_) {
    if (w->writes_nothing()) break;
    if (w != first && bytes + w->payload_bytes() > max_bytes) break;
    bytes += w->payload_bytes();
    count += w->count();
    if (w->batch != nullptr) {
      group_rep_.append(w->batch->rep(), WriteBatch::kHeaderBytes, std::string::npos);
    } else {
      group_rep_.push_back(static_cast<char>(w->kind));
      base::PutLengthPrefixed(&group_rep_, w->key);
      if (w->kind == ValueKind::kValue) base::PutLengthPrefixed(&group_rep_, w->value);
    }
    last = w;
  }
  WriteBatch::SetSequenceOf(&group_rep_, sequence);
  WriteBatch::SetCountOf(&group_rep_, count);
  *record = group_rep_;
  return last;
}

base::Status DBImpl::WriteInternal(const WriteOptions& options, Writer* w, WriteCallback on_durable) {
  base::MutexLock l(&mu_);
  writers_.push_back(w);
  while (!w->done && w != writers_.front()) {
    // A leader's group takes a few microseconds: spin for about that long before
    // a futex sleep and wake-up, which cost more (event loops on several threads
    // write concurrently).
    l.Unlock();
    for (int i = 0; i < kWriterSpins && !w->signaled.load(std::memory_order_acquire); i++) CpuRelax();
    l.Lock();
    w->signaled.store(false, std::memory_order_relaxed);
    if (!w->done && w != writers_.front()) w->cv.Wait(&mu_);
  }
  if (!w->done) {
    // The leader: write for the group, then hand every member its outcome.
    Writer* last = w;
    std::shared_ptr<LogFile> log;
    uint64_t end = 0;
    const base::Status s = LeadGroupLocked(w, &last, &log, &end);
    while (true) {
      Writer* ready = writers_.front();
      writers_.pop_front();
      ready->status = s;
      ready->log = log;
      ready->log_end = end;
      ready->done = true;
      if (ready != w) {
        ready->signaled.store(true, std::memory_order_release);
        ready->cv.Signal();
      }
      if (ready == last) break;
    }
    if (!writers_.empty()) {
      writers_.front()->signaled.store(true, std::memory_order_release);
      writers_.front()->cv.Signal();
    }
  }
  l.Unlock();
  if (!w->status.ok() || w->writes_nothing()) return w->status;
  return AwaitDurability(options, w, std::move(on_durable));
}

base::Status DBImpl::LeadGroupLocked(Writer* w, Writer** last,
                                     std::shared_ptr<LogFile>* log_out, uint64_t* end) {
  if (w->ranges != nullptr) return LeadRangeDeleteLocked(*w->ranges);
  if (w->flush_wal) {
    *log_out = log_;
    if (!wal_buffered_) return base::Status::OK();
    wal_buffered_ = false;
    std::shared_ptr<LogFile> log = log_;
    mu_.Unlock();
    base::Status s = FlushLogBuffer(log.get());
    mu_.Lock();
    if (!s.ok()) {
      // The buffer may have gone out in part: roll to a fresh WAL, as after a failed append.
      log->flush_error = s.WithContext("WAL flush");
      log_broken_ = true;
      LOG_ERROR(logger_, "%s", log->flush_error.ToString().c_str());
      return log->flush_error;
    }
    return s;
  }
  base::Status s = MakeRoomForWrite(w->force_rotate);
  std::shared_ptr<LogFile> log = log_;
  *log_out = log;
  if (!s.ok() || w->force_rotate) return s;
  std::string_view record;
  *last = BuildGroupLocked(&record);
  const uint32_t count = WriteBatch::CountOf(record);
  const SequenceNumber first_sequence = WriteBatch::SequenceOf(record);
  MemTable* mem = mem_;
  const uint64_t wal_before = log->writer->file_bytes();
  // With manual_wal_flush the record waits in the buffer for FlushWal (writes
  // needing a sync flush it themselves, in AwaitDurability).
  const bool defer_flush = DefersWalFlush();
  mu_.Unlock();
  if (count > 0) {
    s = log->writer->AddRecord(record);
    if (s.ok() && !defer_flush) s = FlushLogBuffer(log.get());
    if (s.ok()) s = mem->AddBatchRep(record);  // our own encoding: cannot fail
  }
  *end = log->writer->file_bytes();
  mu_.Lock();
  if (defer_flush && count > 0) {
    wal_buffered_ = true;
    flush_needed_.store(true, std::memory_order_release);
  }
  if (!s.ok()) {
    // Roll to a fresh WAL before the next write: this one may end in a partial
    // record, which recovery drops as a torn tail.
    log_broken_ = true;
    s = s.WithContext("WAL append");
    LOG_ERROR(logger_, "%s", s.ToString().c_str());
    return s;
  }
  if (count > 0) {
    versions_->SetLastSequence(first_sequence + count - 1);  // now visible
    // Only now: a leaf recompute that read the epoch before this mark has a
    // snapshot that includes the write (db_impl_merkle.cc).
    if (merkle_enabled_) MarkMerkleDirty(record);
  }
  writes_++;
  user_bytes_ += record.size() - WriteBatch::kHeaderBytes;
  wal_bytes_ += *end - wal_before;
  return s;
}

base::Status DBImpl::AwaitDurability(const WriteOptions& options, Writer* w, WriteCallback on_durable) {
  const bool need_sync = options_.sync_mode == SyncMode::kAlways || options.sync;
  if (need_sync && DefersWalFlush()) {
    KV_RETURN_IF_ERROR(FlushWal());  // the syncer covers only what reached the OS
  }
  if (on_durable) {
    if (need_sync) {
      syncer_->NotifyWhenDurable(w->log, w->log_end, std::move(on_durable));
    } else if (DefersWalFlush()) {
      base::MutexLock l(&mu_);
      unflushed_acks_.push_back({w->log, w->log_end, std::move(on_durable)});
      flush_needed_.store(true, std::memory_order_release);
    } else {
      on_durable(base::Status::OK());
    }
    return base::Status::OK();
  }
  if (!need_sync) return base::Status::OK();
  return syncer_->WaitDurable(w->log, w->log_end);
}

base::Status DBImpl::FlushWal() {
  if (!DefersWalFlush()) return base::Status::OK();
  // Nothing buffered and no ack waiting: the event loop calls this every
  // iteration, so skip the writer queue. (A write racing this check is covered
  // by the next call, as an ack appended after a flush is.)
  if (!flush_needed_.load(std::memory_order_acquire)) return base::Status::OK();
  Writer w;
  w.flush_wal = true;
  const base::Status s = WriteInternal(WriteOptions(), &w, nullptr);
  std::vector<UnflushedAck> acks;
  std::vector<base::Status> outcomes;
  {
    base::MutexLock l(&mu_);
    std::vector<UnflushedAck> waiting;
    for (UnflushedAck& ack : unflushed_acks_) {
      if (ack.log->published.load(std::memory_order_acquire) >= ack.end) {
        outcomes.push_back(base::Status::OK());
      } else if (!ack.log->flush_error.ok()) {
        outcomes.push_back(ack.log->flush_error);
      } else {
        // Appended by another thread's group after this flush ran: the next
        // FlushWal covers it (a retired log was flushed when it was retired).
        waiting.push_back(std::move(ack));
        continue;
      }
      acks.push_back(std::move(ack));
    }
    unflushed_acks_.swap(waiting);
    flush_needed_.store(wal_buffered_ || !unflushed_acks_.empty(), std::memory_order_release);
  }
  for (size_t i = 0; i < acks.size(); i++) acks[i].callback(outcomes[i]);
  return s;
}

base::Status DBImpl::FlushLogBuffer(LogFile* log) {
  KV_RETURN_IF_ERROR(log->file->Flush());
  syncer_->Published(log, log->writer->file_bytes());
  return base::Status::OK();
}

base::Status DBImpl::MakeRoomForWrite(bool force) {
  bool allow_delay = !force;
  bool stalled = false;
  uint64_t stall_start = 0;
  base::Status s;
  while (true) {
    if (shutting_down_.load(std::memory_order_acquire)) {
      s = base::Status::Aborted("DB is shutting down");
      break;
    }
    const bool broken = log_broken_ || log_ == nullptr || LogSyncer::Failed(log_.get());
    const int l0_files = versions_->current()->NumFiles(0);
    if (!broken && allow_delay && l0_files >= options_.l0_slowdown_trigger) {
      // Spread the delay over many writes rather than stopping one for long.
      mu_.Unlock();
      options_.clock->SleepMicros(1000);
      mu_.Lock();
      allow_delay = false;
      slowdowns_++;
      stall_micros_ += 1000;
      continue;
    }
    const bool full = mem_->ApproximateMemoryUsage() >= options_.memtable_bytes;
    if (!broken && !full && !(force && !mem_->empty())) break;
    const bool needs_imm_slot = !mem_->empty();
    const bool wait_imm = needs_imm_slot && static_cast<int>(imm_.size()) >= options_.max_immutable_memtables;
    const bool wait_l0 = !broken && l0_files >= options_.l0_stop_trigger;
    if (wait_imm || wait_l0) {
      // Waiting would be for background work; if that work is failing, say so
      // now instead of blocking until it recovers.
      base::Status bg = BackgroundErrorLocked();
      if (!bg.ok()) {
        s = bg.WithContext("write stalled on failing background work");
        break;
      }
      if (!stalled) {
        stalled = true;
        stops_++;
        stall_start = options_.clock->NowMicros();
      }
      bg_cv_.Wait(&mu_);
      continue;
    }
    s = RotateLocked();
    if (!s.ok()) break;
    force = false;
  }
  if (stalled) stall_micros_ += options_.clock->NowMicros() - stall_start;
  return s;
}

base::Status DBImpl::RotateLocked() {
  std::shared_ptr<LogFile> log;
  KV_RETURN_IF_ERROR(NewLogFileLocked(&log));
  std::shared_ptr<LogFile> old = log_;
  if (old == nullptr) {
    // Opened on a full disk without a WAL: no write has been applied since.
    assert(mem_->empty());
    log_ = std::move(log);
    log_broken_ = false;
    return base::Status::OK();
  }
  if (wal_buffered_) {
    // manual_wal_flush: the old log's buffered records go to the OS before it is
    // closed (we are the write leader: nobody appends meanwhile). A failure leaves
    // their acks failed; the records themselves are in the memtable retired below.
    wal_buffered_ = false;
    if (old->flush_error.ok()) {
      base::Status s = FlushLogBuffer(old.get());
      if (!s.ok()) {
        old->flush_error = s.WithContext("WAL flush");
        LOG_ERROR(logger_, "%s", old->flush_error.ToString().c_str());
      }
    }
  }
  // Every record reached the OS by now; the syncer keeps its own handle.
  old->file->Close().IgnoreError();  // no more appends; durability is the syncer's
  if (!mem_->empty()) {
    imm_.push_back({mem_, old->number, versions_->last_sequence(), mem_first_sequence_});
    mem_ = MemTable::NewForBudget(options_.memtable_bytes);
    mem_first_sequence_ = versions_->last_sequence() + 1;
    bg_cv_.SignalAll();
  }
  log_ = std::move(log);
  log_broken_ = false;
  return base::Status::OK();
}

base::Status DBImpl::NewLogFileLocked(std::shared_ptr<LogFile>* log) {
  const uint64_t number = versions_->NewFileNumber();
  const std::string path = LogFileName(dbname_, number);
  mu_.Unlock();
  base::Status s = LogFile::Create(env_, path, number, log);
  // The new log's directory entry must survive a power loss before any write
  // acknowledged through it does.
  if (s.ok()) s = env_->SyncDir(dbname_);
  mu_.Lock();
  if (!s.ok()) {
    *log = nullptr;
    return s.WithContext("creating WAL " + path);
  }
  syncer_->AddLog(*log);
  return base::Status::OK();
}

}  // namespace kvring::lsm
