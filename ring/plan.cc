#include "ring/plan.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace kvring::ring {

// --- Transfers ----------------------------------------------------------------

LoadModel::LoadModel(const Ring& ring, std::map<std::string, RangeSize> loads) {
  for (auto& [id, size] : loads) loads_[id].size = size;
  ring.ForEachRange([&](const TokenRange& range, const PreferenceList& replicas) {
    for (const NodeInfo* node : replicas) {
      auto it = loads_.find(node->id);
      if (it != loads_.end()) it->second.replicated += range.span();
    }
  });
}

RangeSize LoadModel::Estimate(const TokenRange& range, const NodeInfo& holder) const {
  const auto it = loads_.find(holder.id);
  if (it == loads_.end() || it->second.replicated == 0) return RangeSize{};
  const Load& load = it->second;
  // 64-bit load × at most 2^64 tokens fits in 128 bits.
  auto share = [&](uint64_t total) {
    return static_cast<uint64_t>(TokenCount{total} * range.span() / load.replicated);
  };
  return RangeSize{share(load.size.bytes), share(load.size.keys)};
}

RangeSizeFn LoadModel::AsFunction() const {
  return [this](const TokenRange& range, const NodeInfo& holder) { return Estimate(range, holder); };
}

namespace {

using PairMap = std::map<std::pair<std::string, std::string>, PairTransfer>;

// Prices each move on its assigned source; a move with no source is lost.
PairMap PriceMoves(const RingTransition& transition, const RangeSizeFn& size, std::vector<TokenRange>* lost) {
  PairMap pairs;
  for (const RangeMove& move : transition.moves()) {
    if (move.sources.empty()) {
      lost->push_back(move.range);
      continue;
    }
    const NodeInfo* source = transition.from().FindNode(move.source());
    assert(source != nullptr);
    const RangeSize estimate = size(move.range, *source);
    PairTransfer& pair = pairs[{move.source(), move.destination}];
    pair.source = move.source();
    pair.destination = move.destination;
    pair.ranges += 1;
    pair.bytes += estimate.bytes;
    pair.keys += estimate.keys;
  }
  return pairs;
}

// Sets plan->busiest: the node whose bytes sent plus received are the most.
void FindBusiest(TransferPlan* plan) {
  std::map<std::string, uint64_t> traffic;
  for (const PairTransfer& pair : plan->pairs) {
    traffic[pair.source] += pair.bytes;
    traffic[pair.destination] += pair.bytes;
  }
  for (const auto& [node, bytes] : traffic) {
    if (plan->busiest.empty() || bytes > plan->busiest_bytes) {
      plan->busiest = node;
      plan->busiest_bytes = bytes;
    }
  }
}

}  // namespace

TransferPlan PlanTransfers(const RingTransition& transition, const RangeSizeFn& size, double stream_rate) {
  assert(stream_rate > 0);
  TransferPlan plan;
  plan.stream_rate = stream_rate;
  for (auto& [ids, pair] : PriceMoves(transition, size, &plan.lost)) {
    plan.ranges += pair.ranges;
    plan.bytes += pair.bytes;
    plan.keys += pair.keys;
    plan.pairs.push_back(std::move(pair));
  }
  FindBusiest(&plan);
  plan.seconds = static_cast<double>(plan.busiest_bytes) / stream_rate;
  return plan;
}

// --- Survivability ------------------------------------------------------------

const char* FailureScopeName(FailureScope scope) {
  switch (scope) {
    case FailureScope::kNone: return "no failure";
    case FailureScope::kNode: return "any one node";
    case FailureScope::kRack: return "any one rack";
    case FailureScope::kDc: return "any one datacenter";
  }
  return "?";
}

const char* QuorumLevelName(QuorumLevel level) { return level == QuorumLevel::kQuorum ? "QUORUM" : "LOCAL_QUORUM"; }

size_t QuorumOf(size_t replicas, size_t spec_n) { return std::max(replicas, spec_n) / 2 + 1; }

namespace {

// The ring reduced to what survivability needs: per node its DC and rack, per arc
// its replicas. Indices follow sorted names.
struct Topology {
  explicit Topology(const Ring& ring) {
    std::map<std::pair<std::string, std::string>, size_t> racks;
    for (const NodeInfo& node : ring.nodes()) racks.emplace(std::make_pair(node.dc, node.rack), 0);
    for (auto& [name, index] : racks) {
      index = rack_names.size();
      rack_names.push_back(name.first + "/" + name.second);
    }
    const std::vector<std::string>& dcs = ring.datacenters();
    for (const NodeInfo& node : ring.nodes()) {
      ids.push_back(node.id);
      node_dc.push_back(static_cast<size_t>(std::lower_bound(dcs.begin(), dcs.end(), node.dc) - dcs.begin()));
      node_rack.push_back(racks.at({node.dc, node.rack}));
    }
    for (const std::string& dc : dcs) {
      spec_in_dc.push_back(ring.replication().per_dc() ? ring.replication().ReplicasIn(dc) : 0);
    }
    spec_total = static_cast<size_t>(ring.replication().total());
    ring.ForEachRange([&](const TokenRange& range, const PreferenceList& replicas) {
      Arc arc{range, {}};
      for (const NodeInfo* node : replicas) arc.replicas.push_back(ring.IndexOf(*node));
      arcs.push_back(std::move(arc));
    });
  }

