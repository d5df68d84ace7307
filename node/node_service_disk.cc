// node/node_service_disk.cc — NodeService on a full disk: every request that
// would write here (a client PUT or DELETE to coordinate, a replica, forwarded
// or hinted write to store) is answered with the DiskGuard's NoSpace refusal, so
// the client or the coordinator goes to another replica; reads are served as
// usual (docs/operations.md, "A full disk"). Any loop thread.
#include "net/protocol.h"
#include "node/node_service.h"
#include "repl/messages.h"

namespace kvring::node {

namespace {

bool Writes(uint8_t opcode) {
  switch (opcode) {
    case static_cast<uint8_t>(net::Opcode::kPut):
    case static_cast<uint8_t>(net::Opcode::kDelete):
    case repl::Op(repl::ClusterOpcode::kReplicaWrite):
    case repl::Op(repl::ClusterOpcode::kForwardWrite):
    case repl::Op(repl::ClusterOpcode::kHintedWrite):
      return true;
    default:
      return false;
  }
}

}  // namespace

bool NodeService::RefusedForFullDisk(net::Request& request) {
  if (p_.disk == nullptr || !p_.disk->read_only() || !Writes(request.opcode())) return false;
  request.ReplyError(p_.disk->Refusal());
  return true;
}

}  // namespace kvring::node
