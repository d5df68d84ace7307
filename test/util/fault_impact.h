// test/util/fault_impact.h — what each kind of fault did to the clients of a
// nemesis run (docs/reliability.md, "Per fault kind"): of the operations that
// completed while a fault of that kind was in force, how many succeeded, failed
// or ended unknown, and the longest stretch inside such a fault in which no
// operation anywhere in the cluster succeeded (the unavailability window as a
// client of the whole cluster sees it). Operations completed while no fault was
// in force make the "none" row, the baseline.
//
//   auto rows = ImpactByKind(plan, origin_us, history.events);
//   std::string table = ImpactTable(rows);
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "test/util/history.h"
#include "test/util/nemesis_faults.h"

namespace kvring::test {

struct FaultImpact {
  uint64_t faults = 0;           // faults of the kind (applied)
  uint64_t ok = 0, failed = 0, unknown = 0;  // completions while one was in force
  uint64_t longest_gap_ms = 0;   // no success anywhere for this long, inside one such fault
  uint64_t total_gap_ms = 0;     // the sum over the kind's faults of their longest gaps

  uint64_t ops() const { return ok + failed + unknown; }
};

// origin_us: the history clock's reading at the plan's time 0 (the workload's
// start). A completion inside several faults counts for each of their kinds.
std::map<std::string, FaultImpact> ImpactByKind(const std::vector<Fault>& plan, uint64_t origin_us,
                                                const std::vector<HistoryEvent>& events);

// One line per kind: faults, ops, ok %, failed, unknown, longest and mean window.
std::string ImpactTable(const std::map<std::string, FaultImpact>& rows);

}  // namespace kvring::test
