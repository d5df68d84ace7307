// node/client_access.h — which role a client needs for each request (docs/security.md,
// "Roles"): read for GET, PING, STATS, RING and CLUSTER_STATUS; read-write for PUT
// and DELETE; admin for the cluster admin range 0x23-0x3f (membership, repair and
// every other ring-changing operation, refused to the other roles before they are
// looked up). Node-only opcodes (0x40 and up) are checked apart: only a node peer
// may send them, whatever its role.
// Thread safety: pure functions.
#pragma once

#include <cstdint>

#include "base/status.h"
#include "net/client_auth.h"
#include "net/request.h"

namespace kvring::node {

net::Access RequiredAccess(uint8_t opcode);

// OK when `peer` may send `opcode`; PermissionDenied naming the user, its role and
// the role needed otherwise.
[[nodiscard]] base::Status CheckAccess(const net::PeerInfo& peer, uint8_t opcode);

}  // namespace kvring::node
