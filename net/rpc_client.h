// net/rpc_client.h — the asynchronous client for kvring's protocol, used by tools
// (kvbench-like load generators) and by a node's coordinator for node-to-node calls.
//
//   net::RpcClientOptions o;  o.cluster = "prod";  o.id = "n1";  o.role = net::PeerRole::kNode;
//   o.source_address = "127.0.0.2";               // outgoing connections come from here
//   net::RpcClient rpc(loop, o);                  // runs on `loop`; callbacks run there too
//   rpc.Call("127.0.0.3:7000", opcode, body, /*timeout_ms=*/500,
//            [](const base::Status& s, std::string_view payload) { ... });
//
// One connection per peer address, opened lazily by the first call: TCP connect,
// then HELLO (role, cluster, id), with the requests queued behind it. Each call gets
// a request id and a deadline timer; replies complete calls in any order.
//
// Errors a callback can see (each names the peer):
//   TimedOut     "request to 127.0.0.1:7001 timed out after 500ms"
//   Aborted      "connection to 127.0.0.1:7001 lost: peer closed the connection"
//                (the request was sent: the peer may have executed it)
//   Unavailable  "connection to 127.0.0.1:7001 failed: connect: Connection refused"
//                (and the two below: the request never left this process)
//                "127.0.0.1:7001 rejected HELLO: InvalidArgument: cluster name mismatch: ..."
//                "127.0.0.1:7001 is unreachable (...); next attempt in 180ms"  (backoff)
//   Aborted      "RPC client closed"
//   InvalidArgument  a malformed peer address
//   any other status: the server's own error reply.
// A lost connection fails every call pending on it. After a failed connection attempt
// the peer is in backoff (exponential from backoff_initial_ms to backoff_max_ms, with
// jitter) and calls to it fail fast until the next attempt is due. A connection that
// was established and then lost is re-opened by the next call without delay.
//
// Flow control: the client never stops reading replies; bound the calls in flight
// yourself (the server's backpressure applies to what it reads from us).
//
// Thread safety: Call() may be used from any thread (off-loop calls hop to the loop
// thread, copying the body). Everything else, and destruction, on the loop thread
// (or after the loop stopped). Callbacks run on the loop thread; they may call Call().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "net/connection.h"
#include "net/delayed_calls.h"
#include "net/hello_auth.h"
#include "net/event_loop.h"
#include "net/flush_list.h"
#include "net/protocol.h"

namespace kvring::net {

class RpcChannel;

struct RpcClientOptions {
  std::string cluster;                // sent in HELLO; a node must name its cluster
  std::string id = "client";          // our client or node id
  PeerRole role = PeerRole::kClient;
  std::string source_address;         // bind outgoing connections to this host ("" = any);
                                      // a HOST:PORT is accepted and its port ignored
  uint64_t connect_timeout_ms = 1000; // TCP connect + HELLO
  uint64_t backoff_initial_ms = 50;
  uint64_t backoff_max_ms = 5000;
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  uint64_t seed = 1;                  // backoff jitter
  // A node's cluster secret: every connection proves it holds it and checks the
  // server does (net/hello_auth.h). Null: no handshake (a server with a secret
  // refuses us). Must outlive the client.
  const ClusterSecret* secret = nullptr;
  // TLS to every peer: a client context (net/tls.h) that verifies the peers'
  // certificates. Null: plain TCP. Must outlive the client.
  const TlsContext* tls = nullptr;
  // Told what the client learns of a peer's reachability, on the loop thread: OK
  // when the peer answered (its HELLO was accepted, or any reply arrived, whatever
  // its status); the failure when it could not be reached (connect failed,
  // connection lost). Timeouts tell nothing. Null: nobody listens.
  std::function<void(std::string_view peer, const base::Status& reachability)> on_peer;
  // When this node last heard of the peer being alive by other means (gossip, a
  // probe through another member): monotonic micros on the loop's clock, 0 for
  // never. A peer in reconnect backoff that was heard of since the attempt that
  // failed is retried at once instead of failing the call fast. Null: backoff only.
  std::function<uint64_t(std::string_view peer)> last_heard_us;
  // Test hook (the nemesis's delay fault: kvnode --test-fault-files): every call
  // waits this many ms before it is sent, as on a slow link, the wait counting
  // against its timeout (net/delayed_calls.h). Null or 0: sent at once.
  std::function<uint64_t()> send_delay_ms;
};

// Status of a call plus the reply payload (valid only during the callback).
using RpcCallback = std::function<void(const base::Status& status, std::string_view payload)>;
// The same, saying whether the status is the peer's reply (answered) or the client's own.
using RpcReplyCallback = std::function<void(const base::Status& status, std::string_view payload, bool answered)>;

struct RpcClientStats {
  uint64_t calls = 0;
  uint64_t replies = 0;           // calls completed by a reply (OK or error status)
  uint64_t timeouts = 0;
  uint64_t failed = 0;            // calls failed by a lost or refused connection / backoff
  uint64_t connects = 0;          // connection attempts
  uint64_t connect_failures = 0;  // attempts that never completed HELLO
};

class RpcClient {
 public:
  RpcClient(EventLoop* loop, RpcClientOptions options, base::Logger* logger = nullptr);
  ~RpcClient();  // Close()
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Sends one request to peer ("HOST:PORT"); done runs exactly once on the loop
  // thread. timeout_ms counts from now and covers connecting. Any thread.
  void Call(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms, RpcCallback done);
  // The same, telling a reply from the peer from a failure of the call.
  void Send(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms,
            RpcReplyCallback done);

