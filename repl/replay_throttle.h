// repl/replay_throttle.h — how fast hinted handoff may replay: a token bucket
// whose rate adapts to how busy the nodes are (additive increase, multiplicative
// decrease on the replay's own round trips, as TCP does on its losses).
//
// A fixed rate is either too slow for an idle cluster or too fast for a loaded
// one: on a machine whose cores the clients already keep busy, a replay at full
// speed takes the CPU their requests need, their queues grow and their p99 goes
// from milliseconds to seconds. Two signals tell when that starts:
//   - the replay's round trips: each REPLICA_WRITE is queued behind the clients'
//     work on the owner, so its round trip grows with the owner's load;
//   - this node's own event loop lag (OnLoopLag: how late a timer of the loop that
//     replays fired): every client request this node coordinates waits that long
//     before it is even read, so the lag is the queueing the replay adds to them.
//     The round trips alone miss it: a returning owner is often idle while the
//     holders, which also coordinate the clients' requests, are saturated;
//   - the share of time this node's loop was working rather than waiting for
//     events (OnLoopBusy): past `busy_share` it has little room left for the
//     replay's work, and a little more pushes its clients' queues past the point
//     where they drain;
//   - the clients' own latency (OnClientLatency: the mean time the requests this
//     node coordinated took to meet their quorum, per tick): the figure the
//     replay must not raise. Its base is the lowest sample of the last
//     clients.history_us (LEDBAT's base delay: some ticks of a throttled replay,
//     or before it, show what the clients see without it); a sample above
//     clients.factor x that base says the replay costs the clients. The three
//     signals above are absolute thresholds: against 1-3 ms of client latency
//     they let it grow several times before acting (docs/performance.md, "Where
//     the p99 during a replay comes from").
// Every `window_us`:
//   mean round trip > slow_us, or the window's largest lag > slow_lag_us, or its
//   largest busy share > busy_share, or its largest client latency >
//   clients.factor x max(base, clients.floor_us)
//                         rate = max(min_rate, rate * 1/2)
//   otherwise             rate = min(max_rate, rate + max_rate / 16)
// (a window with neither replies nor loop samples changes nothing). The rate
// starts at min_rate and climbs (slow start): an owner that comes back to a loaded
// cluster is not hit at a quarter of the maximum before the first verdict.
// The bucket holds at most a tenth of a second at the current rate: one set
// larger than that still goes (the bucket goes negative and refills first).
// Thread safety: needs external synchronization (the handoff's executor thread).
#pragma once

#include <cstdint>
#include <utility>

#include "base/clock.h"
#include "repl/client_latency.h"

namespace kvring::repl {

struct ReplayThrottleOptions {
  uint64_t max_rate = 64ull << 20;  // bytes per second
  uint64_t min_rate = 1ull << 20;
  uint64_t slow_us = 5000;          // a mean round trip above this: the owner is busy
  uint64_t slow_lag_us = 2000;      // a loop lag above this: this node is busy
  double busy_share = 0.6;          // a loop busier than this share of the window: this node is busy
  LatencyBaseOptions clients;       // when the clients' latency says the replay costs them
  uint64_t window_us = 100000;
};

class ReplayThrottle {
 public:
  ReplayThrottle(ReplayThrottleOptions options, base::Clock* clock);

  // Whether `bytes` may be sent now (and if so, takes them from the bucket).
  bool Take(uint64_t bytes);
  // Takes `bytes` sent without asking first (what a batch weighed once read; the
  // bucket may go negative, and Take waits until it refilled).
  void Charge(uint64_t bytes) { tokens_ -= static_cast<double>(bytes); }
  // The round trip of one replayed set, send to reply.
  void OnReply(uint64_t rtt_us);
  // How late this node's loop ran a timer (its own load).
  void OnLoopLag(uint64_t lag_us);
  // The share of time, 0..1, this node's loop was working (not waiting for events)
  // since the last sample.
  void OnLoopBusy(double share);
  // The mean latency of the client requests this node answered since the last
  // sample. Every sample joins the history the base is taken from; only those
  // `replaying` (a replay ran meanwhile) can slow the rate, so a replay that
  // starts still starts at min_rate (slow start).
  void OnClientLatency(uint64_t mean_us, bool replaying);
  // The lowest client latency of the history (0 without samples).
  uint64_t client_base_us() const { return clients_.base_us(); }
  // Bytes per second allowed now.
  uint64_t rate() const { return static_cast<uint64_t>(rate_); }

 private:
  void Refill(uint64_t now);
  void Adjust(uint64_t now);

  const ReplayThrottleOptions options_;
  base::Clock* const clock_;
  double rate_;
  double tokens_;
  uint64_t refilled_us_;
  uint64_t window_start_us_;
  uint64_t window_replies_ = 0;
  uint64_t window_rtt_sum_us_ = 0;
  uint64_t window_max_lag_us_ = 0;
  double window_max_busy_ = 0;
  uint64_t window_max_client_us_ = 0;
  bool window_lag_seen_ = false;
  LatencyBase clients_;
};

// How late a fixed-rate timer (net/timer_queue: each firing is due a period
// after the previous one was due; one that fell a whole period behind is due a
// period after it ran) fires: call Fired at every firing, with the time it ran.
class TimerLag {
 public:
  explicit TimerLag(uint64_t period_us) : period_us_(period_us) {}
  // Microseconds after its due time (0 for the first firing).
  uint64_t Fired(uint64_t now_us);

 private:
  const uint64_t period_us_;
  uint64_t due_us_ = 0;  // the next firing's (0: before the first)
};

}  // namespace kvring::repl
