#include "test/util/fault_impact.h"

#include <algorithm>
#include <cstdio>

namespace kvring::test {

namespace {

struct Interval {
  uint64_t begin_us = 0, end_us = 0;
};

Interval IntervalOf(const Fault& f, uint64_t origin_us) {
  return {origin_us + f.start_ms * 1000, origin_us + f.end_ms * 1000};
}

bool Inside(uint64_t t, const Interval& in) { return t >= in.begin_us && t < in.end_us; }

void Count(const HistoryEvent& e, FaultImpact* row) {
  if (e.type == EventType::kOk) ++row->ok;
  if (e.type == EventType::kFail) ++row->failed;
  if (e.type == EventType::kInfo) ++row->unknown;
}

// The longest stretch of `in` holding none of the (sorted) success times.
uint64_t LongestGapMs(const std::vector<uint64_t>& ok_us, const Interval& in) {
  uint64_t last = in.begin_us, longest = 0;
  auto it = std::lower_bound(ok_us.begin(), ok_us.end(), in.begin_us);
  for (; it != ok_us.end() && *it < in.end_us; ++it) {
    longest = std::max(longest, *it - last);
    last = *it;
  }
  return std::max(longest, in.end_us - last) / 1000;
}

std::vector<uint64_t> SuccessTimes(const std::vector<HistoryEvent>& events) {
  std::vector<uint64_t> times;
  for (const HistoryEvent& e : events) {
    if (e.type == EventType::kOk && !e.final_read) times.push_back(e.time_us);
  }
  std::sort(times.begin(), times.end());
  return times;
}

}  // namespace

std::map<std::string, FaultImpact> ImpactByKind(const std::vector<Fault>& plan, uint64_t origin_us,
                                                const std::vector<HistoryEvent>& events) {
  std::map<std::string, FaultImpact> rows;
  const std::vector<uint64_t> ok_us = SuccessTimes(events);
  for (const Fault& f : plan) {
    FaultImpact& row = rows[FaultKindName(f.kind)];
    ++row.faults;
    const uint64_t gap = LongestGapMs(ok_us, IntervalOf(f, origin_us));
    row.longest_gap_ms = std::max(row.longest_gap_ms, gap);
    row.total_gap_ms += gap;
  }
  for (const HistoryEvent& e : events) {
    if (e.type == EventType::kInvoke || e.final_read) continue;
    bool any = false;
    for (const Fault& f : plan) {
      if (!Inside(e.time_us, IntervalOf(f, origin_us))) continue;
      Count(e, &rows[FaultKindName(f.kind)]);
      any = true;
    }
    if (!any) Count(e, &rows["none"]);
  }
  return rows;
}

std::string ImpactTable(const std::map<std::string, FaultImpact>& rows) {
  std::string s = "| fault | faults | ops | ok | failed | unknown | longest window ms | mean window ms |\n"
                  "|---|---|---|---|---|---|---|---|\n";
  for (const auto& [kind, r] : rows) {
    char line[256];
    const double ok_pct = r.ops() == 0 ? 0.0 : 100.0 * static_cast<double>(r.ok) / static_cast<double>(r.ops());
    const uint64_t mean = r.faults == 0 ? 0 : r.total_gap_ms / r.faults;
    std::snprintf(line, sizeof(line), "| %s | %llu | %llu | %.1f%% | %llu | %llu | %llu | %llu |\n", kind.c_str(),
                  static_cast<unsigned long long>(r.faults), static_cast<unsigned long long>(r.ops()), ok_pct,
                  static_cast<unsigned long long>(r.failed), static_cast<unsigned long long>(r.unknown),
                  static_cast<unsigned long long>(r.longest_gap_ms), static_cast<unsigned long long>(mean));
    s += line;
  }
  return s;
}

}  // namespace kvring::test
