#include "repl/sloppy_quorum.h"

namespace kvring::repl {

namespace {

bool Serving(const ReplicaTargets& targets, const ring::NodeInfo* node) {
  for (const ReplicaTarget& t : targets) {
    if (t.node == node) return true;
  }
  return false;
}

// The first healthy node past the preference list not serving yet: from the
// owner's DC when there is one, else from any DC.
const ring::NodeInfo* FindStandIn(const ring::Ring& ring, ring::Token t, const ring::NodeInfo& owner,
                                  const ReplicaTargets& targets, const FailureDetector& detector) {
  const ring::NodeInfo* same_dc = nullptr;
  const ring::NodeInfo* any = nullptr;
  ring.WalkPastPreferenceList(t, [&](const ring::NodeInfo& n) {
    if (detector.IsDown(n) || Serving(targets, &n)) return true;
    if (any == nullptr) any = &n;
    if (n.dc == owner.dc) {
      same_dc = &n;
      return false;
    }
    return true;
  });
  return same_dc != nullptr ? same_dc : any;
}

}  // namespace

ReplicaTargets PlanTargets(const ring::Ring& ring, ring::Token t, const ring::PreferenceList& prefs,
                           const FailureDetector& detector, bool strict) {
  ReplicaTargets targets;
  bool any_down = false;
  for (const ring::NodeInfo* owner : prefs) {
    ReplicaTarget& slot = targets.slots[targets.size++];
    slot.owner = owner;
    slot.node = owner;
    slot.owner_down = detector.IsDown(*owner);
    any_down |= slot.owner_down;
  }
  if (!any_down || strict) return targets;
  for (size_t i = 0; i < targets.size; ++i) {
    ReplicaTarget& slot = targets.slots[i];
    if (!slot.owner_down) continue;
    const ring::NodeInfo* stand_in = FindStandIn(ring, t, *slot.owner, targets, detector);
    if (stand_in == nullptr) continue;  // nobody healthy left: the owner stays (a missing replica)
    slot.node = stand_in;
    slot.stand_in = true;
  }
  return targets;
}

}  // namespace kvring::repl
