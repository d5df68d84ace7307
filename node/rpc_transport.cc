#include "node/rpc_transport.h"

#include <memory>

namespace kvring::node {

void RpcTransport::Send(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms,
                        AnsweredCallback done) {
  // The transport contract says `done` never runs inside Send: when the client
  // completes a call synchronously (fail-fast backoff), defer it to the loop.
  auto in_call = std::make_shared<bool>(true);
  rpc_->Send(node.address, opcode, body, timeout_ms,
             [this, in_call, done = std::move(done)](const base::Status& s, std::string_view payload, bool answered) {
               if (!*in_call) {
                 done(s, payload, answered);
                 return;
               }
               loop_->QueueInLoop([done, s, data = std::string(payload), answered] { done(s, data, answered); });
             });
  *in_call = false;
}

std::function<void(std::string_view, const base::Status&)> ReportPeersTo(repl::FailureDetector* detector) {
  return [detector](std::string_view peer, const base::Status& reachability) {
    if (reachability.ok()) {
      detector->ReportAnswered(peer);
    } else {
      detector->ReportUnreachable(peer, reachability.message());
    }
  };
}

std::function<uint64_t(std::string_view)> LastHeardFrom(const repl::FailureDetector* detector) {
  return [detector](std::string_view peer) { return detector->EvidenceUs(peer); };
}

}  // namespace kvring::node
