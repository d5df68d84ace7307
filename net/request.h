// net/request.h — what a server's handler sees: one request frame, the peer's HELLO
// information, and the ways to answer it.
//
// Answer every request exactly once, either
//   - synchronously inside OnRequest: ReplyOk / ReplyError / Reply, or
//     BeginOkReply() + append the payload + EndReply() to encode straight into the
//     connection's output buffer (no copy, no allocation once the buffer has grown);
//     the reply leaves with every other reply of this wake-up in one write(); or
//   - later, from any thread: Defer() returns a Responder, a small copyable handle
//     (connection id + the loop's handle). Replying through it after the connection
//     closed, or after the server stopped, is a silent no-op.
// Replies may go out in any order: the request id pairs them with their requests.
// A request the handler neither answered nor deferred gets an Aborted error reply.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/client_auth.h"
#include "net/protocol.h"

namespace kvring::net {

class ServerSession;
class WorkerHandle;

// The peer at the other end of a server connection, as its HELLO described it.
struct PeerInfo {
  uint64_t connection_id = 0;
  std::string address;  // "127.0.0.1:51234"
  uint16_t version = 0;
  PeerRole role = PeerRole::kClient;
  std::string cluster;
  std::string id;  // client or node id from HELLO
  // What the connection may do: a client's role when the server authenticates
  // clients (net/client_auth.h), else everything; node peers are checked apart.
  Access access = Access::kAdmin;
  std::string user;  // the authenticated user; empty when clients are not authenticated
};

// Answers one deferred request from any thread.
// Thread safety: thread-safe; copies may be used from different threads, but the
// request is answered once (the first Reply wins only if the caller ensures that).
class Responder {
 public:
  Responder() = default;  // an empty responder: Reply is a no-op
  bool valid() const { return handle_ != nullptr; }
  uint8_t opcode() const { return opcode_; }
  uint32_t request_id() const { return request_id_; }
  uint64_t connection_id() const { return connection_id_; }

  // Sends the reply: status (with its message when not OK), then the payload.
  void Reply(const base::Status& status, std::string_view payload = {}) const;
  void ReplyOk(std::string_view payload = {}) const { Reply(base::Status::OK(), payload); }

 private:
  friend class Request;
  Responder(std::shared_ptr<WorkerHandle> handle, uint64_t connection_id, uint8_t opcode, uint32_t request_id)
      : handle_(std::move(handle)), connection_id_(connection_id), opcode_(opcode), request_id_(request_id) {}

  std::shared_ptr<WorkerHandle> handle_;
  uint64_t connection_id_ = 0;
  uint8_t opcode_ = 0;
  uint32_t request_id_ = 0;
};

// One request frame. Lives only during RequestHandler::OnRequest; copy what a
// deferred answer needs (body() views the connection's input buffer).
// Thread safety: loop thread only.
class Request {
 public:
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  uint8_t opcode() const { return frame_.opcode; }
  uint8_t flags() const { return frame_.flags; }
  uint32_t request_id() const { return frame_.request_id; }
  std::string_view body() const { return frame_.body; }
  const PeerInfo& peer() const;

  // Synchronous answers. REQUIRES: not answered or deferred yet.
  void ReplyOk(std::string_view payload = {});
  // An error reply; `payload` follows the message (docs/protocol.md section 5).
  void ReplyError(const base::Status& status, std::string_view payload = {});  // REQUIRES: !status.ok()
  void Reply(const base::Status& status, std::string_view payload = {});
  // Starts an OK reply and returns the output buffer: append the payload, then call
  // EndReply(). Nothing else may write to this connection in between.
  std::string* BeginOkReply();
  void EndReply();

  // Takes the request out of the synchronous path; answer through the Responder.
  Responder Defer();

  bool answered() const { return state_ != State::kOpen; }

 private:
  friend class ServerSession;
  enum class State { kOpen, kBuilding, kAnswered, kDeferred };
  Request(ServerSession* session, const Frame& frame) : session_(session), frame_(frame) {}

  ServerSession* const session_;
  const Frame frame_;
  State state_ = State::kOpen;
  size_t reply_start_ = 0;
};

// Implemented by the node (and by tests).
// Thread safety: OnRequest is called on the loop thread that owns the connection;
// with several loops it is called concurrently for different connections.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Every request frame after a successful HELLO. Must not block: defer slow work.
  // Unknown opcodes and malformed bodies are the handler's call (e.g. reply
  // NotSupported / InvalidArgument); malformed frames never get here.
  virtual void OnRequest(Request& request) = 0;
};

}  // namespace kvring::net
