#include "net/rpc_channel.h"

#include <cassert>

namespace kvring::net {

using base::LogLevel;
using base::Status;

namespace {

void Bump(std::atomic<uint64_t>* c) { ConnectionCounters::Add(*c, 1); }

}  // namespace

RpcChannel::RpcChannel(RpcClient* client, std::string address) : client_(client), address_(std::move(address)) {
  auto parsed = SocketAddress::Parse(address_);
  if (parsed.ok()) {
    addr_ = *parsed;
  } else {
    addr_error_ = parsed.status();
  }
}

RpcChannel::~RpcChannel() { Shutdown(Status::Aborted("RPC client closed")); }

void RpcChannel::Call(uint8_t opcode, std::string_view body, uint64_t timeout_ms, RpcReplyCallback done) {
  RpcClient::Counters* counters = client_->call_counters();
  Bump(&counters->calls);
  if (!addr_error_.ok()) {
    done(addr_error_, {}, false);
    return;
  }
  if (state_ == State::kBackoff) {
    uint64_t now = client_->loop()->clock()->NowMicros();
    if (now < retry_at_us_ && client_->LastHeardUs(address_) <= backoff_since_us_) {
      Bump(&counters->failed);
      done(Status::Unavailable(address_ + " is unreachable (" + last_error_.message() + "); next attempt in " +
                               std::to_string((retry_at_us_ - now + 999) / 1000) + "ms"),
           {}, false);
      return;
    }
    state_ = State::kIdle;
  }
  if (state_ == State::kIdle) {
    Status s = StartConnecting();
    if (!s.ok()) {
      conn_.reset();  // never watched: safe to destroy here
      Bump(&counters->connect_failures);
      Status failure = s.IsUnavailable() ? s : Status::Unavailable("connection to " + address_ + " failed: " + s.message());
      EnterBackoff(failure);
      client_->NotePeer(address_, failure);
      Bump(&counters->failed);
      done(failure, {}, false);
      return;
    }
  }
  uint32_t id = NextRequestId();
  if (state_ != State::kReady && client_->options().secret != nullptr) {
    AppendFrame(&held_, opcode, 0, id, body);  // nothing may precede AUTH
  } else {
    conn_->SendFrame(opcode, 0, id, body);
  }
  TimerId timer = client_->loop()->RunAfter(timeout_ms * 1000, [this, id] { OnDeadline(id); });
  pending_.emplace(id, Pending{std::move(done), timer, timeout_ms});
}

uint32_t RpcChannel::NextRequestId() {
  // 0 is HELLO's. Skip ids still pending after a wrap-around (practically never).
  do {
    if (++next_request_id_ == 0) next_request_id_ = 1;
  } while (pending_.count(next_request_id_) != 0);
  return next_request_id_;
}

Status RpcChannel::StartConnecting() {
  Bump(&client_->call_counters()->connects);
  SocketAddress source;
  const std::string& src = client_->options().source_address;
  if (!src.empty()) {
    auto parsed = SocketAddress::ParseHost(src, 0);
    if (!parsed.ok()) return parsed.status().WithContext("source address");
    source = *parsed;
  }
  bool in_progress = false;
  auto fd = Connect(addr_, &source, &in_progress);
  if (!fd.ok()) return fd.status();
  conn_ = std::make_unique<Connection>(client_->loop(), std::move(fd.value()), client_->NextConnectionId(), address_,
                                       client_->connection_options(), this, client_->flush_list(),
                                       client_->counters(), in_progress);
  established_ = !in_progress;
  KV_RETURN_IF_ERROR(conn_->Start());
  state_ = State::kConnecting;
  held_.clear();
  nonce_ = client_->options().secret != nullptr ? HelloNonce() : std::string();
  HelloRequest hello;
  hello.role = client_->options().role;
  hello.cluster = client_->options().cluster;
  hello.id = client_->options().id;
  hello.nonce = nonce_;
  std::string body;
  EncodeHello(&body, hello);
  conn_->SendFrame(static_cast<uint8_t>(Opcode::kHello), 0, 0, body);
  connect_timer_ = client_->loop()->RunAfter(client_->options().connect_timeout_ms * 1000, [this] { OnConnectTimeout(); });
  return Status::OK();
}

void RpcChannel::OnConnectTimeout() {
  connect_timer_ = kNoTimer;
  if ((state_ != State::kConnecting && state_ != State::kAuthenticating) || conn_ == nullptr) return;
  conn_->Close(Status::TimedOut("no HELLO reply within " + std::to_string(client_->options().connect_timeout_ms) + "ms"));
}

void RpcChannel::OnFrame(Connection* conn, const Frame& frame) {
  if (!frame.is_reply()) {
    ConnectionCounters::Add(client_->counters()->protocol_errors, 1);
    conn->Close(Status::Corruption("peer sent a request frame (opcode " + std::to_string(frame.opcode) +
                                   ") on a client connection"));
    return;
  }
  if (state_ == State::kConnecting && frame.request_id == 0) {
    established_ = false;  // HELLO answered: a rejection ran nothing sent behind it
    OnHelloReply(frame);
    return;
  }
  if (state_ == State::kAuthenticating && frame.request_id == 0) {
    OnAuthReply(frame);
    return;
  }
  auto it = pending_.find(frame.request_id);
  if (it == pending_.end()) return;  // its deadline passed; the late reply is dropped
  Pending p = std::move(it->second);
  pending_.erase(it);
  client_->loop()->CancelTimer(p.timer);
  Status status;
  std::string_view payload;
  Status parsed = ParseReplyStatus(frame.body, &status, &payload);
  if (!parsed.ok()) {
    ConnectionCounters::Add(client_->counters()->protocol_errors, 1);
    status = parsed.WithContext("bad reply from " + address_);
    payload = {};
  }
  Bump(&client_->call_counters()->replies);
  client_->NotePeer(address_, Status::OK());  // it answered, whatever it answered
  p.done(status, payload, parsed.ok());
}

Status RpcChannel::HandshakeReply(const Frame& frame, const char* step, HelloReply* info) {
  Status status;
  std::string_view payload;
  Status parsed = ParseReplyStatus(frame.body, &status, &payload);
  if (parsed.ok() && status.ok()) {
    if (!DecodeHelloReply(payload, info)) {
      parsed = Status::Corruption(std::string("malformed ") + step + " reply");
    } else if (info->version != kProtocolVersion) {
      parsed = Status::NotSupported(std::string(step) + " reply names protocol version " +
                                    std::to_string(info->version) + ", this client speaks version " +
                                    std::to_string(kProtocolVersion));
    }
  }
  if (!parsed.ok()) {
    ConnectionCounters::Add(client_->counters()->protocol_errors, 1);
    return parsed;
  }
  if (!status.ok()) return Status::Unavailable(address_ + " rejected " + step + ": " + status.ToString());
  return Status::OK();
}

void RpcChannel::OnHelloReply(const Frame& frame) {
  HelloReply info;
  Status s = HandshakeReply(frame, "HELLO", &info);
  std::string auth;
  if (s.ok()) {
    const RpcClientOptions& o = client_->options();
    s = AnswerChallenge(o.secret, o.cluster, o.id, nonce_, info.challenge, address_, &auth);
  }
  if (!s.ok()) {
    conn_->Close(s, LogLevel::kWarn);
    return;
  }
  if (auth.empty()) return BecomeReady(info);
  state_ = State::kAuthenticating;
  conn_->SendFrame(static_cast<uint8_t>(Opcode::kAuth), 0, 0, auth);
}

void RpcChannel::OnAuthReply(const Frame& frame) {
  HelloReply info;
  Status s = HandshakeReply(frame, "AUTH", &info);
  if (!s.ok()) {
    conn_->Close(s, LogLevel::kWarn);
    return;
  }
  BecomeReady(info);
}

void RpcChannel::BecomeReady(const HelloReply& info) {
  state_ = State::kReady;
  failures_ = 0;
  client_->loop()->CancelTimer(connect_timer_);
  connect_timer_ = kNoTimer;
  if (!held_.empty()) {
    conn_->output()->append(held_);
    held_.clear();
    conn_->OutputAdded();
  }
  client_->NotePeer(address_, Status::OK());
  LOG_DEBUG(client_->logger(), "net: connected to %s (node '%.*s')", address_.c_str(),
            static_cast<int>(info.node_id.size()), info.node_id.data());
}

void RpcChannel::OnDeadline(uint32_t request_id) {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  Bump(&client_->call_counters()->timeouts);
  p.done(Status::TimedOut("request to " + address_ + " timed out after " + std::to_string(p.timeout_ms) + "ms"), {},
         false);
}

void RpcChannel::OnConnected(Connection* /*conn*/) { established_ = true; }

void RpcChannel::OnClose(Connection* conn, const Status& reason) {
  assert(conn == conn_.get());
  const bool was_ready = state_ == State::kReady;
  client_->loop()->CancelTimer(connect_timer_);
  connect_timer_ = kNoTimer;
  client_->Bury(std::move(conn_));  // still on the stack: freed before the loop sleeps
  Status failure;
  if (closing_) {
    state_ = State::kIdle;
    return;  // Shutdown fails the calls itself
  }
  if (was_ready) {
    // The requests pending on it were sent: each may have been executed. Aborted,
    // not Unavailable, tells the caller so (an Unavailable call never left).
    state_ = State::kIdle;
    failure = Status::Aborted("connection to " + address_ + " lost: " + reason.message());
  } else {
    Bump(&client_->call_counters()->connect_failures);
    // A rejected HELLO already names the peer and the cause.
    failure = reason.IsUnavailable() && reason.message().rfind(address_, 0) == 0
                  ? reason
                  : Status::Unavailable("connection to " + address_ + " failed: " + reason.message());
    EnterBackoff(failure);
  }
  client_->NotePeer(address_, failure);
  if (!was_ready && established_ && client_->options().secret == nullptr) {
    // Without a secret the requests went out right behind HELLO (nothing is held
    // back for AUTH): the peer may have run them though its HELLO reply never
    // came. Unavailable would tell the caller they never left, and a forwarded
    // write would then be coordinated again elsewhere, under a second dot.
    failure = Status::Aborted("connection to " + address_ + " lost before its HELLO reply, requests sent: " +
                              reason.message());
  }
  FailAll(failure, &client_->call_counters()->failed);
}

void RpcChannel::EnterBackoff(const Status& cause) {
  ++failures_;
  uint64_t delay_us = client_->options().backoff_initial_ms * 1000;
  const uint64_t max_us = client_->options().backoff_max_ms * 1000;
  for (uint32_t i = 1; i < failures_ && delay_us < max_us; ++i) delay_us *= 2;
  if (delay_us > max_us) delay_us = max_us;
  delay_us = client_->Jitter(delay_us);
  state_ = State::kBackoff;
  backoff_since_us_ = client_->loop()->clock()->NowMicros();
  retry_at_us_ = backoff_since_us_ + delay_us;
  last_error_ = cause;
  LOG_INFO(client_->logger(), "net: %s; retrying %s in %llums (attempt %u failed)", cause.message().c_str(),
           address_.c_str(), static_cast<unsigned long long>(delay_us / 1000), failures_);
}

void RpcChannel::FailAll(const Status& status, std::atomic<uint64_t>* counter) {
  // Callbacks may issue new calls on this channel: detach the pending set first.
  std::unordered_map<uint32_t, Pending> failed;
  failed.swap(pending_);
  for (auto& [id, p] : failed) client_->loop()->CancelTimer(p.timer);
  for (auto& [id, p] : failed) {
    Bump(counter);
    p.done(status, {}, false);
  }
}

void RpcChannel::Shutdown(const Status& status) {
  closing_ = true;
  if (conn_ != nullptr) conn_->Close(status, LogLevel::kDebug);
  client_->loop()->CancelTimer(connect_timer_);
  connect_timer_ = kNoTimer;
  FailAll(status, &client_->call_counters()->failed);
  closing_ = false;
}

}  // namespace kvring::net