  struct Arc {
    TokenRange range;
    std::vector<size_t> replicas;  // node indices, preference order
  };
  std::vector<std::string> ids;
  std::vector<size_t> node_dc, node_rack;
  std::vector<std::string> rack_names;
  std::vector<size_t> spec_in_dc;  // per-DC spec: replicas asked for per DC (else 0)
  size_t spec_total = 0;
  std::vector<Arc> arcs;
};

// One failure: the nodes it takes down, and which DCs keep a live node (a
// coordinator there can still ask for LOCAL_QUORUM).
struct Failure {
  std::string name;
  std::vector<bool> down;      // per node
  std::vector<bool> dc_alive;  // per DC
};

std::vector<Failure> FailuresOf(const Topology& topo, FailureScope scope, const std::vector<std::string>& dcs) {
  const size_t nodes = topo.ids.size();
  std::vector<Failure> out;
  auto add = [&](std::string name, auto&& is_down) {
    Failure f{std::move(name), std::vector<bool>(nodes), std::vector<bool>(dcs.size(), false)};
    for (size_t n = 0; n < nodes; ++n) {
      f.down[n] = is_down(n);
      if (!f.down[n]) f.dc_alive[topo.node_dc[n]] = true;
    }
    out.push_back(std::move(f));
  };
  if (scope == FailureScope::kNone) add("", [](size_t) { return false; });
  if (scope == FailureScope::kNode) {
    for (size_t i = 0; i < nodes; ++i) add(topo.ids[i], [i](size_t n) { return n == i; });
  }
  if (scope == FailureScope::kRack) {
    for (size_t r = 0; r < topo.rack_names.size(); ++r) {
      add(topo.rack_names[r], [&, r](size_t n) { return topo.node_rack[n] == r; });
    }
  }
  if (scope == FailureScope::kDc) {
    for (size_t d = 0; d < dcs.size(); ++d) add(dcs[d], [&, d](size_t n) { return topo.node_dc[n] == d; });
  }
  return out;
}

// Fills *loss with `arc` and the counts, and returns true.
bool Lose(const Topology& topo, const Topology::Arc& arc, std::string dc, size_t alive, size_t needed,
          QuorumLoss* loss) {
  loss->range = arc.range;
  loss->replicas.clear();
  for (size_t n : arc.replicas) loss->replicas.push_back(topo.ids[n]);
  loss->dc = std::move(dc);
  loss->alive = alive;
  loss->needed = needed;
  return true;
}

bool LosesQuorum(const Topology& topo, const Topology::Arc& arc, const Failure& failure, QuorumLoss* loss) {
  size_t alive = 0;
  for (size_t n : arc.replicas) alive += failure.down[n] ? 0 : 1;
  const size_t needed = QuorumOf(arc.replicas.size(), topo.spec_total);
  return alive < needed && Lose(topo, arc, "", alive, needed, loss);
}

bool LosesLocalQuorum(const Topology& topo, const Topology::Arc& arc, const Failure& failure,
                      const std::vector<std::string>& dc_names, QuorumLoss* loss) {
  bool any_dc = false;  // a DC with a live node holds replicas of the arc
  for (size_t d = 0; d < dc_names.size(); ++d) {
    if (!failure.dc_alive[d]) continue;  // no coordinator left there to ask
    size_t in_dc = 0, alive = 0;
    for (size_t n : arc.replicas) {
      if (topo.node_dc[n] != d) continue;
      ++in_dc;
      alive += failure.down[n] ? 0 : 1;
    }
    if (in_dc == 0) continue;  // no replica there: no LOCAL_QUORUM is asked of this DC
    any_dc = true;
    const size_t needed = QuorumOf(in_dc, topo.spec_in_dc[d]);
    if (alive < needed) return Lose(topo, arc, dc_names[d], alive, needed, loss);
  }
  return !any_dc && Lose(topo, arc, "", 0, 1, loss);
}

SurvivalCheck Check(const Topology& topo, const std::vector<std::string>& dc_names, FailureScope scope,
                    QuorumLevel level) {
  SurvivalCheck check;
  check.scope = scope;
  check.level = level;
  const std::vector<Failure> failures = FailuresOf(topo, scope, dc_names);
  check.cases = failures.size();
  for (const Failure& failure : failures) {
    QuorumLoss loss;
    bool fails = false;
    for (size_t a = 0; a < topo.arcs.size() && !fails; ++a) {
      const Topology::Arc& arc = topo.arcs[a];
      fails = level == QuorumLevel::kQuorum ? LosesQuorum(topo, arc, failure, &loss)
                                            : LosesLocalQuorum(topo, arc, failure, dc_names, &loss);
    }
    if (!fails || check.failing++ > 0) continue;
    loss.failed = failure.name;
    check.first = std::move(loss);
  }
  return check;
}

}  // namespace

std::vector<SurvivalCheck> AnalyzeSurvivability(const Ring& ring) {
  std::vector<SurvivalCheck> rows;
  if (ring.vnode_count() == 0) return rows;
  const Topology topo(ring);
  for (FailureScope scope : {FailureScope::kNone, FailureScope::kNode, FailureScope::kRack, FailureScope::kDc}) {
    for (QuorumLevel level : {QuorumLevel::kQuorum, QuorumLevel::kLocalQuorum}) {
      rows.push_back(Check(topo, ring.datacenters(), scope, level));
    }
  }
  return rows;
}

// --- The whole plan -----------------------------------------------------------

ChangePlan PlanChange(const MembershipChange& change, const RingTransition& transition, const RangeSizeFn& size,
                      double stream_rate) {
  ChangePlan plan;
  plan.change = change;
  plan.arcs_changing = transition.arcs_to_hand_over();
  plan.transfers = PlanTransfers(transition, size, stream_rate);
  plan.survival = AnalyzeSurvivability(transition.to());
  return plan;
}

}  // namespace kvring::ring
