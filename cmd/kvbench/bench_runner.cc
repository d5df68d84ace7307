#include "cmd/kvbench/bench_runner.h"

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "base/hash.h"
#include "cmd/kvbench/key_chooser.h"
#include "cmd/kvbench/mono_clock.h"
#include "cmd/kvbench/probe.h"
#include "cmd/kvbench/staleness_tracker.h"
#include "cmd/kvbench/worker.h"
#include "cmd/kvbench/workload.h"

namespace kvring::cmd::kvbench {

using base::Status;

namespace {

constexpr int kProbeTimeoutMs = 3000;
constexpr uint64_t kSecondNs = 1'000'000'000;
constexpr uint64_t kPollNs = 20'000'000;
constexpr uint64_t kPreloadStallNs = 15 * kSecondNs;  // no preload progress for this long: give up

void SleepNs(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / kSecondNs), static_cast<long>(ns % kSecondNs)};
  nanosleep(&ts, nullptr);
}

}  // namespace

// The worker threads and what they share.
struct BenchRunner::Fleet {
  std::unique_ptr<StalenessTracker> tracker;
  std::unique_ptr<KeyChooser> keys;
  std::unique_ptr<Workload> workload;
  RunControl control;
  std::vector<std::unique_ptr<WorkerProgress>> progress;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;

  bool AllFinished() const {
    return std::all_of(progress.begin(), progress.end(), [](const auto& p) { return p->finished.load(); });
  }
  bool PreloadDone() const {
    return std::all_of(progress.begin(), progress.end(), [](const auto& p) { return p->preload_done.load(); });
  }
  uint64_t Sum(std::atomic<uint64_t> WorkerProgress::*field) const {
    uint64_t n = 0;
    for (const auto& p : progress) n += ((*p).*field).load(std::memory_order_relaxed);
    return n;
  }
  // The measured latencies: everything so far, and since the last call.
  void TakeHistograms(Histogram* cumulative, Histogram* interval) {
    cumulative->Clear();
    for (auto& p : progress) {
      base::MutexLock lock(&p->mu);
      cumulative->Merge(p->cumulative);
      interval->Merge(p->interval);
      p->interval.Clear();
    }
  }
  void Join() {
    for (auto& t : threads) t.join();
    threads.clear();
  }
  // Creates the shared state and one worker per thread (not started).
  void Build(const BenchOptions& o, uint32_t run_id);
};

void BenchRunner::Fleet::Build(const BenchOptions& o, uint32_t run_id) {
  workload = std::make_unique<Workload>(o);
  keys = KeyChooser::Make(o.distribution, o.keys, o.zipf_theta);
  const auto slots = static_cast<uint32_t>(o.connections * o.pipeline);
  if (o.staleness) tracker = std::make_unique<StalenessTracker>(o.keys, slots);
  control.warmup_ns = static_cast<uint64_t>(o.warmup_s * 1e9);
  control.duration_ns = o.requests > 0 ? 0 : std::max<uint64_t>(1, static_cast<uint64_t>(o.duration_s * 1e9));
  int next_conn = 0;
  for (int t = 0; t < o.threads; ++t) {
    progress.push_back(std::make_unique<WorkerProgress>());
    WorkerConfig c;
    c.index = t;
    c.options = &o;
    const int conns = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    c.slot_base = static_cast<uint32_t>(next_conn * o.pipeline);
    for (int i = 0; i < conns; ++i, ++next_conn) {
      c.link_targets.push_back(&o.targets[static_cast<size_t>(next_conn) % o.targets.size()]);
    }
    c.workload = workload.get();
    c.keys = keys.get();
    c.tracker = tracker.get();
    c.control = &control;
    c.progress = progress.back().get();
    if (o.requests > 0) c.request_quota = o.requests / o.threads + (static_cast<uint64_t>(t) < o.requests % o.threads);
    c.rate = o.rate / o.threads;
    c.run_id = run_id;
    c.seed = base::Mix64(o.seed + static_cast<uint64_t>(t));
    workers.push_back(std::make_unique<Worker>(std::move(c)));
  }
}

BenchRunner::BenchRunner(BenchOptions options, FILE* out, FILE* err, const std::atomic<bool>* interrupt)
    : options_(std::move(options)), out_(out), err_(err), interrupt_(interrupt) {}

int BenchRunner::Run() {
  Status s = CheckTargets();
  if (!s.ok()) {
    std::fprintf(err_, "kvbench: %s\n", s.message().c_str());
    return 2;
  }
  if (!options_.quiet) PrintBanner(err_, options_);
  s = Execute();
  if (s.ok()) {
    PrintSummary(out_, result_);
    std::fflush(out_);
    s = WriteResults();
  }
  if (!s.ok()) {
    std::fprintf(err_, "kvbench: %s\n", s.message().c_str());
    return 1;
  }
  return result_.interrupted ? 130 : 0;
}

Status BenchRunner::CheckTargets() {
  std::string failures;
  std::set<std::string> probed;
  int reachable = 0;
  for (auto& t : options_.targets) {
    KV_RETURN_IF_ERROR(t.Resolve());
    if (!probed.insert(t.text).second) continue;
    Status s = ProbeTarget(t, options_.cluster, kProbeTimeoutMs, &options_.credentials, options_.tls.get());
    if (s.ok()) {
      ++reachable;
    } else {
      failures += "\n  " + s.message();
    }
  }
  if (reachable == 0) return Status::Unavailable("no target is reachable:" + failures);
  if (!failures.empty()) {
    std::fprintf(err_, "kvbench: warning: some targets do not answer (their connections keep retrying):%s\n",
                 failures.c_str());
  }
  return Status::OK();
}

