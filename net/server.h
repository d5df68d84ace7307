// net/server.h — kvring's framed TCP server: the public face of net/ for a node.
//
//   RequestHandler* handler = ...;          // the node: see net/request.h
//   net::ServerOptions opts;
//   opts.listen = "127.0.0.1:7000";  opts.cluster = "prod";  opts.node_id = "n1";
//   net::Server server(opts, handler);
//   KV_RETURN_IF_ERROR(server.Start());     // binds, starts opts.loops threads
//   ...
//   server.Shutdown(5000);                  // stop accepting, drain, close
//
// Threads: `loops` event-loop threads (default 1). Loop 0 also runs the acceptor,
// which hands accepted connections to the loops round-robin (see docs/protocol.md,
// "Server threading"): one listening socket, an even spread whatever the number of
// connections, and the max-connection check in one place. A connection stays on its
// loop for life; its requests, replies and timers all run on that thread, so the
// synchronous request path has no locks and no thread hand-off.
//
// Per connection: the first frame must be HELLO (version, role, cluster, id). A
// version or cluster mismatch gets an error reply naming both values, then the
// connection is closed. A client may send an empty cluster name to mean "any"; a
// node must name the cluster. Malformed frames (length under the header size or over
// max_frame_bytes) get an error reply and a close, logged with the reason.
//
// Bounds per connection (docs/protocol.md sections 7 and 10): frames up to
// max_frame_bytes_before_hello until HELLO is accepted, and HELLO within
// hello_timeout_ms; each frame complete within frame_timeout_ms of its first
// byte; input paused while the replies owed (unsent, plus deferred ones expected)
// pass connection.high_water_bytes or max_inflight_per_connection requests are in
// flight; closed past max_unsent_reply_bytes. For all connections together:
// max_partial_frame_bytes of unfinished frames (beyond it the connection holding
// the most is dropped), and, out of descriptors, accepting stops (a few spare
// descriptors are kept for the rest of the process and for refusing with Busy)
// until a connection closes; those errors are logged at most once a second.
//
// Thread safety: Start, Shutdown and the destructor need external synchronization and
// must not run on a loop thread; stats(), port() and loop() are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/status.h"
#include "net/acceptor.h"
#include "net/client_auth.h"
#include "net/connection.h"
#include "net/hello_auth.h"
#include "net/event_loop.h"
#include "net/loop_thread.h"
#include "net/request.h"
#include "net/socket.h"

