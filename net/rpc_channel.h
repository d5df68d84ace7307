// net/rpc_channel.h — the RPC client's state for one peer address: its connection,
// HELLO, the calls pending on it, their deadlines, and reconnect backoff.
// Internal to net/ (users see net/rpc_client.h).
//
// States:  idle --call--> connecting (TCP + HELLO; calls queue behind HELLO)
//          connecting --HELLO OK--> ready --lost--> idle (next call reconnects at once)
//          connecting --HELLO challenge--> authenticating --AUTH OK--> ready
//          (with a cluster secret nothing may precede AUTH: calls wait in held_)
//          connecting --failed/refused/timed out--> backoff --delay passed, call--> connecting
// Thread safety: loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "net/connection.h"
#include "net/rpc_client.h"
#include "net/socket.h"

namespace kvring::net {

class RpcChannel final : public ConnectionDelegate {
 public:
  RpcChannel(RpcClient* client, std::string address);
  ~RpcChannel() override;
  RpcChannel(const RpcChannel&) = delete;
  RpcChannel& operator=(const RpcChannel&) = delete;

  void Call(uint8_t opcode, std::string_view body, uint64_t timeout_ms, RpcReplyCallback done);
  // Fails every pending call with `status` and closes the connection (no backoff).
  void Shutdown(const base::Status& status);
  bool ready() const { return state_ == State::kReady; }

  void OnFrame(Connection* conn, const Frame& frame) override;
  void OnConnected(Connection* conn) override;
  void OnClose(Connection* conn, const base::Status& reason) override;

 private:
  enum class State { kIdle, kConnecting, kAuthenticating, kReady, kBackoff };
  struct Pending {
    RpcReplyCallback done;
    TimerId timer;
    uint64_t timeout_ms;
  };

  base::Status StartConnecting();
  void OnHelloReply(const Frame& frame);
  void OnAuthReply(const Frame& frame);
  // The HELLO (or AUTH) reply's status and payload, or why the handshake failed.
  base::Status HandshakeReply(const Frame& frame, const char* step, HelloReply* info);
  void BecomeReady(const HelloReply& info);
  void OnDeadline(uint32_t request_id);
  void OnConnectTimeout();
  void FailAll(const base::Status& status, std::atomic<uint64_t>* counter);
  void EnterBackoff(const base::Status& cause);
  uint32_t NextRequestId();

  RpcClient* const client_;
  const std::string address_;
  SocketAddress addr_;
  base::Status addr_error_;  // a malformed address fails every call with it
  State state_ = State::kIdle;
  std::unique_ptr<Connection> conn_;
  std::unordered_map<uint32_t, Pending> pending_;
  uint32_t next_request_id_ = 1;
  TimerId connect_timer_ = kNoTimer;
  uint32_t failures_ = 0;       // consecutive failed connection attempts
  uint64_t retry_at_us_ = 0;    // backoff: no attempt before this
  uint64_t backoff_since_us_ = 0;  // when the last failed attempt put us in backoff
  base::Status last_error_;     // why the last attempt failed
  bool closing_ = false;        // Shutdown in progress: no backoff, no reconnect
  std::string nonce_;           // this attempt's client nonce (with a secret)
  std::string held_;            // request frames waiting for AUTH (with a secret)
  // This attempt's TCP connect completed and HELLO is not answered yet: without
  // a secret the requests sent behind HELLO may have reached the peer and run
  // there, although the reply to HELLO never comes.
  bool established_ = false;
};

}  // namespace kvring::net
