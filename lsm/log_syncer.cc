#include "lsm/log_syncer.h"

#include <algorithm>
#include <chrono>

#include "base/logging.h"
#include "base/thread_pool.h"

namespace kvring::lsm {

base::Status LogFile::Create(base::Env* env, const std::string& path, uint64_t number,
                             std::shared_ptr<LogFile>* out) {
  auto log = std::make_shared<LogFile>();
  log->number = number;
  log->path = path;
  KV_RETURN_IF_ERROR(env->NewWritableFile(path, &log->file));
  base::Status s = env->NewAppendableFile(path, &log->sync_file);
  if (!s.ok()) {
    log->file->Close().IgnoreError();  // the log is abandoned; s is reported
    return s;
  }
  log->writer = std::make_unique<WalWriter>(log->file.get());
  *out = std::move(log);
  return base::Status::OK();
}

LogSyncer::LogSyncer(SyncMode mode, uint32_t interval_ms, base::Logger* logger)
    : mode_(mode), interval_ms_(std::max<uint32_t>(1, interval_ms)), logger_(logger) {
  thread_ = std::thread([this] {
    base::NameCurrentThread("kv-walsync");
    Run();
  });
}

LogSyncer::~LogSyncer() {
  SyncAll().IgnoreError();  // failures already reached the waiters and callbacks
  {
    base::MutexLock l(&mu_);
    stop_ = true;
  }
  work_cv_.SignalAll();
  thread_.join();
  // Anything still pending (a callback registered after the last sync) resolves now.
  std::vector<std::pair<WriteCallback, base::Status>> ready;
  {
    base::MutexLock l(&mu_);
    for (auto& p : pending_) {
      base::Status s = Resolved(*p.log, p.end) && p.log->error.ok()
                           ? base::Status::OK()
                           : p.log->error.ok() ? base::Status::Aborted("DB closed before the write was synced")
                                               : p.log->error;
      ready.emplace_back(std::move(p.cb), s);
    }
    pending_.clear();
  }
  for (auto& [cb, s] : ready) cb(s);
}

void LogSyncer::AddLog(std::shared_ptr<LogFile> log) {
  base::MutexLock l(&mu_);
  for (auto& old : logs_) old->retired = true;
  logs_.push_back(std::move(log));
  PruneLocked();
}

void LogSyncer::PruneLocked() {
  // A retired log is forgotten once nothing is left to sync (in kNone mode:
  // once nobody waits for it).
  // A loop, not remove_if with a lambda: the thread-safety analysis cannot see
  // that a lambda runs with mu_ held.
  size_t kept = 0;
  for (size_t i = 0; i < logs_.size(); ++i) {
    if (ForgettableLocked(logs_[i])) continue;
    if (kept != i) logs_[kept] = std::move(logs_[i]);
    ++kept;
  }
  logs_.resize(kept);
}

bool LogSyncer::ForgettableLocked(const std::shared_ptr<LogFile>& log) const {
  if (!log->retired || !Resolved(*log, log->requested)) return false;
  if (mode_ != SyncMode::kNone && !Resolved(*log, log->published.load(std::memory_order_acquire))) return false;
  for (const auto& p : pending_) {
    if (p.log == log) return false;
  }
  return true;
}

void LogSyncer::TrackLocked(const std::shared_ptr<LogFile>& log) {
  // A retired log may have been forgotten (kNone prunes eagerly): a new request
  // brings it back.
  if (std::find(logs_.begin(), logs_.end(), log) == logs_.end()) logs_.push_back(log);
}

void LogSyncer::Published(LogFile* log, uint64_t end) {
  // Only the write leader stores; the syncer reads it when it picks work.
  log->published.store(end, std::memory_order_release);
}

base::Status LogSyncer::WaitDurable(const std::shared_ptr<LogFile>& log, uint64_t end) {
  base::MutexLock l(&mu_);
  if (!Resolved(*log, end)) {
    TrackLocked(log);
    log->requested = std::max(log->requested, end);
    while (!Resolved(*log, end)) {
      if (!syncing_) {
        // Nobody is syncing: this waiter would only sleep through a hand-off
        // to the syncer thread and back, so it runs the fdatasync itself (it
        // covers every writer published so far, like the syncer's would).
        SyncLocked(log);
        // Callbacks it resolved are the syncer's to run; wake it only then (a
        // wake-up per durable write would cost what the inline sync saves).
        if (!pending_.empty()) work_cv_.Signal();
      } else {
        done_cv_.Wait(&mu_);  // the running sync may cover us; else we go next
      }
    }
  }
  return log->synced >= end ? base::Status::OK() : log->error;
}

void LogSyncer::SyncLocked(const std::shared_ptr<LogFile>& log) {
  syncing_ = true;
  const uint64_t target = log->published.load(std::memory_order_acquire);
  mu_.Unlock();
  base::Status s = log->sync_file->Sync();
  mu_.Lock();
  syncing_ = false;
  if (s.ok()) {
    log->synced = std::max(log->synced, target);
    syncs_++;
  } else if (log->error.ok()) {
    log->error = s;
    log->failed.store(true, std::memory_order_release);
    LOG_ERROR(logger_, "WAL %s: %s; its unsynced writes are reported failed", log->path.c_str(),
              s.ToString().c_str());
  }
  done_cv_.SignalAll();
}

void LogSyncer::NotifyWhenDurable(const std::shared_ptr<LogFile>& log, uint64_t end, WriteCallback cb) {
  base::MutexLock l(&mu_);
  if (Resolved(*log, end)) {
    base::Status s = log->synced >= end ? base::Status::OK() : log->error;
    l.Unlock();
    cb(s);
    return;
  }
  TrackLocked(log);
  log->requested = std::max(log->requested, end);
  pending_.push_back({log, end, std::move(cb)});
  work_cv_.Signal();
}

base::Status LogSyncer::SyncAll() {
  std::vector<std::pair<std::shared_ptr<LogFile>, uint64_t>> targets;
  {
    base::MutexLock l(&mu_);
    for (const auto& log : logs_) targets.emplace_back(log, log->published.load(std::memory_order_acquire));
  }
  base::Status first;
  for (const auto& [log, end] : targets) {
    base::Status s = WaitDurable(log, end);
    if (first.ok()) first = s;
  }
  return first;
}

base::Status LogSyncer::ErrorOf(const LogFile* log) {
  base::MutexLock l(&mu_);
  return log->error;
}

uint64_t LogSyncer::syncs() const {
  base::MutexLock l(&mu_);
  return syncs_;
}

std::shared_ptr<LogFile> LogSyncer::PickLocked(bool interval_due) {
  if (syncing_) return nullptr;  // a waiter is syncing; it wakes us when done
  for (const auto& log : logs_) {
    if (!log->error.ok()) continue;
    if (log->requested > log->synced) return log;
    if (interval_due && log->published.load(std::memory_order_acquire) > log->synced) return log;
  }
  return nullptr;
}

void LogSyncer::CollectReadyLocked(std::vector<std::pair<WriteCallback, base::Status>>* ready) {
  // Callbacks resolve in order per log; a later log's callback may wait on an
  // earlier one's, which is fine: each is resolved as soon as its bytes are.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (Resolved(*it->log, it->end)) {
      ready->emplace_back(std::move(it->cb), it->log->synced >= it->end ? base::Status::OK() : it->log->error);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void LogSyncer::Run() {
  using Clock = std::chrono::steady_clock;
  auto next_interval = Clock::now() + std::chrono::milliseconds(interval_ms_);
  base::MutexLock l(&mu_);
  while (true) {
    // Callbacks resolved by a waiter's own sync are delivered here.
    std::vector<std::pair<WriteCallback, base::Status>> resolved;
    CollectReadyLocked(&resolved);
    if (!resolved.empty()) {
      PruneLocked();
      l.Unlock();
      for (auto& [cb, status] : resolved) cb(status);
      l.Lock();
      continue;
    }
    const bool interval_due = mode_ == SyncMode::kInterval && Clock::now() >= next_interval;
    std::shared_ptr<LogFile> log = PickLocked(interval_due);
    if (log == nullptr) {
      if (interval_due && !syncing_) next_interval = Clock::now() + std::chrono::milliseconds(interval_ms_);
      if (stop_ && !syncing_) break;
      if (mode_ == SyncMode::kInterval) {
        work_cv_.WaitUntil(&mu_, next_interval);
      } else {
        work_cv_.Wait(&mu_);
      }
      continue;
    }
    SyncLocked(log);
    if (interval_due) next_interval = Clock::now() + std::chrono::milliseconds(interval_ms_);
    std::vector<std::pair<WriteCallback, base::Status>> ready;
    CollectReadyLocked(&ready);
    PruneLocked();
    if (!ready.empty()) {
      l.Unlock();
      for (auto& [cb, status] : ready) cb(status);
      l.Lock();
    }
  }
}

}  // namespace kvring::lsm
