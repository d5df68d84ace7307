#include "test/util/nemesis_faults.h"

#include <algorithm>
#include <cstdio>

#include "base/random.h"

namespace kvring::test {

namespace {

bool IsProcessFault(FaultKind kind) { return !IsNetworkFault(kind); }
bool StopsNode(FaultKind kind) {
  return kind == FaultKind::kPause || kind == FaultKind::kKill || kind == FaultKind::kPowerLoss;
}

// 0..n-1 in a random order.
std::vector<int> Shuffled(base::Random* rnd, int n) {
  std::vector<int> order;
  for (int i = 0; i < n; ++i) order.push_back(i);
  for (int i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[rnd->Uniform(static_cast<uint64_t>(i) + 1)]);
  return order;
}

std::vector<FaultKind> AllowedKinds(const FaultPlanOptions& o) {
  std::vector<FaultKind> kinds;
  for (FaultKind k : kAllFaultKinds) {
    if (IsNetworkFault(k) && !o.network) continue;
    if (k == FaultKind::kDiskFull && o.disk_full_node < 0) continue;
    if (k == FaultKind::kPowerLoss && !o.power_loss) continue;
    if ((k == FaultKind::kPartitionBridge || k == FaultKind::kPartitionRing) && o.nodes < 5) continue;
    kinds.push_back(k);
  }
  return kinds;
}

// Nodes free of process faults at time t, and how many are paused or killed then.
std::vector<int> FreeNodes(const std::vector<Fault>& plan, int nodes, uint64_t t, int* stopped) {
  std::vector<bool> busy(static_cast<size_t>(nodes), false);
  *stopped = 0;
  for (const Fault& f : plan) {
    if (f.end_ms <= t || !IsProcessFault(f.kind)) continue;
    for (int n : f.nodes) busy[static_cast<size_t>(n)] = true;
    if (StopsNode(f.kind)) ++*stopped;
  }
  std::vector<int> free;
  for (int i = 0; i < nodes; ++i) {
    if (!busy[static_cast<size_t>(i)]) free.push_back(i);
  }
  return free;
}

// The nodes of a process fault at t; empty when none may take it.
std::vector<int> ProcessTarget(base::Random* rnd, const FaultPlanOptions& o, const std::vector<Fault>& plan,
                               FaultKind kind, uint64_t t) {
  int stopped = 0;
  std::vector<int> free = FreeNodes(plan, o.nodes, t, &stopped);
  if (StopsNode(kind) && stopped >= 2) return {};
  if (kind == FaultKind::kDiskFull) {
    if (std::find(free.begin(), free.end(), o.disk_full_node) == free.end()) return {};
    return {o.disk_full_node};
  }
  if (free.empty()) return {};
  return {free[rnd->Uniform(free.size())]};
}

int64_t ParamOf(base::Random* rnd, const FaultPlanOptions& o, FaultKind kind) {
  if (kind == FaultKind::kPacketLoss) return static_cast<int64_t>(rnd->Range(10, 60));  // percent
  // Below, around and past the timeouts (500 ms probe, 1 s request and gossip round).
  if (kind == FaultKind::kDelay) return static_cast<int64_t>(rnd->Range(20, 1'500));
  if (kind == FaultKind::kClockSkew) {
    const int64_t ms = static_cast<int64_t>(rnd->Range(1'000, std::max<uint64_t>(1'000, o.max_skew_ms)));
    return rnd->OneIn(2) ? ms : -ms;
  }
  return 0;
}

std::vector<int> NetworkTarget(base::Random* rnd, const FaultPlanOptions& o, FaultKind kind) {
  std::vector<int> order = Shuffled(rnd, o.nodes);
  switch (kind) {
    case FaultKind::kPartitionMinority: return {order[0], order[1]};
    case FaultKind::kPartitionBridge:                           // the last one is the bridge
    case FaultKind::kPartitionRing: return order;               // the ring's order
    default: return {order[0]};
  }
}

Fault DrawFault(base::Random* rnd, const FaultPlanOptions& o, const std::vector<Fault>& plan, uint64_t t) {
  const std::vector<FaultKind> kinds = AllowedKinds(o);
  Fault f;
  for (int attempt = 0; attempt < 10 && f.nodes.empty(); ++attempt) {
    f.kind = kinds[rnd->Uniform(kinds.size())];
    f.nodes = IsNetworkFault(f.kind) ? NetworkTarget(rnd, o, f.kind) : ProcessTarget(rnd, o, plan, f.kind, t);
  }
  f.start_ms = t;
  f.end_ms = std::min(o.duration_ms, t + rnd->Range(o.min_length_ms, o.max_length_ms));
  f.param = ParamOf(rnd, o, f.kind);
  return f;
}

// Both directions of every pair (a, b) with a in `one` and b in `other`.
void CutBetween(const std::vector<int>& one, const std::vector<int>& other, const std::vector<std::string>& hosts,
                std::vector<std::vector<std::string>>* rules) {
  for (int a : one) {
    for (int b : other) {
      const std::string& ha = hosts[static_cast<size_t>(a)];
      const std::string& hb = hosts[static_cast<size_t>(b)];
      rules->push_back({"INPUT", "-s", ha, "-d", hb, "-j", "DROP"});
      rules->push_back({"INPUT", "-s", hb, "-d", ha, "-j", "DROP"});
    }
  }
}

std::vector<int> Others(const std::vector<int>& nodes, size_t count) {
  std::vector<int> rest;
  for (int i = 0; i < static_cast<int>(count); ++i) {
    if (std::find(nodes.begin(), nodes.end(), i) == nodes.end()) rest.push_back(i);
  }
  return rest;
}

void RingRules(const std::vector<int>& ring, const std::vector<std::string>& hosts,
               std::vector<std::vector<std::string>>* rules) {
  const size_t n = ring.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const size_t distance = std::min(j - i, n - (j - i));
      if (distance > 1) CutBetween({ring[i]}, {ring[j]}, hosts, rules);
    }
  }
}

// One node's traffic with the others: `chain` INPUT (what it receives) or OUTPUT (what it sends).
void OneWayRules(int node, const std::vector<std::string>& hosts, const char* chain,
                 std::vector<std::vector<std::string>>* rules) {
  const std::string& self = hosts[static_cast<size_t>(node)];
  for (int other : Others({node}, hosts.size())) {
    const std::string& peer = hosts[static_cast<size_t>(other)];
    if (std::string(chain) == "INPUT") rules->push_back({"INPUT", "-s", peer, "-d", self, "-j", "DROP"});
    else rules->push_back({"OUTPUT", "-s", self, "-d", peer, "-j", "DROP"});
  }
}

void LossRules(int node, int64_t percent, const std::vector<std::string>& hosts,
               std::vector<std::vector<std::string>>* rules) {
  char p[16];
  std::snprintf(p, sizeof(p), "%.2f", static_cast<double>(percent) / 100.0);
  const std::string& self = hosts[static_cast<size_t>(node)];
  for (int other : Others({node}, hosts.size())) {
    const std::string& peer = hosts[static_cast<size_t>(other)];
    for (const auto& [src, dst] : {std::pair{self, peer}, std::pair{peer, self}}) {
      rules->push_back({"INPUT", "-s", src, "-d", dst, "-m", "statistic", "--mode", "random", "--probability", p,
                        "-j", "DROP"});
    }
  }
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kPartitionOne: return "partition-one";
    case FaultKind::kPartitionMinority: return "partition-minority";
    case FaultKind::kPartitionBridge: return "partition-bridge";
    case FaultKind::kPartitionRing: return "partition-ring";
    case FaultKind::kOneWayIn: return "one-way-in";
    case FaultKind::kOneWayOut: return "one-way-out";
    case FaultKind::kPacketLoss: return "packet-loss";
    case FaultKind::kPause: return "pause";
    case FaultKind::kKill: return "kill";
    case FaultKind::kClockSkew: return "clock-skew";
    case FaultKind::kSyncErrors: return "fsync-errors";
    case FaultKind::kDiskFull: return "disk-full";
    case FaultKind::kDelay: return "delay";
    case FaultKind::kPowerLoss: return "power-loss";
  }
  return "?";
}

