// net/blocking_client.h — a simple client with one socket and blocking calls, for
// command-line tools (kvctl) and tests. Not for servers: it blocks its thread.
//
//   net::BlockingClient client({.id = "kvctl"});
//   KV_RETURN_IF_ERROR(client.Connect("127.0.0.1:7000", 1000));   // TCP + HELLO
//   auto payload = client.Call(uint8_t(net::Opcode::kPing), "", 500);
//
// Pipelining: Send() queues any number of requests, Receive() flushes them and
// returns replies one by one in arrival order (which may differ from send order;
// match them by request id).
//
// Errors: Unavailable("connection to 127.0.0.1:7000 lost: peer closed the
// connection"), TimedOut("request to 127.0.0.1:7000 timed out after 500ms"), the
// server's own status for an error reply, Corruption for a malformed reply.
// With options.tls, everything above runs inside TLS; a TLS failure is the
// TlsStream's error ("TLS handshake with 127.0.0.1:7000 failed: certificate
// verify failed (self-signed certificate)") and closes the connection.
// Thread safety: needs external synchronization.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "net/buffer.h"
#include "net/client_auth.h"
#include "net/hello_auth.h"
#include "net/protocol.h"
#include "net/socket.h"
#include "net/tls.h"

namespace kvring::net {

struct BlockingClientOptions {
  std::string cluster;              // sent in HELLO; empty = any (clients only)
  std::string id = "client";        // our id in HELLO
  PeerRole role = PeerRole::kClient;
  std::string source_address;       // bind to this host before connecting; empty = any
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  base::Clock* clock = nullptr;     // SystemClock when null
  // A node's cluster secret: Connect runs the handshake (net/hello_auth.h).
  // Null: none (a server with a secret refuses a node without). Must outlive us.
  const ClusterSecret* secret = nullptr;
  // A client's user and password, for a server that authenticates clients
  // (net/client_auth.h). Null or empty: none. Must outlive us.
  const ClientCredentials* credentials = nullptr;
  // TLS: a client context (net/tls.h) with the CA that signed the server's
  // certificate; Connect runs the TLS handshake before HELLO. Null: plain TCP.
  // Must outlive us.
  const TlsContext* tls = nullptr;
};

struct Reply {
  uint8_t opcode = 0;
  uint32_t request_id = 0;
  base::Status status;   // the reply's status
  std::string payload;   // what follows the status (and the message of an error)
};

class BlockingClient {
 public:
  explicit BlockingClient(BlockingClientOptions options = {});
  ~BlockingClient() = default;
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Connects to "HOST:PORT" and exchanges HELLO, all within timeout_ms. Closes any
  // previous connection first.
  base::Status Connect(std::string_view address, uint64_t timeout_ms);
  bool connected() const { return fd_.valid(); }
  const std::string& address() const { return address_; }
  // From the server's HELLO reply.
  const std::string& server_cluster() const { return server_cluster_; }
  const std::string& server_node_id() const { return server_node_id_; }

  // Sends one request and waits for its reply: the payload, or the reply's error.
  // Replies to earlier timed-out requests are skipped.
  // REQUIRES: no pipelined request is waiting for its reply.
  base::Result<std::string> Call(uint8_t opcode, std::string_view body, uint64_t timeout_ms);
  // The same, returning the whole reply: its status and payload, also when the
  // status is an error (a GET's NotFound carries the key's context). An error
  // of the call itself (timeout, lost connection) is the Result's status.
  base::Result<Reply> CallForReply(uint8_t opcode, std::string_view body, uint64_t timeout_ms);

  // Queues one request (sent by Flush or Receive); returns its request id.
  uint32_t Send(uint8_t opcode, std::string_view body);
  // Writes every queued request.
  base::Status Flush(uint64_t timeout_ms);
  // Flushes, then returns the next reply to arrive.
  base::Result<Reply> Receive(uint64_t timeout_ms);

  // Writes raw bytes (tests: malformed frames).
  base::Status SendRaw(std::string_view bytes, uint64_t timeout_ms);
  void Close();

 private:
  base::Status ConnectSocket(uint64_t deadline_us, uint64_t timeout_ms);
  base::Status Hello(uint64_t deadline_us, uint64_t timeout_ms);
  // One handshake step (HELLO or AUTH): sends `body`, decodes the reply into *info.
  base::Status HandshakeStep(Opcode opcode, const std::string& body, const char* step, uint64_t deadline_us,
                             uint64_t timeout_ms, HelloReply* info, std::string* payload);
  base::Status TlsHandshake(uint64_t deadline_us, uint64_t timeout_ms);
  // One write (or read) of what the socket takes; *wait: the poll events to wait
  // for before the next try (0: try again at once).
  base::Status SendSome(const char* data, size_t len, size_t* sent, short* wait);
  base::Status ReceiveSome(short* wait);
  base::Status ReceiveTls(char* dst, short* wait);
  base::Status TlsFailed();
  base::Status WriteOut(uint64_t deadline_us, const char* what, uint64_t timeout_ms);
  base::Result<Reply> ReadReply(uint64_t deadline_us, const char* what, uint64_t timeout_ms);
  // Waits for events on the socket until the deadline; false on timeout.
  bool WaitFor(short events, uint64_t deadline_us);
  base::Status Lost(const std::string& cause);
  base::Status TimedOut(const char* what, uint64_t timeout_ms) const;

  const BlockingClientOptions options_;
  base::Clock* const clock_;
  UniqueFd fd_;
  std::unique_ptr<TlsStream> tls_;  // with options_.tls, once connected
  bool tls_buffered_ = false;       // the last TLS read returned data and OpenSSL holds more
  std::string address_;
  std::string server_cluster_;
  std::string server_node_id_;
  std::string out_;
  Buffer in_;
  uint32_t next_request_id_ = 1;
};

}  // namespace kvring::net
