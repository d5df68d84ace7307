// test/util/sim_run.h — one seeded run of the deterministic cluster simulator:
// a SimCluster (test/util/sim_cluster.h) of simulated nodes, clients putting,
// deleting and getting a few keys through random coordinators (with the context
// of their last get or receipt, an older one, or none; a third of them strict),
// while links delay, drop and reorder messages, partitions come and go in both
// modes and nodes go down and come back. Then every fault heals and each key is
// read at ALL twice. Every operation is recorded in a history (test/util/history.h)
// on the simulated clock, and the history checker runs on it at the end.
//
// What must hold (each a gtest failure naming the key, so the caller prints the
// seed): every get answers values some write wrote, under the acknowledged dot;
// after healing every acknowledged write is in the final read unless a write whose
// context covered it came later; two reads at ALL agree and read repair left every
// replica with that set; every callback ran once; and the checker finds nothing
// (no lost write, no stale strict read, no phantom, no resurrection).
//
// Everything is drawn from the seed (the network's and the clients' draws; the
// engines keep everything in memory and complete inline), so a seed replays
// bit for bit: the trace hash says so (docs/testing.md, "The simulator").
// Thread safety: needs external synchronization (one thread drives a run).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "test/util/fake_transport.h"
#include "test/util/history_checker.h"

namespace kvring::repl::testing {

struct SimRunOptions {
  uint64_t seed = 1;
  int steps = 500;  // client steps; each runs the network for up to 30 ms of simulated time
  int nodes = 5;
  int keys = 6;
  int clients = 6;
};

struct SimRunResult {
  uint64_t acknowledged = 0;  // writes
  uint64_t failed = 0;        // writes that failed or timed out (indeterminate)
  uint64_t gets = 0;
  uint64_t faults = 0;        // fault changes: partitions, downs, slow and lossy links, heals
  uint64_t simulated_us = 0;  // simulated time the run covered
  test::FakeNetworkStats network;
  std::vector<std::string> trace;  // the network's, message by message
  uint64_t trace_hash = 0;         // of the trace and the final state: equal runs, equal hashes
  std::string final_state;         // every replica's encoded set of every key
  test::History history;
  test::CheckReport check;         // the checker's verdict on the history
};

// Runs one seed. Failures are reported through gtest (EXPECT/ADD_FAILURE).
SimRunResult RunSimulation(const SimRunOptions& options);

// "acked 142, failed 26, gets 108, faults 40; 698 calls: ..." for logs.
std::string SimRunSummary(const SimRunResult& result);

}  // namespace kvring::repl::testing
