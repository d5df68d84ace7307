// repl/client_latency.h — the latency this node's clients see, which background
// work (hint replay; answers to peers' streams and exchanges) must not raise:
// per-tick means of the requests the node coordinated, and their recent base.
//
// ClientLatencySampler turns the coordinators' cumulative counters (requests
// answered and their microseconds, repl::CoordinatorStats::answered and
// answered_micros, over every loop) into the mean of each tick. LatencyBase keeps
// the means of the last history_us and says when one is past factor x the
// lowest of them (LEDBAT's base delay: some ticks of throttled work, or before
// it, show what the clients see without it). repl/replay_throttle.h and
// repl/answer_pacer.h use them (docs/replication.md says how).
// Thread safety: needs external synchronization (kvnode: loop 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

namespace kvring::repl {

// (requests answered, their latency summed in µs), cumulative since the start.
using AnsweredCounter = std::function<std::pair<uint64_t, uint64_t>()>;

class ClientLatencySampler {
 public:
  explicit ClientLatencySampler(uint64_t min_requests) : min_requests_(min_requests) {}
  void MeasureWith(AnsweredCounter answered) { answered_ = std::move(answered); }
  // The mean latency (µs) of the requests answered since the previous call;
  // nullopt without a counter, on the first call, and when fewer than
  // min_requests were answered since (a mean of a few is noise).
  std::optional<uint64_t> Sample();

 private:
  const uint64_t min_requests_;
  AnsweredCounter answered_;
  bool measured_ = false;
  uint64_t last_count_ = 0;
  uint64_t last_micros_ = 0;
};

struct LatencyBaseOptions {
  double factor = 1.5;                // a mean this many times the base: the clients pay
  uint64_t floor_us = 300;            // bases below this count as this (noise at microseconds)
  uint64_t history_us = 5'000'000;    // the base is the lowest mean this recent
  size_t min_samples = 10;            // fewer means in the history: no verdict
};

class LatencyBase {
 public:
  explicit LatencyBase(LatencyBaseOptions options) : options_(options) {}
  // One tick's mean, at now_us; means older than history_us leave.
  void Add(uint64_t now_us, uint64_t mean_us);
  // The lowest mean of the history (0 when empty).
  uint64_t base_us() const;
  // Whether mean_us is past factor x max(base, floor), the history holding at
  // least min_samples means.
  bool Exceeded(uint64_t mean_us) const;

 private:
  const LatencyBaseOptions options_;
  std::deque<std::pair<uint64_t, uint64_t>> history_;  // (time, mean), oldest first
};

}  // namespace kvring::repl
