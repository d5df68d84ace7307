// repl/answer_pacer.h — a node holds back its answers to other nodes' background
// requests (STREAM_READ, the AAE_* exchange) while its own clients pay for them.
//
// The node that drives a stream or an exchange throttles on what it sees: its
// round trips and its own loop. The nodes it reads from see their clients, and in
// a join or a repair those are the ones serving the load. So each of them paces
// itself: every tick (100 ms in kvnode) it takes the mean latency of the client
// requests it coordinated and their recent base (repl/client_latency.h). When a
// tick in which it answered background requests has a mean past the base's
// limit, each answer is held back by a delay:
//   answers served and the mean past the limit  delay = min(max, max(first, 2 x delay))
//   otherwise                                   delay = delay / 2 (0 below first / 2)
// The delay is a round trip added to each request of the driver's window, so
// doubling it about halves what the driver takes from this node, and halving it
// lets it climb back as fast. A node with no clients, or whose clients see their
// usual latency, answers at once: an idle cluster streams and repairs at full
// speed. Slow clients while nothing was answered are not the background work's
// doing and add nothing.
// Thread safety: MeasureClientsWith, Tick and OnClientLatency on one thread
// (kvnode: loop 0); Served and delay_us on any.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "repl/client_latency.h"

namespace kvring::repl {

struct AnswerPacerOptions {
  LatencyBaseOptions clients;
  uint64_t min_client_requests = 20;   // per tick, for a sample
  uint64_t first_delay_us = 20'000;    // the first hold-back once the clients pay
  uint64_t max_delay_us = 1'000'000;   // well under the drivers' timeouts (10 s or more)
};

class AnswerPacer {
 public:
  explicit AnswerPacer(AnswerPacerOptions options = {})
      : options_(options), clients_(options.clients), sampler_(options.min_client_requests) {}

  // The clients' latency, sampled at every Tick.
  void MeasureClientsWith(AnsweredCounter answered) { sampler_.MeasureWith(std::move(answered)); }
  // One background request answered (counted for the tick it falls in).
  void Served() { served_.fetch_add(1, std::memory_order_relaxed); }
  void Tick(uint64_t now_us);
  // One tick's mean client latency at now_us; busy: background requests were
  // answered during it. (Tick calls it; tests drive it directly.)
  void OnClientLatency(uint64_t now_us, uint64_t mean_us, bool busy);
  // How long to hold each answer back now.
  uint64_t delay_us() const { return delay_us_.load(std::memory_order_relaxed); }
  uint64_t client_base_us() const { return clients_.base_us(); }

 private:
  const AnswerPacerOptions options_;
  LatencyBase clients_;
  ClientLatencySampler sampler_;
  std::atomic<uint64_t> served_{0};
  uint64_t served_at_tick_ = 0;
  std::atomic<uint64_t> delay_us_{0};
};

}  // namespace kvring::repl