bool IsNetworkFault(FaultKind kind) {
  return kind == FaultKind::kPartitionOne || kind == FaultKind::kPartitionMinority ||
         kind == FaultKind::kPartitionBridge || kind == FaultKind::kPartitionRing || kind == FaultKind::kOneWayIn ||
         kind == FaultKind::kOneWayOut || kind == FaultKind::kPacketLoss;
}

std::string FaultText(const Fault& f) {
  char head[64];
  std::snprintf(head, sizeof(head), "%6.1f s - %6.1f s  ", static_cast<double>(f.start_ms) / 1000,
                static_cast<double>(f.end_ms) / 1000);
  std::string text = std::string(head) + FaultKindName(f.kind);
  for (int n : f.nodes) text += " n" + std::to_string(n + 1);
  if (f.kind == FaultKind::kPacketLoss) text += " " + std::to_string(f.param) + "%";
  if (f.kind == FaultKind::kClockSkew) text += (f.param >= 0 ? " +" : " ") + std::to_string(f.param) + " ms";
  if (f.kind == FaultKind::kDelay) text += " " + std::to_string(f.param) + " ms";
  return text;
}

std::vector<Fault> PlanFaults(const FaultPlanOptions& o) {
  base::Random rnd(o.seed * 0x9e3779b97f4a7c15ull + 0x6e656d65);
  std::vector<Fault> plan;
  for (uint64_t t = o.min_gap_ms; t + o.min_length_ms <= o.duration_ms; t += rnd.Range(o.min_gap_ms, o.max_gap_ms)) {
    Fault f = DrawFault(&rnd, o, plan, t);
    if (!f.nodes.empty()) plan.push_back(std::move(f));
  }
  return plan;
}

std::vector<std::vector<std::string>> RulesFor(const Fault& f, const std::vector<std::string>& hosts) {
  std::vector<std::vector<std::string>> rules;
  switch (f.kind) {
    case FaultKind::kPartitionOne:
    case FaultKind::kPartitionMinority: CutBetween(f.nodes, Others(f.nodes, hosts.size()), hosts, &rules); break;
    case FaultKind::kPartitionBridge: {
      const std::vector<int> a(f.nodes.begin(), f.nodes.begin() + 2), b(f.nodes.begin() + 2, f.nodes.end() - 1);
      CutBetween(a, b, hosts, &rules);
      break;
    }
    case FaultKind::kPartitionRing: RingRules(f.nodes, hosts, &rules); break;
    case FaultKind::kOneWayIn: OneWayRules(f.nodes[0], hosts, "INPUT", &rules); break;
    case FaultKind::kOneWayOut: OneWayRules(f.nodes[0], hosts, "OUTPUT", &rules); break;
    case FaultKind::kPacketLoss: LossRules(f.nodes[0], f.param, hosts, &rules); break;
    default: break;
  }
  return rules;
}

}  // namespace kvring::test
