// node/node_service.h — what a node does with each request frame: client
// operations (GET/PUT/DELETE/PING/STATS; node/node_service.cc), cluster admin
// (RING, CLUSTER_STATUS) and membership messages (GOSSIP_SYN/PUSH, PROBE,
// PROBE_REQ; node/node_service_cluster.cc), and the replica messages
// (REPLICA_READ/WRITE, FORWARD_WRITE). It
// checks limits (key and value sizes), decodes bodies, hands the work to the
// coordinator or the local replica store, and encodes the replies. Malformed or
// over-limit input gets an error reply naming the problem; nothing a peer sends
// crashes the node.
// Thread safety: OnRequest runs on every event loop at once (connections are
// spread over --loops loops); each loop has its own coordinator, RPC client and
// executor (LoopParts), the engine and the replica store are shared, and the
// gossip and the prober belong to loop 0: their messages and CLUSTER_STATUS hop
// there (a PROBE is answered on any loop: its answer is the proof of life).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/logging.h"
#include "lsm/engine.h"
#include "net/request.h"
#include "net/server.h"
#include "node/disk_guard.h"
#include "node/node_options.h"
#include "repl/answer_pacer.h"
#include "repl/coordinator.h"
#include "repl/failure_detector.h"
#include "repl/replica_store.h"
#include "repl/gossip.h"
#include "repl/hint_store.h"
#include "repl/hinted_handoff.h"
#include "repl/prober.h"
#include "repl/aae_responder.h"
#include "repl/anti_entropy.h"
#include "repl/membership_ops.h"
#include "repl/range_cleanup.h"
#include "repl/stream_source.h"

namespace kvring::node {

// What one event loop coordinates with: used only on that loop's thread.
struct LoopParts {
  net::EventLoop* loop = nullptr;
  repl::Coordinator* coordinator = nullptr;
  repl::Executor* executor = nullptr;
};

struct NodeParts {
  const NodeOptions* config = nullptr;
  lsm::DB* db = nullptr;
  repl::ReplicaStore* store = nullptr;
  repl::Gossiper* gossip = nullptr;  // loop 0's
  repl::Prober* prober = nullptr;    // loop 0's
  repl::HintStore* hints = nullptr;
  repl::HintedHandoff* handoff = nullptr;  // loop 0's (stats)
  repl::AaeResponder* aae = nullptr;              // any loop
  repl::AntiEntropy* anti_entropy = nullptr;      // loop 0's
  repl::StreamSource* streams = nullptr;          // any loop: STREAM_READ
  repl::AnswerPacer* pacer = nullptr;             // any loop: holds STREAM_READ and AAE_* answers back
  repl::MembershipOperator* membership = nullptr; // loop 0's: join, decommission, removenode
  repl::RangeCleaner* cleaner = nullptr;          // loop 0's: cleanup
  const repl::PurgeHorizon* horizon = nullptr;    // the tombstone purge rule (any thread)
  ring::MembershipView* view = nullptr;
  const repl::FailureDetector* liveness = nullptr;
  uint64_t generation = 0;           // this run's (DATA/node_state)
  const DiskGuard* disk = nullptr;   // read-only mode: writes refused (null: never)
  const repl::ContextKey* context_key = nullptr;  // the coordinators' (contexts in GET replies)
  base::Logger* logger = nullptr;
  std::vector<LoopParts> loops;  // one per server loop, in server order
};

class NodeService final : public net::RequestHandler {
 public:
  NodeService() = default;
  // Gives the service its parts once they exist (they need the server's loops).
  // Until then every request gets Unavailable("node is starting"). Once.
  void Attach(NodeParts parts, const net::Server* server) {
    p_ = std::move(parts);
    server_ = server;
    attached_.store(true, std::memory_order_release);
  }

  void OnRequest(net::Request& request) override;
  // Loop 0, once this node's decommission is done: client requests are refused.
  void MarkLeft() { left_.store(true, std::memory_order_release); }

 private:
  void HandleGet(net::Request& request);
  void HandlePut(net::Request& request);
  void HandleDelete(net::Request& request);
  void HandleStats(net::Request& request);
  void HandleRing(net::Request& request);
  void HandleClusterStatus(net::Request& request);
  void HandleGossipSyn(net::Request& request);
  void HandleGossipPush(net::Request& request);
  void HandleProbe(net::Request& request);
  void HandleProbeRequest(net::Request& request);
  void HandleReplicaRead(net::Request& request);
  void HandleReplicaWrite(net::Request& request);
  void HandleForwardWrite(net::Request& request);
  void HandleHintedWrite(net::Request& request);
  void HandleAae(net::Request& request);           // AAE_* (node/node_service_aae.cc)
  void HandleRepairStart(net::Request& request);
  void HandleRepairStatus(net::Request& request);
  void HandleStreamRead(net::Request& request);        // node/node_service_membership.cc
  void HandleMembershipChange(net::Request& request);
  void HandleMembershipStatus(net::Request& request);
  void HandleCleanup(net::Request& request);
  // A client request to a node that has left the cluster: refused, naming why.
  bool RefusedForLeft(net::Request& request);
  std::string AaeText();                           // loop 0: the anti-entropy counters
  std::string MembershipText();                    // loop 0: the operation and streaming counters

  // InvalidArgument/TooLarge for keys and values over the configured limits.
  base::Status CheckKey(std::string_view key) const;
  base::Status CheckValue(std::string_view value) const;
  // A set another node sent, against the bounds of repl/peer_set.h (counted).
  base::Status CheckPeerSet(const repl::SiblingSet& set);
  bool RequireNodePeer(net::Request& request);
  // The parts of the loop running this call.
  const LoopParts& Here() const;
  // The reply to a peer's background request (STREAM_READ, AAE_*), held back
  // while this node's clients pay for such work (repl/answer_pacer.h).
  std::function<void(base::Status, std::string)> PacedReply(net::Responder responder);
  // On a loop other than 0: defers request and answers it from loop 0 with
  // what payload_on_loop0 returns there. False when already on loop 0.
  bool HopToLoopZero(net::Request& request, std::function<base::Result<std::string>()> payload_on_loop0);
  // Defers request and runs fn with its responder on loop 0 (at once when there).
  void OnLoopZero(net::Request& request, std::function<void(net::Responder)> fn);
  std::string ClusterStatusPayload();  // loop 0
  std::string StatsText();             // loop 0
  std::string HintsText();             // loop 0
  void ReplyMalformed(net::Request& request, const char* what);
  // A write (to coordinate or to store) while the disk is full: refused.
  bool RefusedForFullDisk(net::Request& request);

  NodeParts p_;  // written once by Attach, before attached_
  const net::Server* server_ = nullptr;
  std::atomic<bool> attached_{false};
  std::atomic<bool> left_{false};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bad_requests_{0};
  std::atomic<uint64_t> peer_sets_refused_{0};  // replica and hinted writes over the bounds (repl/peer_set.h)
};

// Appends the STATS line "name v".
void Line(std::string* text, const std::string& name, uint64_t v);

// Encodes a write receipt payload in the layout of protocol `version`.
void EncodeReceipt(const repl::WriteResult& result, uint16_t version, std::string* payload);

}  // namespace kvring::node
