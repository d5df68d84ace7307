// test/util/nemesis_faults.h — the faults of the nemesis harness (build/kvnemesis,
// docs/testing.md "The nemesis") and their schedule: which fault, on which nodes,
// from when to when, all drawn from the run's seed. PlanFaults is a pure
// function of its options, so a seed always gives the same schedule (the real
// processes then do what they do: see docs/testing.md on what replays).
//
// Network faults are iptables rules in a private network namespace (nodes on
// 127.0.0.1..N, the harness's own clients from 127.0.0.9, never cut); RulesFor
// spells each fault's rules out (insert them with -I, remove them with -D).
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kvring::test {

enum class FaultKind {
  kPartitionOne,       // one node cut from every other
  kPartitionMinority,  // two nodes cut from the other three (they still see each other)
  kPartitionBridge,    // two halves that each see one bridge node: two overlapping majorities
  kPartitionRing,      // a ring: each node sees its two neighbours only (overlapping majorities)
  kOneWayIn,           // a node receives nothing from the others (iptables INPUT only)
  kOneWayOut,          // nothing a node sends reaches the others (iptables OUTPUT only)
  kPacketLoss,         // a node's traffic to and from the others dropped at random
  kPause,              // SIGSTOP, healed by SIGCONT
  kKill,               // kill -9, healed by a restart on the same data
  kClockSkew,          // the node's wall clock jumps by an offset, and back when healed
  kSyncErrors,         // every fdatasync fails with EIO
  kDiskFull,           // the node's tmpfs data directory is filled (optional: --disk-full)
  kDelay,              // every node-to-node call the node sends waits param ms first (a slow link out)
  kPowerLoss,          // the node loses its unsynced bytes and exits, healed by a restart (optional: --power-loss)
};
inline constexpr FaultKind kAllFaultKinds[] = {
    FaultKind::kPartitionOne, FaultKind::kPartitionMinority, FaultKind::kPartitionBridge,
    FaultKind::kPartitionRing, FaultKind::kOneWayIn,          FaultKind::kOneWayOut,
    FaultKind::kPacketLoss,   FaultKind::kPause,             FaultKind::kKill,
    FaultKind::kClockSkew,    FaultKind::kSyncErrors,        FaultKind::kDiskFull,
    FaultKind::kDelay,        FaultKind::kPowerLoss,
};

const char* FaultKindName(FaultKind kind);  // "partition-one", "pause", ...
// True for the kinds made of iptables rules (they need the namespace).
bool IsNetworkFault(FaultKind kind);

struct Fault {
  FaultKind kind = FaultKind::kPause;
  std::vector<int> nodes;   // 0-based node indexes; for a ring, the ring's order
  uint64_t start_ms = 0;    // after the workload started
  uint64_t end_ms = 0;      // healed then
  int64_t param = 0;        // packet loss: percent dropped; clock skew: offset in ms; delay: ms
};

// "12.5 s - 18.0 s  partition-minority n2 n4" (node names are n<index+1>).
std::string FaultText(const Fault& fault);

struct FaultPlanOptions {
  uint64_t seed = 1;
  uint64_t duration_ms = 60'000;  // faults start and end within this
  int nodes = 5;
  bool network = true;            // network kinds allowed (a namespace was made)
  int disk_full_node = -1;        // the node whose data dir is a tmpfs (-1: no disk-full faults)
  bool power_loss = false;        // power-loss faults (the nodes run --sync always)
  uint64_t min_gap_ms = 2'000;    // between the starts of consecutive faults
  uint64_t max_gap_ms = 5'000;
  uint64_t min_length_ms = 3'000;
  uint64_t max_length_ms = 10'000;
  uint64_t max_skew_ms = 300'000;  // clock skews are ±1 s .. ± this
};

// The schedule, in start order. At most one process fault (pause, kill, clock,
// sync, disk) per node at a time, and at most two nodes paused or killed at
// once, so the faults heal in the order they were planned.
std::vector<Fault> PlanFaults(const FaultPlanOptions& options);

// The iptables argument lists of a network fault (without -I/-D: each starts
// with the chain), for hosts[i] = node i's address. Empty for other kinds.
std::vector<std::vector<std::string>> RulesFor(const Fault& fault, const std::vector<std::string>& hosts);

}  // namespace kvring::test
