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
#include "net/connection.h"
#include "net/hello_auth.h"
#include "net/event_loop.h"
#include "net/loop_thread.h"
#include "net/request.h"
#include "net/socket.h"

namespace kvring::net {

class Acceptor;
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
  size_t max_connections = 10000;         // more are refused with an error reply
  uint64_t idle_timeout_ms = 300000;      // close connections idle this long; 0 = never
  ConnectionOptions connection;           // max frame size, backpressure marks
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
  uint64_t backpressure_pauses = 0;   // times a connection stopped reading (high-water mark)

  // "name value" lines, for a STATS reply.
  std::string ToString() const;
};

// Server-wide counters shared by the acceptor and the workers.
struct ServerShared {
  std::atomic<uint64_t> next_connection_id{1};
  std::atomic<uint64_t> connections_current{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_refused{0};
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
  void Refuse(UniqueFd fd, const SocketAddress& peer);
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
