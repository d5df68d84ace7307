// net/server_session.h — one server connection: the HELLO handshake, then every
// request frame handed to the RequestHandler, and the replies (synchronous, through
// Request, or deferred, through ServerWorker::Deliver). Internal to net/.
//
// Flow control (docs/protocol.md section 10): the session counts the deferred
// requests it still owes a reply and tells its Connection what they are expected
// to add to the output: in flight x an estimate of this peer's reply size (the
// largest recent deferred reply, decaying by 1/8 per reply; just over a sixteenth
// of the high-water mark before the first one, so a fresh connection that
// pipelines requests for large values has at most 16 in flight until the server
// knows). At
// max_inflight_per_connection requests in flight input is held outright, until
// the count falls to three quarters of it. Node peers are not charged the
// estimate (their coordinator bounds its own clients); the count and the bytes
// actually produced bound them too.
//
// Thread safety: loop thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/connection.h"
#include "net/request.h"

namespace kvring::net {

class ServerWorker;

class ServerSession final : public ConnectionDelegate {
 public:
  ServerSession(ServerWorker* worker, UniqueFd fd, uint64_t id, const SocketAddress& peer);
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  base::Status Start() { return conn_.Start(); }
  Connection* connection() { return &conn_; }
  const PeerInfo& peer() const { return peer_; }
  // Deferred requests not answered yet.
  uint32_t inflight() const { return inflight_; }
  bool hello_done() const { return hello_done_; }
  uint64_t started_us() const { return started_us_; }

  void OnFrame(Connection* conn, const Frame& frame) override;
  void OnClose(Connection* conn, const base::Status& reason) override;
  void OnInputOverBudget(Connection* conn) override;

  // Answers the HELLO this peer is about to send with `why` (over the connection
  // limit) and closes; the session does not count as an open connection.
  void Refuse(const base::Status& why, base::LogLevel level);
  // No HELLO arrived in time: tells the peer (an unprompted HELLO reply with
  // TimedOut) and closes.
  void TimeOutHello(uint64_t timeout_ms);
  bool counted() const { return counted_; }

  // A deferred reply for this connection.
  void DeliverReply(uint8_t opcode, uint32_t request_id, const base::Status& status, std::string_view payload);

  // For Request.
  std::string* output() { return conn_.output(); }
  void ReplyAppended();
  void NoteDeferred();
  ServerWorker* worker() const { return worker_; }

 private:
  void HandleHello(const Frame& frame);
  // A node's HELLO to a server with a secret: answer the challenge (docs/protocol.md 6.1).
  void Challenge(const Frame& frame, const HelloRequest& hello);
  // A client's HELLO to a server with users: challenge it (net/client_auth.h).
  void ChallengeClient(const Frame& frame, const HelloRequest& hello);
  // The HELLO reply with a challenge (and no names); the next frame must be AUTH.
  void SendChallenge(const Frame& frame, std::string_view challenge);
  void HandleAuth(const Frame& frame);
  void HandleNodeAuth(const Frame& frame, std::string_view proof);
  void HandleClientAuth(const Frame& frame, std::string_view proof);
  // The handshake is over: full frames, and the HELLO (or AUTH) reply naming us.
  void Accept(const Frame& frame, std::string_view challenge);
  base::Status CheckHello(const HelloRequest& hello) const;
  void RejectAndClose(const Frame& frame, const base::Status& error);
  void SendUnpromptedHelloReply(const base::Status& status);
  void NoteReplyBytes(size_t bytes);
  void UpdateExpectedOutput();

  ServerWorker* const worker_;
  PeerInfo peer_;
  Connection conn_;
  const uint64_t started_us_;
  bool hello_done_ = false;
  bool auth_pending_ = false;  // challenged: the next frame must be AUTH
  std::string client_nonce_, server_nonce_;
  std::string client_challenge_;  // what a challenged client must answer
  bool counted_ = true;  // in ServerShared::connections_current
  bool held_ = false;    // input held for max_inflight_per_connection
  uint32_t inflight_ = 0;
  size_t reply_estimate_;  // bytes charged per request in flight
};

}  // namespace kvring::net
