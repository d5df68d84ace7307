#include "net/rpc_client.h"

#include <limits>

#include "net/rpc_channel.h"

namespace kvring::net {

using base::Status;

RpcClient::RpcClient(EventLoop* loop, RpcClientOptions options, base::Logger* logger)
    : loop_(loop), options_(std::move(options)), logger_(logger), random_(options_.seed), delayed_(loop) {
  conn_options_.max_frame_bytes = options_.max_frame_bytes;
  // A client must keep reading replies whatever its own backlog of requests, or it
  // and a server applying backpressure could each wait for the other.
  conn_options_.high_water_bytes = std::numeric_limits<size_t>::max();
  conn_options_.low_water_bytes = std::numeric_limits<size_t>::max();
  conn_options_.initial_buffer_bytes = 4096;
  conn_options_.tls = options_.tls;
  loop_->RunSync([this] {
    flush_list_ = std::make_unique<FlushList>(loop_);
    bury_hook_ = loop_->AddBeforeSleep([this] { graveyard_.clear(); });
  });
}

RpcClient::~RpcClient() {
  loop_->RunSync([this] {
    Close();
    channels_.clear();
    graveyard_.clear();
    loop_->RemoveBeforeSleep(bury_hook_);
    flush_list_.reset();
  });
}

void RpcClient::Call(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms,
                     RpcCallback done) {
  Send(peer, opcode, body, timeout_ms,
       [done = std::move(done)](const Status& s, std::string_view payload, bool) { done(s, payload); });
}

void RpcClient::Send(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms,
                     RpcReplyCallback done) {
  if (loop_->IsInLoopThread()) {
    CallInLoop(peer, opcode, body, timeout_ms, std::move(done));
    return;
  }
  loop_->QueueInLoop([this, p = std::string(peer), opcode, b = std::string(body), timeout_ms,
                      d = std::move(done)]() mutable { CallInLoop(p, opcode, b, timeout_ms, std::move(d)); });
}

void RpcClient::CallInLoop(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms,
                           RpcReplyCallback done) {
  if (closed_) {
    ConnectionCounters::Add(call_counters_.calls, 1);
    ConnectionCounters::Add(call_counters_.failed, 1);
    done(Status::Aborted("RPC client closed"), {}, false);
    return;
  }
  if (Delayed(peer, opcode, body, timeout_ms, &done)) return;
  ChannelFor(peer)->Call(opcode, body, timeout_ms, std::move(done));
}

bool RpcClient::Delayed(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms,
                        RpcReplyCallback* done) {
  const uint64_t delay_ms = options_.send_delay_ms ? options_.send_delay_ms() : 0;
  if (delay_ms == 0) return false;
  auto call = std::make_shared<RpcReplyCallback>(std::move(*done));
  std::string deadline = "request to " + std::string(peer) + " timed out after " + std::to_string(timeout_ms) + "ms";
  delayed_.Hold(
      delay_ms, timeout_ms, std::move(deadline),
      [this, p = std::string(peer), opcode, b = std::string(body), call](uint64_t left, bool late) {
        if (late) {
          ChannelFor(p)->Call(opcode, b, left, [](const Status&, std::string_view, bool) {});
        } else {
          ChannelFor(p)->Call(opcode, b, left, std::move(*call));
        }
      },
      [this, call](const Status& why) {
        ConnectionCounters::Add(call_counters_.calls, 1);
        ConnectionCounters::Add(why.IsTimedOut() ? call_counters_.timeouts : call_counters_.failed, 1);
        (*call)(why, {}, false);
      });
  return true;
}

RpcChannel* RpcClient::ChannelFor(std::string_view peer) {
  auto it = channels_.find(peer);
  if (it != channels_.end()) return it->second.get();
  auto channel = std::make_unique<RpcChannel>(this, std::string(peer));
  RpcChannel* raw = channel.get();
  channels_.emplace(std::string(peer), std::move(channel));
  return raw;
}

void RpcClient::Close() {
  closed_ = true;
  delayed_.Close(Status::Aborted("RPC client closed"));
  for (auto& [peer, channel] : channels_) channel->Shutdown(Status::Aborted("RPC client closed"));
}

bool RpcClient::IsConnected(std::string_view peer) const {
  auto it = channels_.find(peer);
  return it != channels_.end() && it->second->ready();
}

RpcClientStats RpcClient::stats() const {
  RpcClientStats s;
  s.calls = call_counters_.calls.load(std::memory_order_relaxed);
  s.replies = call_counters_.replies.load(std::memory_order_relaxed);
  s.timeouts = call_counters_.timeouts.load(std::memory_order_relaxed);
  s.failed = call_counters_.failed.load(std::memory_order_relaxed);
  s.connects = call_counters_.connects.load(std::memory_order_relaxed);
  s.connect_failures = call_counters_.connect_failures.load(std::memory_order_relaxed);
  return s;
}

uint64_t RpcClient::Jitter(uint64_t delay_us) {
  // Spread reconnects of many clients over [0.8, 1.2] x delay.
  if (delay_us < 10) return delay_us;
  uint64_t spread = delay_us * 2 / 5;
  return delay_us - spread / 2 + random_.Uniform(spread + 1);
}

}  // namespace kvring::net
