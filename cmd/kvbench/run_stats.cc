#include "cmd/kvbench/run_stats.h"

#include <algorithm>

namespace kvring::cmd::kvbench {

void OpStats::Merge(const OpStats& other) {
  latency.Merge(other.latency);
  ok += other.ok;
  errors += other.errors;
  misses += other.misses;
}

void StalenessStats::Add(const StalenessTracker::ReadVerdict& v) {
  if (!v.checked) return;
  ++reads_checked;
  if (!v.stale) return;
  ++stale_reads;
  max_versions = std::max(max_versions, v.versions_behind);
  max_lag_us = std::max(max_lag_us, v.lag_us);
}

void StalenessStats::Merge(const StalenessStats& other) {
  reads_checked += other.reads_checked;
  stale_reads += other.stale_reads;
  max_versions = std::max(max_versions, other.max_versions);
  max_lag_us = std::max(max_lag_us, other.max_lag_us);
}

void RunStats::RecordError(OpType op, std::string_view kind, std::string_view message) {
  ++ops[static_cast<int>(op)].errors;
  ++all.errors;
  auto it = errors.find(kind);
  if (it == errors.end()) it = errors.emplace(std::string(kind), ErrorKind{0, std::string(message)}).first;
  ++it->second.count;
}

void RunStats::Merge(const RunStats& other) {
  all.Merge(other.all);
  for (int i = 0; i < kOpTypes; ++i) ops[i].Merge(other.ops[i]);
  for (const auto& [kind, e] : other.errors) {
    auto [it, inserted] = errors.emplace(kind, e);
    if (!inserted) it->second.count += e.count;
  }
  staleness.Merge(other.staleness);
  last_done_ns = std::max(last_done_ns, other.last_done_ns);
  unsent += other.unsent;
  connect_failures += other.connect_failures;
  preload_ok += other.preload_ok;
  preload_errors += other.preload_errors;
  if (preload_error.empty()) preload_error = other.preload_error;
}

}  // namespace kvring::cmd::kvbench
