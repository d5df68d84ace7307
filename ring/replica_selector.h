// ring/replica_selector.h — picks the replicas of one token from the physical
// nodes met walking the ring clockwise (internal to ring/; Ring drives it).
//
// Replicas are drawn from groups: one group for a total N (the whole cluster), or
// one per datacenter of a per-DC spec. Within a group the rule is Cassandra's
// NetworkTopologyStrategy: a node whose rack the group has not used yet is taken;
// a node of an already-used rack is set aside, and taken (in ring order) only once
// every rack of the group holds a replica. Nodes already taken or set aside are
// skipped when met again (their other virtual nodes). All state lives in fixed
// arrays: no allocation.
// Thread safety: needs external synchronization (one per lookup, on the stack).
#pragma once

#include <array>
#include <cstdint>

#include "ring/replication_spec.h"

namespace kvring::ring {

// Group scope meaning "every datacenter".
inline constexpr uint32_t kAnyDc = UINT32_MAX;

struct PlacementGroup {
  uint32_t dc = kAnyDc;  // datacenter index in the ring, or kAnyDc
  uint32_t want = 0;     // replicas to take: min(N for the scope, nodes in the scope)
  uint32_t racks = 0;    // distinct racks in the scope
};

// The groups of one replication spec resolved against one ring.
// Invariant: sum of want <= kMaxReplicas and every want >= 1.
struct PlacementPlan {
  std::array<PlacementGroup, kMaxReplicas> groups{};
  uint32_t size = 0;
  uint32_t want_total = 0;
};

class ReplicaSelector {
 public:
  // node_dc[i] / node_rack[i]: datacenter and rack index of node i (rack indices
  // are unique across datacenters). Both arrays must outlive the selector.
  ReplicaSelector(const PlacementPlan& plan, const uint32_t* node_dc, const uint32_t* node_rack);

  // Offers the owner of the next virtual node clockwise. Returns true once every
  // group holds its replicas (the walk can stop).
  bool Offer(uint32_t node);
  // Ends a walk that went all the way round: takes set-aside nodes while a group
  // still has room (unreachable with a consistent plan; kept as a safety net).
  void Finish();

  bool done() const { return taken_ == plan_.want_total; }
  uint32_t size() const { return taken_; }
  // Taken node indices, in the order taken. REQUIRES: i < size().
  uint32_t node(uint32_t i) const { return chosen_[i]; }

 private:
  struct GroupState {
    uint32_t offset = 0;   // start of this group's slices in racks_ / aside_
    uint32_t taken = 0;
    uint32_t racks_used = 0;
    uint32_t aside = 0;
    uint32_t aside_next = 0;  // first set-aside node not taken yet
  };

  int GroupOf(uint32_t node) const;
  bool Seen(const GroupState& g, uint32_t node) const;
  bool RackUsed(const GroupState& g, uint32_t rack) const;
  void Take(GroupState& g, uint32_t node);
  void TakeSetAside(GroupState& g, uint32_t want);

  const PlacementPlan& plan_;
  const uint32_t* const node_dc_;
  const uint32_t* const node_rack_;
  std::array<GroupState, kMaxReplicas> groups_{};
  std::array<uint32_t, kMaxReplicas> chosen_{};
  std::array<uint32_t, kMaxReplicas> racks_{};  // per group: racks used
  std::array<uint32_t, kMaxReplicas> aside_{};  // per group: set-aside nodes, ring order
  uint32_t taken_ = 0;
};

}  // namespace kvring::ring
