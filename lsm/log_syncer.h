// lsm/log_syncer.h — group commit: makes WAL bytes durable on a dedicated thread
// so that writers (and an event loop using WriteCallback) never block the WAL
// append path on an fdatasync.
//
// The write leader appends a group's record to the current LogFile through its
// append handle, flushes it to the OS and calls Published(). The syncer thread
// calls Sync() on a second handle of the same file (fdatasync covers every byte
// written to the file before the call, whichever descriptor wrote it), so the
// next group's append runs concurrently with the running fdatasync, and one
// fdatasync covers every writer that published before it started.
//
// A failed fdatasync poisons its LogFile: nothing past the bytes already synced
// will ever be reported durable (the page cache may have dropped them), every
// waiter and callback on it gets the error, and the DB rolls to a new log.
// Modes: kAlways/requested syncs run as soon as someone waits; kInterval adds a
// periodic sync of whatever was published; kNone syncs only on request.
// One sync runs at a time (syncing_). A blocking waiter (WaitDurable) that finds
// no sync running runs the fdatasync itself on its own thread instead of waking
// the syncer and sleeping (two thread hand-offs per durable write otherwise);
// waiters arriving meanwhile wait for it and the next one uncovered goes next.
// Callbacks always run on the syncer thread.
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "lsm/engine.h"
#include "lsm/wal_writer.h"

namespace kvring::lsm {

// One WAL file. The leader owns `file` and `writer`; `sync_file` belongs to
// whoever runs the current sync (LogSyncer::syncing_); the sync state is
// guarded by the LogSyncer's mutex.
struct LogFile {
  uint64_t number = 0;
  std::string path;
  std::unique_ptr<base::WritableFile> file;       // appends (write leader only)
  std::unique_ptr<base::WritableFile> sync_file;  // fdatasync (whoever runs the sync: syncing_)
  std::unique_ptr<WalWriter> writer;
  // Bytes handed to the OS: stored by the leader without the syncer's lock.
  std::atomic<uint64_t> published{0};
  // Set with `error`: lets the write path check for a poisoned log lock-free.
  std::atomic<bool> failed{false};
  // Guarded by LogSyncer::mu_.
  uint64_t requested = 0;  // bytes someone waits to see durable
  uint64_t synced = 0;     // bytes known durable
  base::Status error;      // a failed sync: nothing past `synced` becomes durable
  bool retired = false;    // no longer appended to
  // Set by a failed flush of a manual_wal_flush buffer (by the write leader,
  // before `published` could cover the bytes): what strands the acks past it.
  // Written and read under the DB mutex.
  base::Status flush_error;

  // Creates path and opens both handles.
  static base::Status Create(base::Env* env, const std::string& path, uint64_t number,
                             std::shared_ptr<LogFile>* out);
};

class LogSyncer {
 public:
  // interval_ms matters in kInterval mode only. Starts the syncer thread.
  LogSyncer(SyncMode mode, uint32_t interval_ms, base::Logger* logger);
  LogSyncer(const LogSyncer&) = delete;
  LogSyncer& operator=(const LogSyncer&) = delete;
  // Syncs every pending request, resolves every callback, stops the thread.
  ~LogSyncer();

  // Starts tracking a new current log; the previous one is retired (its
  // pending requests are still served).
  void AddLog(std::shared_ptr<LogFile> log);
  // The leader flushed log's bytes [0, end) to the OS.
  void Published(LogFile* log, uint64_t end);
  // Blocks until log's bytes [0, end) are durable (OK) or never will be (error).
  base::Status WaitDurable(const std::shared_ptr<LogFile>& log, uint64_t end);
  // Calls cb from the syncer thread once [0, end) is durable or failed.
  void NotifyWhenDurable(const std::shared_ptr<LogFile>& log, uint64_t end, WriteCallback cb);
  // Syncs every tracked log up to what was published; the first error.
  base::Status SyncAll();
  // The log's sync error (OK when none).
  base::Status ErrorOf(const LogFile* log);
  static bool Failed(const LogFile* log) { return log->failed.load(std::memory_order_acquire); }

  uint64_t syncs() const;

 private:
  struct Pending {
    std::shared_ptr<LogFile> log;
    uint64_t end;
    WriteCallback cb;
  };

  void Run();
  // Syncs log up to what is published now, with mu_ released during the
  // fdatasync; records the result and wakes waiters. REQUIRES: !syncing_.
  void SyncLocked(const std::shared_ptr<LogFile>& log)
      EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The log to sync next and up to where; null when nothing is due.
  std::shared_ptr<LogFile> PickLocked(bool interval_due) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves callbacks that can be resolved into *ready.
  void CollectReadyLocked(std::vector<std::pair<WriteCallback, base::Status>>* ready) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PruneLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A retired log with nothing left to sync or deliver.
  bool ForgettableLocked(const std::shared_ptr<LogFile>& log) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TrackLocked(const std::shared_ptr<LogFile>& log) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Resolved(const LogFile& log, uint64_t end) const EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return log.synced >= end || !log.error.ok();
  }

  const SyncMode mode_;
  const uint32_t interval_ms_;
  base::Logger* const logger_;
  mutable base::Mutex mu_;
  base::CondVar work_cv_;  // wakes the syncer
  base::CondVar done_cv_;  // wakes waiters
  std::vector<std::shared_ptr<LogFile>> logs_ GUARDED_BY(mu_);
  std::deque<Pending> pending_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool syncing_ GUARDED_BY(mu_) = false;  // an fdatasync runs (syncer or a waiter)
  uint64_t syncs_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace kvring::lsm
