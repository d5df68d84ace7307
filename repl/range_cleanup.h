// repl/range_cleanup.h — cleanup: a node deletes the token ranges it no longer
// replicates (after a join took them over, a decommission's ring, a weight
// change) as engine range deletes, all in one lsm::DB::DeleteRanges (one manifest
// write and one memtable rotation for every arc; whole tables dropped
// unread, straddling ones rewritten), not key by key.
//
// Refused while the cluster is in transition: the ring after the change may give
// the ranges back, and pending writes may be on their way. Automatic: when a
// membership change ends (the view's transition is gone) and this node
// replicates less than before it, a cleanup runs `delay_us` later (kvnode
// --cleanup-delay-ms, 60 s by default; 0: only kvctl cleanup), or once the next
// change is done if one runs then. Only after a change: a node that forms a new
// cluster and learns its members one by one replicates less with each, but the
// writes it took alone before are not garbage. The wait is for coordinators that
// have not heard of the new ring yet and still read the old owners, and for the
// operator who wants to undo a change.
// Hints live in their own engine (docs/formats/layout.md): a cleanup never
// touches them.
// Thread safety: executor thread (kvnode: loop 0), except the range deletes,
// which run on the I/O executor.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/status.h"
#include "lsm/engine.h"
#include "repl/transport.h"
#include "ring/membership_view.h"

namespace kvring::repl {

struct CleanupOptions {
  std::string self;
  uint64_t delay_us = 60'000'000;  // 0: no automatic cleanup
};

struct CleanupStats {
  uint64_t runs = 0;            // cleanups that deleted something
  uint64_t ranges_deleted = 0;  // token ranges deleted over all runs
};

class RangeCleaner {
 public:
  // The ranges deleted, or why not.
  using Done = std::function<void(base::Status, std::vector<ring::TokenRange>)>;
  // Every pointer must outlive the cleaner and the work it queued.
  RangeCleaner(CleanupOptions options, lsm::DB* db, const ring::MembershipView* view, Executor* loop, Executor* io,
               base::Clock* clock, base::Logger* logger);
  RangeCleaner(const RangeCleaner&) = delete;
  RangeCleaner& operator=(const RangeCleaner&) = delete;

  // Deletes every range the ring in force does not give this node; `done` runs on
  // the loop. Busy while the cluster is in transition or a cleanup runs.
  void Run(Done done);
  // Schedules and starts the automatic cleanup (call often: kvnode every 100 ms).
  void Tick();
  CleanupStats stats() const { return stats_; }

 private:
  const CleanupOptions options_;
  lsm::DB* const db_;
  const ring::MembershipView* const view_;
  Executor* const loop_;
  Executor* const io_;
  base::Clock* const clock_;
  base::Logger* const logger_;
  std::shared_ptr<bool> alive_;
  bool running_ = false;
  bool in_change_ = false;  // a transition was seen, not its end yet
  uint64_t due_us_ = 0;     // an automatic cleanup is due then (0: none)
  ring::TokenCount replicated_width_ = 0;  // tokens this node replicated before the change
  CleanupStats stats_;
};

}  // namespace kvring::repl
