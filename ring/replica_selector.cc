#include "ring/replica_selector.h"

#include <cassert>

namespace kvring::ring {

ReplicaSelector::ReplicaSelector(const PlacementPlan& plan, const uint32_t* node_dc, const uint32_t* node_rack)
    : plan_(plan), node_dc_(node_dc), node_rack_(node_rack) {
  uint32_t offset = 0;
  for (uint32_t g = 0; g < plan_.size; ++g) {
    groups_[g].offset = offset;
    offset += plan_.groups[g].want;
  }
  // Invariant: each group's slices fit the fixed arrays.
  assert(offset == plan_.want_total && offset <= kMaxReplicas);
}

int ReplicaSelector::GroupOf(uint32_t node) const {
  for (uint32_t g = 0; g < plan_.size; ++g) {
    const uint32_t dc = plan_.groups[g].dc;
    if (dc == kAnyDc || dc == node_dc_[node]) return static_cast<int>(g);
  }
  return -1;
}

bool ReplicaSelector::Seen(const GroupState& g, uint32_t node) const {
  for (uint32_t i = 0; i < taken_; ++i) {
    if (chosen_[i] == node) return true;
  }
  for (uint32_t i = g.aside_next; i < g.aside; ++i) {
    if (aside_[g.offset + i] == node) return true;
  }
  return false;
}

bool ReplicaSelector::RackUsed(const GroupState& g, uint32_t rack) const {
  for (uint32_t i = 0; i < g.racks_used; ++i) {
    if (racks_[g.offset + i] == rack) return true;
  }
  return false;
}

void ReplicaSelector::Take(GroupState& g, uint32_t node) {
  chosen_[taken_++] = node;
  ++g.taken;
  const uint32_t rack = node_rack_[node];
  if (!RackUsed(g, rack)) racks_[g.offset + g.racks_used++] = rack;
}

void ReplicaSelector::TakeSetAside(GroupState& g, uint32_t want) {
  while (g.taken < want && g.aside_next < g.aside) Take(g, aside_[g.offset + g.aside_next++]);
}

bool ReplicaSelector::Offer(uint32_t node) {
  const int index = GroupOf(node);
  if (index < 0) return done();  // a datacenter the spec does not place replicas in
  const PlacementGroup& plan = plan_.groups[index];
  GroupState& g = groups_[index];
  if (g.taken == plan.want || Seen(g, node)) return done();
  const bool all_racks_used = g.racks_used == plan.racks;
  if (all_racks_used || !RackUsed(g, node_rack_[node])) {
    Take(g, node);
    // The rack set just became complete: nodes set aside earlier come first now.
    if (g.racks_used == plan.racks) TakeSetAside(g, plan.want);
  } else if (g.aside < plan.want) {
    // At most `want` set-aside nodes can ever be taken, so keeping more is pointless.
    aside_[g.offset + g.aside++] = node;
  }
  return done();
}

void ReplicaSelector::Finish() {
  for (uint32_t index = 0; index < plan_.size; ++index) TakeSetAside(groups_[index], plan_.groups[index].want);
}

}  // namespace kvring::ring
