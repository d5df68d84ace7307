// cmd/kvbench/report.h — what a finished run reports: the summary on stdout, the
// JSON file (--json) and the CSV rows (--csv), plus the per-second progress line.
// Key names and meanings: docs/kvbench.md. Scripts depend on the JSON keys.
// Thread safety: pure functions over a finished result.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/status.h"
#include "cmd/kvbench/options.h"
#include "cmd/kvbench/run_stats.h"

namespace kvring::cmd::kvbench {

struct TimelinePoint {
  double t_s = 0;         // seconds since the measured window began (negative in warm-up)
  bool warmup = false;
  double ops_per_sec = 0; // requests finished in that step (--timeline-ms; a second by default), per second
  double p99_us = 0;      // p99 of the measured requests that finished in that step
  uint64_t errors = 0;    // measured errors in that step
};

struct BenchResult {
  BenchOptions options;
  uint32_t run_id = 0;
  RunStats stats;          // merged over the workers
  double elapsed_s = 0;    // measured window: its start to the last measured completion
  double preload_s = 0;
  bool interrupted = false;
  std::vector<TimelinePoint> timeline;

  double OpsPerSec() const { return elapsed_s > 0 ? static_cast<double>(stats.all.ok) / elapsed_s : 0; }
  double StaleFraction() const;
};

void PrintBanner(FILE* out, const BenchOptions& options);
void PrintSummary(FILE* out, const BenchResult& result);
// "[  3.0s run   ]   95123 ops/s  p99 512 us  errors 0"
std::string FormatProgress(double t_s, const char* phase, double ops_per_sec, uint64_t p99_ns, uint64_t errors);

[[nodiscard]] base::Status WriteJson(const std::string& path, const BenchResult& result);
// Appends one row per operation type ("all" first); writes the header when the
// file is new or empty.
[[nodiscard]] base::Status AppendCsv(const std::string& path, const BenchResult& result);

// A JSON document for the result (what WriteJson writes).
std::string ResultJson(const BenchResult& result);

}  // namespace kvring::cmd::kvbench
