// cmd/kvnode/rpc_transport.h — repl's Transport and Executor over net/: the
// node's RpcClient for node-to-node calls and its event loop for continuations.
// A peer counts as down after a call to it failed with Unavailable and until a
// later call to it succeeds.
// Thread safety: loop thread only, except Post (any thread).
#pragma once

#include <set>
#include <string>

#include "net/event_loop.h"
#include "net/rpc_client.h"
#include "repl/transport.h"

namespace kvring::cmd::kvnode {

class LoopExecutor final : public repl::Executor {
 public:
  explicit LoopExecutor(net::EventLoop* loop) : loop_(loop) {}
  void Post(std::function<void()> fn) override { loop_->QueueInLoop(std::move(fn)); }

 private:
  net::EventLoop* const loop_;
};

class RpcTransport final : public repl::Transport {
 public:
  // *rpc and *loop must outlive the transport.
  RpcTransport(net::RpcClient* rpc, net::EventLoop* loop) : rpc_(rpc), loop_(loop) {}

  void Call(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms,
            Callback done) override;
  bool IsDown(const ring::NodeInfo& node) const override { return down_.count(node.address) != 0; }
  // Why the peer is down ("" when it is not).
  const std::set<std::string>& down() const { return down_; }

 private:
  net::RpcClient* const rpc_;
  net::EventLoop* const loop_;
  std::set<std::string> down_;  // addresses
};

}  // namespace kvring::cmd::kvnode
