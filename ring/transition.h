// ring/transition.h — a ring in transition: the ring in force, the ring after one
// pending membership change, and, for every token range on which they differ, who
// replicates it before and after and which ranges must be streamed from whom to
// whom. docs/replication.md ("Membership changes: rings in transition") tells the
// whole story; this file is the pure logic under it (no streaming, no gossip).
//
// The arcs of a transition are the arcs of both rings cut at the union of their
// virtual-node tokens, so every token of an arc has one old and one new replica
// set. During the change:
//   - a write goes to old ∪ new (WriteReplicas); only the read set's replicas count
//     towards W, so the pending ones (new minus old) are written but not counted
//     and W keeps its meaning;
//   - a read goes to the old replicas until its arc is marked handed over
//     (MarkHandedOver), then to the new ones (ReadReplicas);
//   - the change is complete when every arc whose replica set changes is handed over.
//
// One change at a time: StartChange refuses a change while another one runs and
// names the running one (a queue would let an operator stack changes whose plans
// were computed against rings that no longer exist).
//
// Thread safety: a value. The const methods are safe from any thread; MarkHandedOver
// is not: the owner marks a copy and publishes it (copy-on-write, like rings in
// ring/membership_view.h).
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ring/ring.h"

namespace kvring::ring {

enum class ChangeKind { kJoin, kDecommission, kRemoveNode, kReplace, kSetWeight };

// One membership change, as an operator asks for it.
struct MembershipChange {
  ChangeKind kind = ChangeKind::kJoin;
  NodeInfo node;       // join: the new node; replace: the replacing node (ApplyChange gives it the dead node's token id and weight)
  std::string target;  // decommission, removenode, set-weight: the member; replace: the dead member
  double weight = 0;   // set-weight: the new weight

  static MembershipChange Join(NodeInfo node);
  static MembershipChange Decommission(std::string id);
  static MembershipChange RemoveNode(std::string id);
  static MembershipChange Replace(std::string dead_id, NodeInfo replacement);
  static MembershipChange SetWeight(std::string id, double weight);

  // "join of n4", "decommission of n2", "removenode of n3", "replace of n3 by n5",
  // "set-weight of n1 to 2".
  std::string ToString() const;
  // The member whose data must not be read any more (removenode, replace: it is
  // gone); empty for the others.
  std::string_view unavailable() const;
};

// The member list after `change`, or why the change cannot apply to `members`:
// joining an id (or address) already there, naming a member that is not there,
// removing the last member, a weight that does not change, a replacement in
// another dc or rack than the dead node. A replacement takes the dead node's
// token id and weight, so it holds exactly the dead node's virtual nodes.
[[nodiscard]] base::Result<std::vector<NodeInfo>> ApplyChange(const std::vector<NodeInfo>& members,
                                                              const MembershipChange& change);

// Every node a write of one token goes to during a transition: old ∪ new, the old
// replicas first, no node twice. counts(i) says whether node i's ack counts towards
// W: before the arc is handed over the old replicas count and the pending ones do
// not; after it, the new replicas count and the old ones still written do not.
// Fixed capacity: building one never allocates.
class WriteSet {
 public:
  size_t size() const { return size_; }
  // REQUIRES: i < size().
  const NodeInfo& operator[](size_t i) const { return *nodes_[i]; }
  bool counts(size_t i) const { return counts_[i]; }
  // How many of the nodes count towards W.
  size_t counted() const;
  bool ContainsId(std::string_view id) const;
  // "[n1, n2, n3, +n4]": a '+' marks a node that does not count towards W.
  std::string ToString() const;

  // REQUIRES: size() < 2 * kMaxReplicas and !ContainsId(node->id).
  void PushBack(const NodeInfo* node, bool counts);

 private:
  std::array<const NodeInfo*, 2 * kMaxReplicas> nodes_{};
  std::array<bool, 2 * kMaxReplicas> counts_{};
  size_t size_ = 0;
};

// One arc of a transition. The lists point into the transition's rings.
struct TransitionRange {
  TokenRange range;
  PreferenceList old_replicas;  // the read set until the arc is handed over
  PreferenceList new_replicas;  // the read set after
  PreferenceList pending;       // new minus old (by id): written, not counted towards W

