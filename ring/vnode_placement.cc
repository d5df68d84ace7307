#include "ring/vnode_placement.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <tuple>

namespace kvring::ring {

uint32_t VnodeCount(double weight, uint32_t vnodes_per_weight) {
  assert(vnodes_per_weight >= 1);
  const double count = std::llround(weight * static_cast<double>(vnodes_per_weight));
  return count < 1 ? 1 : static_cast<uint32_t>(count);
}

VnodeLayout ResolveVnodes(std::vector<VnodeCandidate> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const VnodeCandidate& a, const VnodeCandidate& b) {
    return std::tie(a.token, a.node, a.index) < std::tie(b.token, b.node, b.index);
  });
  VnodeLayout layout;
  layout.tokens.reserve(candidates.size());
  layout.owners.reserve(candidates.size());
  for (const VnodeCandidate& c : candidates) {
    Token token = c.token;
    if (!layout.tokens.empty() && token <= layout.tokens.back()) {
      if (layout.tokens.back() == std::numeric_limits<Token>::max()) continue;  // no room above: drop
      token = layout.tokens.back() + 1;
    }
    layout.tokens.push_back(token);
    layout.owners.push_back(c.node);
  }
  return layout;
}

VnodeLayout PlaceVnodes(const std::vector<NodeInfo>& nodes_by_id, uint32_t vnodes_per_weight) {
  std::vector<VnodeCandidate> candidates;
  size_t total = 0;
  for (const NodeInfo& node : nodes_by_id) total += VnodeCount(node.weight, vnodes_per_weight);
  candidates.reserve(total);
  for (uint32_t n = 0; n < nodes_by_id.size(); ++n) {
    assert(n == 0 || nodes_by_id[n - 1].id < nodes_by_id[n].id);
    const uint32_t count = VnodeCount(nodes_by_id[n].weight, vnodes_per_weight);
    for (uint32_t k = 0; k < count; ++k) {
      candidates.push_back(VnodeCandidate{VnodeToken(nodes_by_id[n].TokenId(), k), n, k});
    }
  }
  return ResolveVnodes(std::move(candidates));
}

}  // namespace kvring::ring
