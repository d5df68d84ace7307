// node/rpc_transport.h — repl's Transport and Executor over net/: a loop's
// RpcClient for node-to-node calls and its event loop for continuations; and the
// hook through which every loop's RpcClient tells the node's one FailureDetector
// which peers answered and which could not be reached.
// Thread safety: loop thread only, except Post (any thread).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/event_loop.h"
#include "net/rpc_client.h"
#include "repl/failure_detector.h"
#include "repl/transport.h"

namespace kvring::node {

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

  void Send(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms,
            AnsweredCallback done) override;

 private:
  net::RpcClient* const rpc_;
  net::EventLoop* const loop_;
};

// An RpcClientOptions::on_peer that reports to `detector` (which must outlive
// the client): a peer that answered anything is up, one that could not be
// reached is down.
std::function<void(std::string_view, const base::Status&)> ReportPeersTo(repl::FailureDetector* detector);
// An RpcClientOptions::last_heard_us reading `detector`'s evidence times.
std::function<uint64_t(std::string_view)> LastHeardFrom(const repl::FailureDetector* detector);

}  // namespace kvring::node
