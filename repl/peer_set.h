// repl/peer_set.h — what a node checks in a sibling set another node sent it (a
// replica write, a hinted write, a read reply) before merging it: the bounds a
// client write is held to, so one buggy or lying node cannot poison the others
// (docs/replication.md, "What a node believes of its peers"). The structure was
// already checked when the set was decoded (SiblingSet::FromParts); this checks
// the sizes and counters a well-behaved coordinator can produce.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/status.h"
#include "repl/sibling_set.h"

namespace kvring::repl {

struct PeerSetLimits {
  size_t max_value_bytes = 1 << 20;  // --max-value: no coordinator stores a larger value
  // Merging replicas that took writes apart (a partition, sloppy quorums) can
  // legitimately pass the per-write cap --max-siblings; four times it cannot
  // happen without a client ignoring every sibling warning.
  size_t max_siblings = 4 * 64;
  // No node mints 2^62 writes (a million a second for 146,000 years); a counter
  // near 2^64 would leave the key unwritable, since the next dot would overflow.
  uint64_t max_counter = uint64_t{1} << 62;
};

// The limits that follow from a node's client limits.
PeerSetLimits PeerSetLimitsFor(size_t max_value_bytes, size_t max_siblings);

// InvalidArgument naming the first bound `set` breaks; OK when it is a set a
// well-behaved peer can send.
[[nodiscard]] base::Status CheckPeerSet(const SiblingSet& set, const PeerSetLimits& limits);

}  // namespace kvring::repl
