// repl/sloppy_quorum.h — who serves each replica of a request when some owners
// are down: the sloppy quorum of Dynamo. Each owner of the key's preference list
// that the failure detector holds down is replaced by a *stand-in*: the first
// node walking clockwise past the preference list that is not down and not
// already serving the request, from the owner's datacenter when one is (so a
// per-DC spec keeps its copies per DC). A stand-in stores the write and a hint
// naming the owner (hinted handoff), and counts towards W and R like the owner
// would, unless the request is strict: then stand-ins are not used at all, and a
// down owner is simply a missing replica.
// Thread safety: pure functions over the ring and a FailureDetector snapshot.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "repl/failure_detector.h"
#include "ring/ring.h"

namespace kvring::repl {

struct ReplicaTarget {
  const ring::NodeInfo* owner = nullptr;  // the preference list's node
  const ring::NodeInfo* node = nullptr;   // who takes the request (the owner, or its stand-in)
  bool stand_in = false;
  bool owner_down = false;                // the detector holds the owner down (served or not)
  bool counts = true;                     // its ack counts towards W (false: a pending replica of a ring in transition)
};

struct ReplicaTargets {
  std::array<ReplicaTarget, ring::kMaxReplicas> slots{};
  size_t size = 0;
  const ReplicaTarget* begin() const { return slots.data(); }
  const ReplicaTarget* end() const { return slots.data() + size; }
};

// The targets of `prefs` (the preference list of token t on `ring`): one slot per
// owner, in preference order. Without a down owner this is the preference list
// itself, and no walk is made.
ReplicaTargets PlanTargets(const ring::Ring& ring, ring::Token t, const ring::PreferenceList& prefs,
                           const FailureDetector& detector, bool strict);

}  // namespace kvring::repl
