// cmd/kvnode/node_service.h — what a kvnode does with each request frame: client
// operations (GET/PUT/DELETE/PING/STATS), cluster admin (RING, CLUSTER_STATUS) and
// node-to-node messages (MEMBER_INFO, REPLICA_READ/WRITE, FORWARD_WRITE). It
// checks limits (key and value sizes), decodes bodies, hands the work to the
// coordinator or the local replica store, and encodes the replies. Malformed or
// over-limit input gets an error reply naming the problem; nothing a peer sends
// crashes the node.
// Thread safety: loop thread only (one event loop serves every connection).
#pragma once

#include <cstdint>
#include <string>

#include "base/logging.h"
#include "cmd/kvnode/config.h"
#include "cmd/kvnode/rpc_transport.h"
#include "lsm/engine.h"
#include "net/request.h"
#include "net/server.h"
#include "repl/coordinator.h"
#include "repl/replica_store.h"
#include "repl/static_membership.h"

namespace kvring::cmd::kvnode {

struct NodeParts {
  const NodeConfig* config = nullptr;
  lsm::DB* db = nullptr;
  repl::ReplicaStore* store = nullptr;
  repl::Coordinator* coordinator = nullptr;
  repl::StaticMembership* membership = nullptr;
  ring::MembershipView* view = nullptr;
  RpcTransport* transport = nullptr;
  repl::Executor* executor = nullptr;
  base::Logger* logger = nullptr;
};

class NodeService final : public net::RequestHandler {
 public:
  NodeService() = default;
  // Gives the service its parts once they exist (they need the server's loop).
  // Until then every request gets Unavailable("node is starting"). Loop thread.
  void Attach(NodeParts parts, const net::Server* server) {
    p_ = parts;
    server_ = server;
    attached_ = true;
  }

  void OnRequest(net::Request& request) override;

 private:
  void HandleGet(net::Request& request);
  void HandlePut(net::Request& request);
  void HandleDelete(net::Request& request);
  void HandleStats(net::Request& request);
  void HandleRing(net::Request& request);
  void HandleClusterStatus(net::Request& request);
  void HandleMemberInfo(net::Request& request);
  void HandleReplicaRead(net::Request& request);
  void HandleReplicaWrite(net::Request& request);
  void HandleForwardWrite(net::Request& request);

  // InvalidArgument/TooLarge for keys and values over the configured limits.
  base::Status CheckKey(std::string_view key) const;
  base::Status CheckValue(std::string_view value) const;
  bool RequireNodePeer(net::Request& request);

  NodeParts p_;
  const net::Server* server_ = nullptr;
  bool attached_ = false;
  uint64_t requests_ = 0;
  uint64_t bad_requests_ = 0;
};

// Encodes a GET reply payload from a merged set: its live siblings and its context.
void EncodeGetReplyFromSet(const repl::SiblingSet& set, std::string* payload);
// Encodes a write receipt payload.
void EncodeReceipt(const std::vector<repl::ReplicaAck>& acks, std::string* payload);

}  // namespace kvring::cmd::kvnode
