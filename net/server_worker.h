// net/server_worker.h — the server's state on one event loop: its connections
// (sessions), the flush list, the timeout sweep (HELLO, unfinished frames, idle),
// the budget for unfinished frames (its share of max_partial_frame_bytes), and the
// handle that deferred replies reach it through. Internal to net/ (users see
// net/server.h).
// Thread safety: loop thread only, except WorkerHandle, which is thread-safe, and
// the counters, which any thread may read.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "net/connection.h"
#include "net/flush_list.h"
#include "net/server.h"
#include "net/server_session.h"

namespace kvring::net {

// What a Responder holds: a route to one worker that stays safe after the worker is
// gone (Detach). Thread-safe.
class WorkerHandle {
 public:
  explicit WorkerHandle(ServerWorker* worker) : worker_(worker) {}
  // Delivers a deferred reply on the worker's loop; dropped once detached.
  void Post(uint64_t connection_id, uint8_t opcode, uint32_t request_id, const base::Status& status,
            std::string_view payload);
  // REQUIRES: on the worker's loop thread.
  void Detach();

 private:
  base::Mutex mu_;
  ServerWorker* worker_ GUARDED_BY(mu_);
};

// Session-level counters of one loop. Single writer (the loop thread); any thread
// may read them.
struct SessionCounters {
  std::atomic<uint64_t> inflight{0};             // deferred requests not answered
  std::atomic<uint64_t> hello_timeouts{0};
  std::atomic<uint64_t> auth_failures{0};
  std::atomic<uint64_t> frame_timeouts{0};
  std::atomic<uint64_t> input_budget_closes{0};
};

class ServerWorker {
 public:
  // on_session_closed runs on this loop after each connection's descriptor closed.
  ServerWorker(int index, EventLoop* loop, const ServerOptions& options, RequestHandler* handler,
               ServerShared* shared, std::function<void()> on_session_closed);
  ~ServerWorker();
  ServerWorker(const ServerWorker&) = delete;
  ServerWorker& operator=(const ServerWorker&) = delete;

  // Loop thread: registers the flush hook and the timeout sweep.
  void Init();
  // Loop thread: adopts an accepted connection. With a non-OK refusal the peer gets
  // that error as the reply to its HELLO and the connection closes (lingering),
  // logged at `level`.
  void AddConnection(UniqueFd fd, const SocketAddress& peer, const base::Status& refusal = base::Status::OK(),
                     base::LogLevel level = base::LogLevel::kWarn);
  // Loop thread: a deferred reply arrived for connection_id (dropped if it closed).
  void Deliver(uint64_t connection_id, uint8_t opcode, uint32_t request_id, const base::Status& status,
               std::string_view payload);
  // Loop thread: graceful stop, step 1: stop reading requests everywhere.
  void StartDrain();
  // Loop thread: no deferred request pending and no unsent output.
  bool Drained() const;
  // Loop thread: graceful stop, step 2: close everything and unhook from the loop.
  void Teardown();

  // Called by sessions (loop thread).
  void OnSessionClosed(ServerSession* session);
  // The input held by this loop's connections passed its budget: drops the
  // connections holding the most until it is under it again.
  void ShedInput();
  EventLoop* loop() const { return loop_; }
  RequestHandler* handler() const { return handler_; }
  const ServerOptions& options() const { return options_; }
  const ConnectionOptions& connection_options() const { return conn_options_; }
  const std::shared_ptr<WorkerHandle>& handle() const { return handle_; }
  ConnectionCounters* counters() { return &counters_; }
  // Refused connections still lingering (loop thread).
  size_t lingering_refusals() const { return refused_open_; }
  SessionCounters* session_counters() { return &session_counters_; }
  FlushList* flush_list() { return flush_list_.get(); }
  base::Logger* logger() const { return options_.logger; }

 private:
  void SweepTimeouts();
  bool CheckTimeouts(ServerSession* session, uint64_t now_us);
  void BuryClosedSessions();

  const int index_;
  EventLoop* const loop_;
  const ServerOptions& options_;
  ConnectionOptions conn_options_;  // options_.connection, answering malformed frames
  RequestHandler* const handler_;
  ServerShared* const shared_;
  ConnectionCounters counters_;
  SessionCounters session_counters_;
  std::function<void()> on_session_closed_;
  std::shared_ptr<WorkerHandle> handle_;
  std::unique_ptr<FlushList> flush_list_;
  std::unordered_map<uint64_t, std::unique_ptr<ServerSession>> sessions_;
  std::vector<std::unique_ptr<ServerSession>> closed_;  // destroyed before the loop sleeps
  EventLoop::HookId bury_hook_ = 0;
  TimerId sweep_timer_ = kNoTimer;
  size_t refused_open_ = 0;  // refused connections still lingering
  bool draining_ = false;
  bool torn_down_ = false;
};

}  // namespace kvring::net
