// ring/ownership.h — how much of the token space each node and datacenter holds,
// and which token ranges a node replicates (for `kvctl ring`, anti-entropy and
// streaming on join/leave). Computed from a Ring by visiting every virtual node's
// arc once (one preference list per arc): O(virtual nodes × N); not for the request
// path.
// Thread safety: pure functions over an immutable Ring.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ring/ring.h"

namespace kvring::ring {

struct NodeOwnership {
  NodeInfo node;  // a copy: the report may outlive the ring
  uint32_t vnodes = 0;
  double primary = 0;  // share of the token space whose successor vnode is this node's
  double replica = 0;  // share of the token space this node holds a replica of
};

struct DcOwnership {
  std::string dc;
  double primary = 0;           // share whose primary is in this DC (sums to 1 over DCs)
  double replica = 0;           // share of which this DC holds at least one replica
  double replicas_per_key = 0;  // mean number of a key's replicas held in this DC
};

struct OwnershipReport {
  std::vector<NodeOwnership> nodes;  // in ring.nodes() order (by id)
  std::vector<DcOwnership> dcs;      // in ring.datacenters() order
};

OwnershipReport ComputeOwnership(const Ring& ring);

// The arcs for which `node_id` is a replica, adjacent arcs merged, in token order
// (a wrapping arc comes first). Empty when the node is unknown or holds nothing; a
// single full() range when it holds everything.
std::vector<TokenRange> RangesReplicatedBy(const Ring& ring, std::string_view node_id);
// The arcs whose successor virtual node belongs to `node_id`, merged likewise.
std::vector<TokenRange> PrimaryRangesOf(const Ring& ring, std::string_view node_id);

}  // namespace kvring::ring