  // Fails every pending call with Aborted and closes every connection; later calls
  // fail with Aborted. Loop thread.
  void Close();

  // True when the connection to peer has completed HELLO. Loop thread.
  bool IsConnected(std::string_view peer) const;
  // Thread-safe.
  RpcClientStats stats() const;

  // For RpcChannel.
  EventLoop* loop() const { return loop_; }
  const RpcClientOptions& options() const { return options_; }
  const ConnectionOptions& connection_options() const { return conn_options_; }
  base::Logger* logger() const { return logger_; }
  FlushList* flush_list() { return flush_list_.get(); }
  ConnectionCounters* counters() { return &counters_; }
  uint64_t NextConnectionId() { return next_connection_id_++; }
  uint64_t Jitter(uint64_t delay_us);
  // Keeps a closed connection alive until the loop is about to sleep (it may still
  // be on the stack when its channel lets go of it).
  void Bury(std::unique_ptr<Connection> conn) { graveyard_.push_back(std::move(conn)); }
  // Passes what a channel learned of its peer to options().on_peer.
  void NotePeer(std::string_view peer, const base::Status& reachability) {
    if (options_.on_peer) options_.on_peer(peer, reachability);
  }
  uint64_t LastHeardUs(std::string_view peer) const {
    return options_.last_heard_us ? options_.last_heard_us(peer) : 0;
  }

  struct Counters {
    std::atomic<uint64_t> calls{0}, replies{0}, timeouts{0}, failed{0}, connects{0}, connect_failures{0};
  };
  Counters* call_counters() { return &call_counters_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  void CallInLoop(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms,
                  RpcReplyCallback done);
  RpcChannel* ChannelFor(std::string_view peer);
  // Holds the call for options_.send_delay_ms when the hook asks for a delay.
  bool Delayed(std::string_view peer, uint8_t opcode, std::string_view body, uint64_t timeout_ms,
               RpcReplyCallback* done);

  EventLoop* const loop_;
  const RpcClientOptions options_;
  ConnectionOptions conn_options_;
  base::Logger* const logger_;
  std::unique_ptr<FlushList> flush_list_;
  EventLoop::HookId bury_hook_ = 0;
  ConnectionCounters counters_;
  Counters call_counters_;
  base::Random random_;
  uint64_t next_connection_id_ = 1;
  bool closed_ = false;
  DelayedCalls delayed_;
  std::unordered_map<std::string, std::unique_ptr<RpcChannel>, StringHash, std::equal_to<>> channels_;
  std::vector<std::unique_ptr<Connection>> graveyard_;
};

}  // namespace kvring::net
