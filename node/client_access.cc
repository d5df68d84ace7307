#include "node/client_access.h"

#include "net/protocol.h"

namespace kvring::node {

namespace {

constexpr uint8_t kFirstAdminOpcode = 0x23;  // after RING (0x21) and CLUSTER_STATUS (0x22)
constexpr uint8_t kFirstNodeOpcode = 0x40;

}  // namespace

net::Access RequiredAccess(uint8_t opcode) {
  if (opcode == static_cast<uint8_t>(net::Opcode::kPut) || opcode == static_cast<uint8_t>(net::Opcode::kDelete)) {
    return net::Access::kReadWrite;
  }
  if (opcode >= kFirstAdminOpcode && opcode < kFirstNodeOpcode) return net::Access::kAdmin;
  return net::Access::kRead;
}

base::Status CheckAccess(const net::PeerInfo& peer, uint8_t opcode) {
  const net::Access needed = RequiredAccess(opcode);
  if (peer.role == net::PeerRole::kNode || peer.access >= needed) return base::Status::OK();
  return base::Status::PermissionDenied("user '" + peer.user + "' has role " +
                                        std::string(net::AccessName(peer.access)) + "; " +
                                        net::OpcodeName(opcode) + " needs " +
                                        std::string(net::AccessName(needed)));
}

}  // namespace kvring::node
