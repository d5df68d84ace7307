// repl/hinted_handoff.h — hands the writes an owner missed back to it once it is
// up again (the replay half of hinted handoff; repl/hint_store.h keeps the hints).
//
// Every Tick (every 100 ms by default, so a replay starts within that of the owner
// being seen up), each owner with hints pending that the failure detector holds
// up and that is still a member gets a replay session, one per owner at a time:
//   1. list a batch of its hints (on the I/O pool: the hint engine is read there),
//   2. for each hint, read this node's current set of the key and send it to the
//      owner with REPLICA_WRITE (the owner merges it: replaying a write it already
//      has changes nothing),
//   3. remove the hint once the owner answered OK, which it does only after the
//      merge is durable (a hint re-added meanwhile for a newer write stays),
//   4. go on with the next batch until none is left.
// A failed send ends the session (the owner may be down again); the next Tick
// starts over from the owner's first remaining hint, except after the owner
// answered NoSpace (its disk is full: node/disk_guard.h), when it is left alone
// for no_space_pause_us instead of being asked again ten times a second. A key this node no longer
// holds has nothing to hand over: its hint is removed.
// Throttled: at most max_in_flight sends per owner at once, and at most
// rate_bytes_per_sec of sets per second over all owners, less when the replay's
// round trips say the owner is busy or this node's loop runs late (measured from
// the Tick timer: repl/replay_throttle.h), so client latency holds during a replay.
// Thread safety: executor thread only (Tick, stats, every callback).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/thread_pool.h"
#include "repl/client_latency.h"
#include "repl/failure_detector.h"
#include "repl/hint_store.h"
#include "repl/replay_throttle.h"
#include "repl/replica_store.h"
#include "repl/transport.h"
#include "ring/membership_view.h"

namespace kvring::repl {

struct HandoffOptions {
  uint64_t rate_bytes_per_sec = 64ull << 20;  // all owners together, at most
  uint64_t slow_rtt_us = 5000;                // mean round trip that halves the rate
  uint64_t slow_lag_us = 2000;                // this node's loop that late halves it too
  uint64_t tick_us = 100000;                  // how often the caller runs Tick (fixed rate)
  size_t max_in_flight = 32;                  // sends per owner at once
  size_t batch = 256;                         // hints listed at a time
  uint64_t min_client_requests = 20;          // per tick, for their mean latency to count (fewer: noise)
  uint64_t timeout_ms = 2000;                 // one REPLICA_WRITE
  uint64_t no_space_pause_us = 1000000;       // after an owner answered NoSpace
};

struct HandoffStats {
  uint64_t sessions = 0;        // replays started
  uint64_t replayed = 0;        // hints handed over and removed
  uint64_t replayed_bytes = 0;  // bytes of the sets sent
  uint64_t missing = 0;         // hints whose key this node no longer holds
  uint64_t failures = 0;        // sends that failed (the session ended)
  uint64_t refused = 0;         // sets the owner refused for good (over its bounds): hint dropped
};

class HintedHandoff {
 public:
  // Every pointer must outlive the handoff. *io runs the hint listings.
  HintedHandoff(HandoffOptions options, HintStore* hints, ReplicaStore* store, const FailureDetector* liveness,
                ring::MembershipView* view, Transport* transport, Executor* executor, base::ThreadPool* io,
                base::Clock* clock, base::Logger* logger);
  HintedHandoff(const HintedHandoff&) = delete;
  HintedHandoff& operator=(const HintedHandoff&) = delete;
  ~HintedHandoff();

  // Starts sessions for owners that are back, and keeps the running ones going.
  void Tick();
  // Where Tick reads how long the loop it runs on has waited for events in all
  // (net::EventLoop::idle_micros): the replay slows down while that loop is busy.
  void MeasureLoopWith(std::function<uint64_t()> idle_micros) { idle_micros_ = std::move(idle_micros); }
  // Where Tick reads how many client requests this node answered and their summed
  // latency (repl::CoordinatorStats::answered, answered_micros, over every loop):
  // the replay slows down while their mean rises well above its recent lowest.
  void MeasureClientsWith(AnsweredCounter answered) { clients_.MeasureWith(std::move(answered)); }
  // The clients' mean latency over the last tick with enough requests, and the
  // lowest of the throttle's history (µs; stats).
  uint64_t client_latency_us() const { return client_latency_us_; }
  uint64_t client_base_us() const { return throttle_.client_base_us(); }
  // The share of the last tick period the loop was busy, in percent (stats).
  uint64_t loop_busy_pct() const { return loop_busy_pct_; }
  const HandoffStats& stats() const { return stats_; }
  // Owners being replayed to now.
  size_t active() const { return sessions_.size(); }
  // The replay rate allowed now, bytes per second (adapts to the nodes' load).
  uint64_t rate() const { return throttle_.rate(); }

 private:
  struct Session;

  // The share of the time since the last call the loop was working.
  double LoopBusy(uint64_t now);
  // Hands the clients' mean latency since the last tick to the throttle
  // (`replaying`: a session ran during it).
  void MeasureClients(bool replaying);
  // Whether owner answered NoSpace less than no_space_pause_us ago.
  bool Paused(const std::string& owner, uint64_t now);
  void Start(const ring::NodeInfo& owner);
  void ListNext(const std::shared_ptr<Session>& s);
  void Pump(const std::shared_ptr<Session>& s);
  void Send(const std::shared_ptr<Session>& s, Hint hint);
  void Done(const std::shared_ptr<Session>& s, const Hint& hint, const base::Status& status);
  void End(const std::shared_ptr<Session>& s, const char* why);

  const HandoffOptions options_;
  HintStore* const hints_;
  ReplicaStore* const store_;
  const FailureDetector* const liveness_;
  ring::MembershipView* const view_;
  Transport* const transport_;
  Executor* const executor_;
  base::ThreadPool* const io_;
  base::Clock* const clock_;
  base::Logger* const logger_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;  // by owner id
  std::map<std::string, uint64_t> paused_until_us_;           // owners that answered NoSpace
  ReplayThrottle throttle_;
  TimerLag tick_lag_;  // how late Tick runs: this node's own load
  std::function<uint64_t()> idle_micros_;
  uint64_t last_tick_us_ = 0;
  uint64_t last_idle_us_ = 0;
  uint64_t loop_busy_pct_ = 0;
  ClientLatencySampler clients_;
  uint64_t client_latency_us_ = 0;
  HandoffStats stats_;
  std::shared_ptr<bool> alive_;  // callbacks that outlive the handoff find it false
};

}  // namespace kvring::repl
