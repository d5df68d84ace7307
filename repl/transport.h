// repl/transport.h — how repl/ reaches the rest of the world: an Executor that runs
// continuations on the coordinator's thread, and a Transport that sends a
// node-to-node request and reports its reply. Production wires the node's event
// loop and net::RpcClient (cmd/kvnode); a simulator or a test can wire in-process
// ones, so the coordinator itself has no sockets, threads or clocks of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "ring/node_info.h"

namespace kvring::repl {

// Thread safety: Post is thread-safe.
class Executor {
 public:
  virtual ~Executor() = default;
  // Runs fn later on the executor's thread, never re-entrantly from inside Post.
  virtual void Post(std::function<void()> fn) = 0;
};

// Thread safety: Call is called on the executor thread only; callbacks run on the
// executor thread. Whether a peer is down is not the transport's to say: the
// node's one view of that is repl/failure_detector.h, which the production
// transport feeds.
class Transport {
 public:
  // status: OK with the reply payload; the peer's error status; TimedOut at the
  // deadline; Unavailable when the peer cannot be reached.
  using Callback = std::function<void(const base::Status& status, std::string_view payload)>;
  // answered: the status is the peer's own reply (it received and ran the
  // request), not the transport's (Unavailable: never sent; TimedOut or Aborted:
  // sent, the outcome unknown).
  using AnsweredCallback = std::function<void(const base::Status& status, std::string_view payload, bool answered)>;

  virtual ~Transport() = default;
  // Sends one request; `done` runs exactly once, on the executor thread, never
  // inside the call itself.
  virtual void Send(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms,
                    AnsweredCallback done) = 0;
  void Call(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms, Callback done) {
    Send(node, opcode, std::move(body), timeout_ms,
         [done = std::move(done)](const base::Status& s, std::string_view payload, bool) { done(s, payload); });
  }
};

}  // namespace kvring::repl
