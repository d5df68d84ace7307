// test/util/nemesis_run.h — one run of the nemesis harness (build/kvnemesis,
// `make soak`; docs/testing.md "The nemesis"): a cluster of real kvnode
// processes (5 nodes, N=3), client threads recording one history
// (test/util/nemesis_workload.h), faults applied and healed on a schedule drawn
// from the seed (test/util/nemesis_faults.h), then: every fault healed, the
// cluster reconnected, hinted handoff drained, every key read twice at R=ALL as
// final reads, and the history checked (test/util/history_checker.h), plus the
// harness's own checks (every element of an acknowledged set write is in the
// final set; no node exited that no fault killed).
//
// Everything lives in one run directory: history.jsonl, faults.log, and per node
// its data directory n<i>/ and log n<i>.log. With `network` the nodes listen on
// 127.0.0.1..N (the caller runs inside a private network namespace,
// test/util/netns.h) and the clients connect from 127.0.0.9; without it every
// node is on 127.0.0.1 on its own port and the network faults are left out.
// Thread safety: RunNemesis runs on one thread (it starts and joins its own).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "test/util/fault_impact.h"
#include "test/util/history_checker.h"
#include "test/util/nemesis_faults.h"

namespace kvring::test {

struct NemesisOptions {
  uint64_t seed = 1;
  uint64_t seconds = 60;          // of workload under faults
  std::string dir;                // parent of the run directory ("" = $TMPDIR or /tmp)
  int nodes = 5;
  int workers = 6;
  uint64_t think_ms = 10;         // mean pause of a worker between operations
  bool network = false;           // in a private network namespace: network faults on
  bool disk_full = false;         // the last node's data dir on a 64 MiB tmpfs, disk-full faults on
  bool power_loss = false;        // power-loss faults on (REQUIRES: sync == "always")
  bool faults = true;             // false: the workload alone
  std::string sync = "interval";  // the nodes' --sync
  uint64_t max_skew_s = 300;      // clock skews are ±1 s .. ± this (past 3 h: hint expiry)
  // Test of the harness: drop one acknowledged value from its key's final reads
  // (the checker must then report exactly one lost write).
  bool plant_lost_write = false;
};

struct NemesisResult {
  std::string run_dir;
  std::vector<Fault> plan;
  std::map<std::string, uint64_t> faults_applied;  // by kind name
  uint64_t reads = 0, reads_ok = 0, writes = 0, writes_ok = 0, writes_failed = 0, writes_unknown = 0;
  uint64_t keys = 0, final_reads = 0;
  std::string planted;              // what --plant-lost-write dropped ("" = nothing)
  CheckReport check;
  std::map<std::string, FaultImpact> impact;  // by fault kind ("none": no fault in force)
  std::vector<std::string> problems;  // crashes, lost set elements, failed set-up or final reads
  std::vector<std::string> notes;     // things worth knowing that are not violations

  bool clean() const { return check.clean() && problems.empty(); }
};

// Runs it. Set-up failures (a node that does not start) are problems too.
NemesisResult RunNemesis(const NemesisOptions& options);

// The schedule, the counts, the problems and the checker's report, as printed.
std::string NemesisReport(const NemesisResult& result);

}  // namespace kvring::test
