// repl/replay_throttle.h — how fast hinted handoff may replay: a token bucket
// whose rate adapts to how busy the nodes are (additive increase, multiplicative
// decrease on the replay's own round trips, as TCP does on its losses).
//
// A fixed rate is either too slow for an idle cluster or too fast for a loaded
// one: on a machine whose cores the clients already keep busy, a replay at full
// speed takes the CPU their requests need, their queues grow and their p99 goes
// from milliseconds to seconds. The replay's round trips tell when that starts:
// each REPLICA_WRITE is queued behind the clients' work on both nodes, so its
// round trip grows with their load. Every `window_us`, the mean round trip of the
// replies of the window decides:
//   mean > slow_us        rate = max(min_rate, rate * 1/2)
//   otherwise             rate = min(max_rate, rate + max_rate / 16)
// (a window without replies changes nothing). The rate starts at max_rate / 4.
// The bucket holds at most a tenth of a second at the current rate: one set
// larger than that still goes (the bucket goes negative and refills first).
// Thread safety: needs external synchronization (the handoff's executor thread).
#pragma once

#include <cstdint>

#include "base/clock.h"

namespace kvring::repl {

struct ReplayThrottleOptions {
  uint64_t max_rate = 64ull << 20;  // bytes per second
  uint64_t min_rate = 1ull << 20;
  uint64_t slow_us = 5000;          // a mean round trip above this: the nodes are busy
  uint64_t window_us = 100000;
};

class ReplayThrottle {
 public:
  ReplayThrottle(ReplayThrottleOptions options, base::Clock* clock);

  // Whether `bytes` may be sent now (and if so, takes them from the bucket).
  bool Take(uint64_t bytes);
  // The round trip of one replayed set, send to reply.
  void OnReply(uint64_t rtt_us);
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
};

}  // namespace kvring::repl
