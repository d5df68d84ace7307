#include "cmd/kvnode/rpc_transport.h"

#include <memory>

namespace kvring::cmd::kvnode {

void RpcTransport::Call(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms,
                        Callback done) {
  // The transport contract says `done` never runs inside Call: when the client
  // completes a call synchronously (fail-fast backoff), defer it to the loop.
  auto in_call = std::make_shared<bool>(true);
  std::string address = node.address;
  rpc_->Call(address, opcode, body, timeout_ms,
             [this, in_call, address, done = std::move(done)](const base::Status& s, std::string_view payload) {
               if (s.IsUnavailable()) {
                 down_.insert(address);
               } else if (!s.IsTimedOut()) {
                 down_.erase(address);  // it answered (maybe with an error of its own)
               }
               if (!*in_call) {
                 done(s, payload);
                 return;
               }
               loop_->QueueInLoop([done, s, data = std::string(payload)] { done(s, data); });
             });
  *in_call = false;
}

}  // namespace kvring::cmd::kvnode
