// cmd/kvbench/bench_runner.h — runs one benchmark: checks the targets, starts the
// worker threads, drives the stages (preload, warm-up, measured window, drain),
// prints the progress line every second, merges the workers' results and reports
// them (stdout summary, --json, --csv).
// Thread safety: Run() once, from one thread; it owns the worker threads.
#pragma once

#include <atomic>
#include <cstdio>

#include "base/status.h"
#include "cmd/kvbench/options.h"
#include "cmd/kvbench/report.h"

namespace kvring::cmd::kvbench {

class BenchRunner {
 public:
  // Progress and diagnostics go to err, the summary to out. *interrupt (may be
  // null) turning true stops the run early (Ctrl-C); results so far are reported.
  BenchRunner(BenchOptions options, FILE* out, FILE* err, const std::atomic<bool>* interrupt = nullptr);

  // The process exit code: 0 run completed, 1 run failed (preload stalled,
  // results file not written), 2 no target reachable, 130 interrupted.
  int Run();
  const BenchResult& result() const { return result_; }

 private:
  struct Fleet;  // the worker threads and what they share (bench_runner.cc)

  // Resolves and probes every target; Unavailable when none answers.
  base::Status CheckTargets();
  // Starts the workers, drives the stages, collects the results into result_.
  base::Status Execute();
  // Waits until every key was written once; Aborted when it stalls or on Ctrl-C.
  base::Status Preload(Fleet* fleet);
  // Warm-up and measured window, a progress line per second; returns when the
  // workers finished, with the window's end (0 with --requests).
  uint64_t MeasureWindow(Fleet* fleet, uint64_t run_start, uint64_t measure_start);
  // Adds a timeline point for the step (--timeline-ms) ending at `now`; prints the
  // progress line when a second has passed since the last one.
  void Tick(Fleet* fleet, uint64_t run_start, uint64_t measure_start, uint64_t now);
  base::Status WriteResults();
  bool Interrupted() const { return interrupt_ != nullptr && interrupt_->load(); }

  BenchOptions options_;
  FILE* out_;
  FILE* err_;
  const std::atomic<bool>* interrupt_;
  BenchResult result_;
  // Progress between two ticks.
  uint64_t prev_completed_ = 0;
  uint64_t prev_errors_ = 0;
  uint64_t prev_tick_ns_ = 0;
  uint64_t next_line_ns_ = 0;  // when the next progress line is due
};

}  // namespace kvring::cmd::kvbench
