// ring/node_info.h — what the ring knows about one physical node: its id, the
// address peers dial, its datacenter and rack labels, and its weight (capacity
// relative to a default node; a weight-2 node gets twice the virtual nodes).
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
  std::string id;       // unique, stable across restarts; places the node's tokens
  std::string address;  // "HOST:PORT"
  std::string dc{kDefaultDc};
  std::string rack{kDefaultRack};
  double weight = 1.0;  // > 0

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

// Checks every node and that ids and addresses are unique.
[[nodiscard]] base::Status ValidateMembers(const std::vector<NodeInfo>& members);

// Checks "HOST:PORT" (HOST non-empty; a bracketed IPv6 host "[::1]:7000" is
// accepted) and returns the port.
[[nodiscard]] base::Result<int> ParsePort(std::string_view address);

}  // namespace kvring::ring
