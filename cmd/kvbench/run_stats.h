// cmd/kvbench/run_stats.h — what one worker measured: latency histograms and
// counts per operation type, errors grouped by kind, and the staleness tallies.
// Workers fill their own; the runner merges them when the run is over.
// Thread safety: needs external synchronization (one per worker).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cmd/kvbench/histogram.h"
#include "cmd/kvbench/staleness_tracker.h"
#include "cmd/kvbench/workload.h"

namespace kvring::cmd::kvbench {

struct OpStats {
  Histogram latency;  // nanoseconds, successful requests only
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t misses = 0;  // reads answered "not found" (counted in ok)
  void Merge(const OpStats& other);
};

struct ErrorKind {
  uint64_t count = 0;
  std::string example;  // the first message seen
};

struct StalenessStats {
  uint64_t reads_checked = 0;
  uint64_t stale_reads = 0;
  uint64_t max_versions = 0;
  uint64_t max_lag_us = 0;
  void Add(const StalenessTracker::ReadVerdict& v);
  void Merge(const StalenessStats& other);
};

struct RunStats {
  OpStats all;
  std::array<OpStats, kOpTypes> ops;
  std::map<std::string, ErrorKind, std::less<>> errors;  // by kind
  StalenessStats staleness;
  uint64_t last_done_ns = 0;      // when the last measured request finished
  uint64_t unsent = 0;            // open loop: scheduled in the window but never sent
  uint64_t connect_failures = 0;  // failed connects and handshakes (not requests)
  uint64_t preload_ok = 0;
  uint64_t preload_errors = 0;
  std::string preload_error;      // the first one

  void RecordSuccess(OpType op, uint64_t latency_ns, bool miss) {
    OpStats& s = ops[static_cast<int>(op)];
    s.latency.Record(latency_ns);
    ++s.ok;
    all.latency.Record(latency_ns);
    ++all.ok;
    if (miss) {
      ++s.misses;
      ++all.misses;
    }
  }
  void RecordError(OpType op, std::string_view kind, std::string_view message);
  void Merge(const RunStats& other);
};

}  // namespace kvring::cmd::kvbench