Status BenchRunner::Execute() {
  result_.options = options_;
  result_.run_id = static_cast<uint32_t>(std::random_device{}());
  Fleet fleet;
  fleet.Build(options_, result_.run_id);
  for (auto& w : fleet.workers) fleet.threads.emplace_back([w = w.get()] { w->Run(); });
  KV_RETURN_IF_ERROR(Preload(&fleet));
  const uint64_t run_start = MonotonicNanos();
  const uint64_t measure_start = run_start + fleet.control.warmup_ns;
  const uint64_t window_end = MeasureWindow(&fleet, run_start, measure_start);
  fleet.Join();

  for (auto& w : fleet.workers) result_.stats.Merge(w->stats());
  const RunStats& s = result_.stats;
  // To the last measured reply, but never shorter than the window: time in which a
  // dead server answered nothing is part of the measurement.
  const uint64_t end = std::max(s.last_done_ns, window_end);
  result_.elapsed_s = end > measure_start ? static_cast<double>(end - measure_start) / 1e9 : 0;
  if (options_.preload && s.preload_ok == 0 && s.preload_errors > 0) {
    return Status::Aborted("every preload write failed (first: " + s.preload_error + ")");
  }
  return Status::OK();
}

Status BenchRunner::Preload(Fleet* fleet) {
  const uint64_t start = MonotonicNanos();
  uint64_t last_count = 0, last_progress = start, next_line = start + kSecondNs;
  while (!fleet->PreloadDone()) {
    SleepNs(kPollNs);
    const uint64_t now = MonotonicNanos(), count = fleet->Sum(&WorkerProgress::preloaded);
    if (count != last_count) last_count = count, last_progress = now;
    if (Interrupted() || now - last_progress > kPreloadStallNs) {
      fleet->control.stage.store(RunControl::kAbort, std::memory_order_release);
      fleet->Join();
      if (Interrupted()) return Status::Aborted("interrupted during the preload");
      return Status::Aborted("preload stalled: no write completed for 15 s (" + std::to_string(count) + " of " +
                             std::to_string(options_.keys) + " keys written)");
    }
    if (!options_.quiet && now >= next_line) {
      std::fprintf(err_, "[preload] %llu/%llu keys\n", static_cast<unsigned long long>(count),
                   static_cast<unsigned long long>(options_.keys));
      next_line += kSecondNs;
    }
  }
  result_.preload_s = static_cast<double>(MonotonicNanos() - start) / 1e9;
  return Status::OK();
}

uint64_t BenchRunner::MeasureWindow(Fleet* fleet, uint64_t run_start, uint64_t measure_start) {
  const uint64_t duration = fleet->control.duration_ns;
  uint64_t window_end = duration > 0 ? measure_start + duration : 0;  // or when Ctrl-C stops it
  fleet->control.run_start_ns.store(run_start, std::memory_order_release);
  fleet->control.stage.store(RunControl::kRun, std::memory_order_release);
  prev_tick_ns_ = run_start;
  next_line_ns_ = run_start + kSecondNs;
  const uint64_t step = options_.timeline_ms * 1'000'000;
  uint64_t next_tick = run_start + step;
  while (!fleet->AllFinished()) {
    SleepNs(kPollNs);
    const uint64_t now = MonotonicNanos();
    if (Interrupted() && !fleet->control.stop.load()) {
      fleet->control.stop.store(true);
      result_.interrupted = true;
      window_end = std::max(now, measure_start);
      if (duration > 0) window_end = std::min(window_end, measure_start + duration);
    }
    if (now < next_tick) continue;
    next_tick += step;
    Tick(fleet, run_start, measure_start, now);
  }
  return window_end;
}

void BenchRunner::Tick(Fleet* fleet, uint64_t run_start, uint64_t measure_start, uint64_t now) {
  const uint64_t completed = fleet->Sum(&WorkerProgress::completed), errors = fleet->Sum(&WorkerProgress::errors);
  Histogram cumulative, interval;
  fleet->TakeHistograms(&cumulative, &interval);
  TimelinePoint p;
  p.t_s = (static_cast<double>(now) - static_cast<double>(measure_start)) / 1e9;
  p.warmup = prev_tick_ns_ + (now - prev_tick_ns_) / 2 < measure_start;  // most of the second was warm-up
  p.ops_per_sec = static_cast<double>(completed - prev_completed_) * 1e9 / static_cast<double>(now - prev_tick_ns_);
  p.p99_us = static_cast<double>(interval.Percentile(0.99)) / 1000.0;
  p.errors = errors - prev_errors_;
  result_.timeline.push_back(p);
  prev_completed_ = completed, prev_errors_ = errors, prev_tick_ns_ = now;
  if (!options_.quiet && now >= next_line_ns_) {
    next_line_ns_ += kSecondNs;
    const double t = static_cast<double>(now - run_start) / 1e9;
    const char* phase = p.warmup ? "warmup" : "run";
    std::fprintf(err_, "%s\n", FormatProgress(t, phase, p.ops_per_sec, cumulative.Percentile(0.99), errors).c_str());
  }
}

Status BenchRunner::WriteResults() {
  if (!options_.json_path.empty()) KV_RETURN_IF_ERROR(WriteJson(options_.json_path, result_));
  if (!options_.csv_path.empty()) KV_RETURN_IF_ERROR(AppendCsv(options_.csv_path, result_));
  return Status::OK();
}

}  // namespace kvring::cmd::kvbench
