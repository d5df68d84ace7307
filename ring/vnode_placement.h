// ring/vnode_placement.h — where each node's virtual nodes sit on the ring.
// Node i (in id order) gets VnodeCount(weight) virtual nodes at
// VnodeToken(TokenId(), k), k = 0..count-1 (TokenId() is the node's id unless it
// replaced a dead node: ring/node_info.h). The layout depends only on the member set, never on the order
// the members were listed in. Two candidates with the same token (odds ~2e-11 for
// 100 nodes × 256 vnodes) are resolved deterministically: candidates are sorted by
// (token, node id, index) and one that is not above its predecessor's final token
// moves to that token + 1 (dropped only if the predecessor sits at 2^64-1).
// Used by Ring::Build; exposed so tests can force collisions.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "ring/node_info.h"
#include "ring/token.h"

namespace kvring::ring {

inline constexpr uint32_t kDefaultVnodesPerWeight = 256;
inline constexpr uint32_t kMaxVnodesPerWeight = 4096;

// round(weight × vnodes_per_weight), at least 1.
// REQUIRES: weight valid (ValidateNode) and vnodes_per_weight >= 1.
uint32_t VnodeCount(double weight, uint32_t vnodes_per_weight);

struct VnodeCandidate {
  Token token = 0;
  uint32_t node = 0;   // index into the id-sorted member list
  uint32_t index = 0;  // which of the node's virtual nodes
};

// The sorted ring: tokens strictly increasing, owners[i] owns tokens[i].
struct VnodeLayout {
  std::vector<Token> tokens;
  std::vector<uint32_t> owners;
};

// Sorts candidates and resolves equal tokens as described above.
// REQUIRES: node indices follow id order (so ties break by node id).
VnodeLayout ResolveVnodes(std::vector<VnodeCandidate> candidates);

// The layout of a member list. REQUIRES: nodes sorted by id, each valid.
VnodeLayout PlaceVnodes(const std::vector<NodeInfo>& nodes_by_id, uint32_t vnodes_per_weight);

}  // namespace kvring::ring