namespace kvring::net {

class ServerWorker;

struct ServerOptions {
  std::string listen = "127.0.0.1:7000";  // HOST:PORT; port 0 picks a free port (see port())
  int loops = 1;                          // event-loop threads
  std::string cluster = "kvring";         // HELLO must name this cluster
  std::string node_id;                    // sent back in the HELLO reply
  // The cluster secret: node peers must prove they hold it (net/hello_auth.h)
  // before any other frame is read. Null: node peers are taken at their word
  // (a node without a secret listens on loopback only). Must outlive the server.
  const ClusterSecret* secret = nullptr;
  // The users clients authenticate as (net/client_auth.h): a client must prove a
  // user's password in HELLO and gets its role. Null: clients are not
  // authenticated and may do everything. Must outlive the server.
  const UserTable* users = nullptr;
  // TLS on this port for every peer, clients and nodes alike: a server context
  // (net/tls.h). One port serves TLS or plain TCP, never both. Null: plain TCP.
  // Must outlive the server.
  const TlsContext* tls = nullptr;
  size_t max_connections = 10000;         // more are refused with an error reply
  uint64_t idle_timeout_ms = 300000;      // close connections idle this long; 0 = never
  uint64_t hello_timeout_ms = 5000;       // close connections without HELLO after this long; 0 = never
  uint64_t frame_timeout_ms = 10000;      // close a connection whose frame takes longer to arrive; 0 = never
  uint32_t max_frame_bytes_before_hello = 4096;
  size_t max_inflight_per_connection = 1024;   // deferred requests; input held at this many; 0 = no limit
  size_t max_unsent_reply_bytes = 64u << 20;   // a connection owing more unsent replies is closed; 0 = no limit
  size_t max_partial_frame_bytes = 256u << 20;  // unfinished frames, all connections (split over the loops)
  int reserved_fds = 16;                  // spare descriptors released when accept runs out of them
  ConnectionOptions connection;           // max frame size, backpressure marks (the soft bound)
  base::Clock* clock = nullptr;           // SystemClock when null
  base::Logger* logger = nullptr;         // no logging when null
};

struct ServerStats {
  uint64_t connections_current = 0;
  uint64_t connections_total = 0;     // accepted since start
  uint64_t connections_refused = 0;   // over max_connections
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t protocol_errors = 0;       // malformed frames, bad or missing HELLO
  uint64_t output_buffered_bytes = 0; // replies not yet written, all connections
  uint64_t backpressure_pauses = 0;   // times a connection stopped reading (flow control)
  uint64_t connections_paused = 0;    // connections not reading right now (flow control)
  uint64_t requests_inflight = 0;     // deferred requests not answered yet, all connections
  uint64_t input_buffered_bytes = 0;  // received but not handled (unfinished frames), all connections
  uint64_t output_limit_closes = 0;   // connections closed over max_unsent_reply_bytes
  uint64_t frame_timeouts = 0;        // connections closed: a frame took over frame_timeout_ms
  uint64_t hello_timeouts = 0;        // connections closed: no HELLO within hello_timeout_ms
  uint64_t auth_failures = 0;         // clients refused: no credentials, unknown user or wrong password
  uint64_t input_budget_closes = 0;   // connections dropped over max_partial_frame_bytes
  uint64_t accept_errors = 0;         // accept calls that failed (EMFILE, ENFILE, ENOBUFS, ...)
  uint64_t fd_shortages = 0;          // times accepting stopped for lack of descriptors
  uint64_t connections_refused_no_fds = 0;  // refused with Busy: out of descriptors

  // "name value" lines, for a STATS reply.
  std::string ToString() const;
};

// Server-wide counters shared by the acceptor and the workers.
struct ServerShared {
  std::atomic<uint64_t> next_connection_id{1};
  std::atomic<uint64_t> connections_current{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_refused{0};
  AcceptCounters accept;
};

class Server {
 public:
  // *handler must outlive the server.
  Server(ServerOptions options, RequestHandler* handler);
  ~Server();  // Shutdown(0) when still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket and starts the loops (once per Server). Errors name the address:
  // "listen on 127.0.0.1:7000: bind: Address already in use".
  base::Status Start();

  // Graceful stop: closes the listening socket, stops reading requests, waits up to
  // drain_timeout_ms for deferred replies and unsent output, then closes every
  // connection and joins the loop threads. Idempotent.
  void Shutdown(uint64_t drain_timeout_ms);

  // The bound address (after Start; resolves port 0).
  const SocketAddress& address() const { return bound_; }
  uint16_t port() const { return bound_.port(); }
  int loop_count() const { return static_cast<int>(threads_.size()); }
  // Loop i, e.g. to run an RpcClient on the same thread as the connections it serves.
  EventLoop* loop(int i) const { return threads_[static_cast<size_t>(i)]->loop(); }
  ServerStats stats() const;

 private:
  void OnAccepted(UniqueFd fd, const SocketAddress& peer);
  void Refuse(UniqueFd fd, const SocketAddress& peer, const base::Status& why, base::LogLevel level);
  bool MayRefuseForLackOfDescriptors() const;
  void OnConnectionClosed();
  void WarnIfDescriptorsShort() const;
  bool AllDrained();

  const ServerOptions options_;
  RequestHandler* const handler_;
  ServerShared shared_;
  SocketAddress bound_;
  std::vector<std::unique_ptr<LoopThread>> threads_;
  std::vector<std::unique_ptr<ServerWorker>> workers_;
  std::unique_ptr<Acceptor> acceptor_;  // loop 0 only
  size_t next_worker_ = 0;              // loop 0 only
  bool running_ = false;
};

}  // namespace kvring::net
