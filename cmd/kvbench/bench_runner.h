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
  // Resolves and probes every target; Unavailable when none answers.
  base::Status CheckTargets();
  base::Status Execute();
  base::Status WriteResults();

  BenchOptions options_;
  FILE* out_;
  FILE* err_;
  const std::atomic<bool>* interrupt_;
  BenchResult result_;
};

}  // namespace kvring::cmd::kvbench
