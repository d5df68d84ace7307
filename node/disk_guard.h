// node/disk_guard.h — a node's read-only mode for a full disk
// (docs/operations.md, "A full disk").
//
// Every file the node writes under DATA goes through env(), which watches the
// writes (base/watched_env.h): a NoSpace (ENOSPC) met there, at start or while
// running, makes the node read-only. It then keeps serving reads and answers
// every write it is asked to coordinate or to store with Refusal(), so the
// client or the coordinator goes to the other replicas (and they keep hints for
// this node). While read-only, Check() — run every second on an I/O thread —
// first writes a probe file of kProbeBytes into DATA, then retries what the
// start could not write (AddRetry: DATA/node_state); when all succeed, the node
// takes writes again. Both transitions are logged, and counted in StatsText().
// Thread safety: thread-safe. read_only() is one atomic load (the request path).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "base/watched_env.h"

namespace kvring::node {

class DiskGuard {
 public:
  static constexpr uint64_t kProbeBytes = 1 << 20;
  static constexpr char kProbeFileName[] = "disk_probe";

  // *target, *clock and *logger must outlive the guard. data_dir: DATA.
  DiskGuard(base::Env* target, std::string data_dir, base::Clock* clock, base::Logger* logger);
  DiskGuard(const DiskGuard&) = delete;
  DiskGuard& operator=(const DiskGuard&) = delete;

  // The Env for everything under DATA.
  base::Env* env() { return &env_; }

  bool read_only() const { return read_only_.load(std::memory_order_acquire); }
  // The answer to a write while read-only:
  // "NoSpace: this node's disk is full (DATA): it serves reads only".
  base::Status Refusal() const;
  // Enters read-only mode (logged once per entry) when cause is NoSpace.
  void OnFailedWrite(const base::Status& cause);
  // A write that must succeed before the node leaves read-only mode; dropped
  // once it has. `what` names it in the log.
  void AddRetry(std::string what, std::function<base::Status()> retry);
  // Blocks on the disk (an I/O thread). While read-only: the probe, then the
  // retries; leaves read-only mode when all succeed. Concurrent calls: one runs.
  void Check();
  // "disk_read_only 0|1", "disk_full_events N" (entries into read-only mode),
  // "disk_read_only_ms N" (how long the current one has lasted), one per line.
  std::string StatsText() const;

 private:
  struct Retry {
    std::string what;
    std::function<base::Status()> fn;
  };
  base::Status WriteProbe();
  base::Status RunRetries();
  void Leave();

  const std::string data_dir_;
  base::Env* const target_;
  base::Clock* const clock_;
  base::Logger* const logger_;
  base::WatchedEnv env_;
  std::atomic<bool> read_only_{false};
  std::atomic<bool> checking_{false};
  mutable base::Mutex mu_;
  std::vector<Retry> retries_ GUARDED_BY(mu_);
  std::string cause_ GUARDED_BY(mu_);  // what made it read-only
  uint64_t since_us_ GUARDED_BY(mu_) = 0;
  uint64_t entries_ GUARDED_BY(mu_) = 0;
};

}  // namespace kvring::node
