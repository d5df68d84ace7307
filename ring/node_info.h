// ring/node_info.h — what the ring knows about one physical node: its id, the
// address peers dial, its datacenter and rack labels, its weight (capacity
// relative to a default node; a weight-2 node gets twice the virtual nodes) and,
// for a node that replaced a dead one, whose tokens it holds.
// Thread safety: a value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvring::ring {

inline constexpr std::string_view kDefaultDc = "dc1";
inline constexpr std::string_view kDefaultRack = "rack1";

struct NodeInfo {
  std::string id;       // unique, stable across restarts
  std::string address;  // "HOST:PORT"
  std::string dc{kDefaultDc};
  std::string rack{kDefaultRack};
  double weight = 1.0;  // > 0
  // The id whose virtual-node tokens this node holds (VnodeToken(token_id, k)).
  // Empty: its own id, the usual case. A node that replaced a dead one (kvnode
  // --replace) carries the dead node's token id, so it takes exactly the dead
  // node's place on the ring (ring/transition.h, MembershipChange::Replace).
  std::string token_id;

  // The id the node's tokens derive from: token_id, or id when that is empty.
  const std::string& TokenId() const { return token_id.empty() ? id : token_id; }

  // "n1 (10.0.0.1:7000, dc1/rack1, weight 1)".
  std::string ToString() const;

  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

// Largest accepted weight: keeps a typo like 1000 from building a ring of
// millions of virtual nodes.
inline constexpr double kMaxWeight = 64.0;

// Checks one node: a non-empty id and labels of printable non-space characters
// (they appear in logs, config files and replication specs; a dc has no ':' or
// ',' since a replication spec names it), an address
// "HOST:PORT" with a port in 1..65535, a finite weight in (0, kMaxWeight].
[[nodiscard]] base::Status ValidateNode(const NodeInfo& node);

// Checks every node and that ids, addresses and token ids (TokenId()) are unique:
// two members placing the same tokens would collide on every virtual node.
[[nodiscard]] base::Status ValidateMembers(const std::vector<NodeInfo>& members);

// Checks "HOST:PORT" (HOST non-empty; a bracketed IPv6 host "[::1]:7000" is
// accepted) and returns the port.
[[nodiscard]] base::Result<int> ParsePort(std::string_view address);

}  // namespace kvring::ring