  // The old and new replica sets differ (as sets of ids): the arc needs a handover.
  bool changes() const;
};

// One arc that one node must receive.
struct RangeMove {
  TokenRange range;
  // Old replicas that hold the arc and may send it, the preferred first: an old
  // replica the change takes the arc from (it has every write the arc saw while it
  // was a replica: Cassandra's consistent range movement), then the others in
  // preference order. Never the member the change names as gone. Empty when no
  // live copy is left (removenode of a range's only replica): that arc is lost.
  std::vector<std::string> sources;
  std::string destination;  // a new replica that is not an old one

  // The source the plan assigns ("" when none).
  const std::string& source() const;
};

// What one source streams to one destination: its arcs, adjacent ones merged.
struct NodeStreams {
  std::string source;
  std::string destination;
  std::vector<TokenRange> ranges;
};

class RingTransition {
 public:
  // The transition from `from` to `to`. `unavailable` names members that may not
  // serve as sources (a node removed or replaced because it is gone).
  // REQUIRES: both rings non-null.
  static RingTransition Compute(std::shared_ptr<const Ring> from, std::shared_ptr<const Ring> to,
                                std::string unavailable = "");

  const Ring& from() const { return *from_; }
  const Ring& to() const { return *to_; }
  const std::shared_ptr<const Ring>& from_ring() const { return from_; }
  const std::shared_ptr<const Ring>& to_ring() const { return to_; }
  const std::string& unavailable() const { return unavailable_; }

  // Every arc, in token order (arc i ends at the i-th token of either ring).
  const std::vector<TransitionRange>& ranges() const { return ranges_; }
  // Every (arc, destination) that must be streamed, in token order.
  const std::vector<RangeMove>& moves() const { return moves_; }
  // Per (source, destination), sorted by ids: what moves() assigns to that pair.
  const std::vector<NodeStreams>& streams() const { return streams_; }
  // Index into ranges() of the arc holding `t`. REQUIRES: !ranges().empty().
  size_t ArcOf(Token t) const;

  // --- What the coordinator asks ---
  PreferenceList ReadReplicas(Token t) const;
  WriteSet WriteReplicas(Token t) const;

  // --- Advancing the transition ---
  // Marks every arc inside `range` handed over: reads of it go to the new replicas.
  // InvalidArgument unless `range` starts and ends on arc boundaries.
  [[nodiscard]] base::Status MarkHandedOver(const TokenRange& range);
  bool HandedOver(Token t) const { return handed_over_[ArcOf(t)]; }
  // Arcs whose replica set changes, and how many of them are handed over.
  size_t arcs_to_hand_over() const { return to_hand_over_; }
  size_t arcs_handed_over() const { return handed_over_count_; }
  bool complete() const { return handed_over_count_ == to_hand_over_; }

 private:
  RingTransition() = default;
  void ComputeArcs();
  void ComputeMoves();
  void ComputeStreams();
  // The arc index whose end is `t`, or ranges_.size() when none ends there.
  size_t ArcEndingAt(Token t) const;

  std::shared_ptr<const Ring> from_, to_;
  std::string unavailable_;
  std::vector<Token> ends_;  // ends_[i] = ranges_[i].range.end, strictly increasing
  std::vector<TransitionRange> ranges_;
  std::vector<RangeMove> moves_;
  std::vector<NodeStreams> streams_;
  std::vector<bool> handed_over_;  // per arc; unchanged arcs start handed over
  size_t to_hand_over_ = 0;
  size_t handed_over_count_ = 0;
};

// The transition for `change` on the members in force, or why not: Busy naming the
// change already running when `running` is set (one change at a time), or
// ApplyChange's errors. The new ring has `version` + 1.
[[nodiscard]] base::Result<RingTransition> StartChange(const std::vector<NodeInfo>& in_force,
                                                       const RingOptions& options, const MembershipChange& change,
                                                       const MembershipChange* running = nullptr, uint64_t version = 0);

}  // namespace kvring::ring
