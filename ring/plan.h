// ring/plan.h — what a membership change would cost and what the ring it leaves
// survives: the analysis behind `kvctl plan` (docs/operations.md).
//
// Transfers: each move of a RingTransition is priced with a size estimate of its
// arc on its assigned source, summed per (source, destination) pair, with an ETA
// at a stream rate. Survivability: for a ring, whether every arc keeps a quorum of
// its replicas alive when any one node, any one rack or any one whole datacenter
// fails, at QUORUM (over all of a key's replicas) and at LOCAL_QUORUM (in each
// datacenter holding replicas, the failed one excepted). Both are exact: every arc
// of the ring and every failure is checked, nothing is sampled. A datacenter left
// with no live node at all asks for nothing (its clients have no coordinator
// there); LOCAL_QUORUM fails when no datacenter with a live node holds replicas.
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ring/ring.h"
#include "ring/transition.h"

namespace kvring::ring {

// --- Transfers ----------------------------------------------------------------

struct RangeSize {
  uint64_t bytes = 0;
  uint64_t keys = 0;
};

// The data of `range` as held by the replica `holder`.
using RangeSizeFn = std::function<RangeSize(const TokenRange& range, const NodeInfo& holder)>;

// Estimates range sizes from per-node loads (bytes and keys in each node's engine):
// a node's load is split over the arcs it replicates in `ring` in proportion to
// their token span (uniform keys: the token is a hash).
class LoadModel {
 public:
  // `loads` by node id; a node without an entry holds nothing.
  LoadModel(const Ring& ring, std::map<std::string, RangeSize> loads);

  // floor(load × span(range) / span replicated by the holder); 0 for a node that
  // replicates nothing. The sum over a node's ranges is its load, less at most one
  // byte and one key per range (the floors).
  RangeSize Estimate(const TokenRange& range, const NodeInfo& holder) const;
  RangeSizeFn AsFunction() const;

 private:
  struct Load {
    RangeSize size;
    TokenCount replicated = 0;  // tokens of the arcs the node replicates
  };
  std::map<std::string, Load> loads_;
};

struct PairTransfer {
  std::string source;
  std::string destination;
  size_t ranges = 0;  // arcs
  uint64_t bytes = 0;
  uint64_t keys = 0;
};

struct TransferPlan {
  std::vector<PairTransfer> pairs;  // sorted by (source, destination)
  size_t ranges = 0;                // arcs moved (with a source)
  uint64_t bytes = 0;
  uint64_t keys = 0;
  // Arcs that no live replica holds (removenode of their only copy): lost.
  std::vector<TokenRange> lost;
  // The node that sends or receives the most bytes, and that many bytes: with the
  // stream rate capping each node, it sets the ETA.
  std::string busiest;
  uint64_t busiest_bytes = 0;
  double stream_rate = 0;  // bytes per second per node
  double seconds = 0;      // busiest_bytes / stream_rate
};

// Prices every move of `transition` with `size` on its assigned source.
// REQUIRES: stream_rate > 0.
TransferPlan PlanTransfers(const RingTransition& transition, const RangeSizeFn& size, double stream_rate);

// --- Survivability ------------------------------------------------------------

enum class FailureScope { kNone, kNode, kRack, kDc };
enum class QuorumLevel { kQuorum, kLocalQuorum };

const char* FailureScopeName(FailureScope scope);  // "none", "any one node", ...
const char* QuorumLevelName(QuorumLevel level);    // "QUORUM", "LOCAL_QUORUM"

// How one failure makes one arc lose its quorum.
struct QuorumLoss {
  std::string failed;                 // "n2", "dc1/rack1", "dc2" ("" for no failure)
  TokenRange range;                   // the arc
  std::vector<std::string> replicas;  // its replicas, in preference order
  std::string dc;                     // LOCAL_QUORUM: the DC whose local quorum is lost ("" when no
                                      // DC with a live node holds replicas of the arc)
  size_t alive = 0;                   // replicas left (in dc, for LOCAL_QUORUM)
  size_t needed = 0;                  // the quorum
};

// One row of the survivability table: a failure scope at one level.
struct SurvivalCheck {
  FailureScope scope = FailureScope::kNone;
  QuorumLevel level = QuorumLevel::kQuorum;
  size_t cases = 0;    // failures tried: 1, the nodes, the (dc, rack) pairs, or the DCs
  size_t failing = 0;  // of them, those that leave some arc without a quorum
  QuorumLoss first;    // when failing > 0: the first (failures in name order, arcs in token order)

  bool survives() const { return failing == 0; }
};

// The quorum of `replicas` replicas under a spec asking for `spec_n`: as the
// coordinator counts it, max(replicas, spec_n) / 2 + 1.
size_t QuorumOf(size_t replicas, size_t spec_n);

// Rows for none, node, rack and DC, each at QUORUM then LOCAL_QUORUM.
// LOCAL_QUORUM asks, in every DC that holds replicas of the arc and keeps a live
// node, for a quorum of the arc's replicas there (of max(replicas there, the
// spec's count for the DC) with a per-DC spec). An empty ring gives no rows.
std::vector<SurvivalCheck> AnalyzeSurvivability(const Ring& ring);

// --- The whole plan -----------------------------------------------------------

struct ChangePlan {
  MembershipChange change;
  size_t arcs_changing = 0;  // arcs whose replica set changes
  TransferPlan transfers;
  std::vector<SurvivalCheck> survival;  // of the resulting ring
};

ChangePlan PlanChange(const MembershipChange& change, const RingTransition& transition, const RangeSizeFn& size,
                      double stream_rate);

}  // namespace kvring::ring
