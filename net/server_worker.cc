#include "net/server_worker.h"

#include <algorithm>

namespace kvring::net {

using base::LogLevel;
using base::Status;

namespace {

// Time from `since` to `now`; 0 when the clock has not passed `since` (a coarse
// loop time may trail the clock a little).
uint64_t Elapsed(uint64_t now, uint64_t since) { return now > since ? now - since : 0; }

}  // namespace

void WorkerHandle::Post(uint64_t connection_id, uint8_t opcode, uint32_t request_id, const Status& status,
                        std::string_view payload) {
  base::MutexLock lock(&mu_);
  ServerWorker* worker = worker_;
  if (worker == nullptr) return;  // the server stopped: drop silently
  EventLoop* loop = worker->loop();
  if (loop->IsInLoopThread()) {
    // Detach also runs on this thread, so the worker cannot go away under us.
    lock.Unlock();
    worker->Deliver(connection_id, opcode, request_id, status, payload);
    return;
  }
  // The loop outlives the worker's attachment: queue while holding the lock.
  loop->QueueInLoop([worker, connection_id, opcode, request_id, status, data = std::string(payload)] {
    worker->Deliver(connection_id, opcode, request_id, status, data);
  });
}

void WorkerHandle::Detach() {
  base::MutexLock lock(&mu_);
  worker_ = nullptr;
}

ServerWorker::ServerWorker(int index, EventLoop* loop, const ServerOptions& options, RequestHandler* handler,
                           ServerShared* shared, std::function<void()> on_session_closed)
    : index_(index),
      loop_(loop),
      options_(options),
      conn_options_(options.connection),
      handler_(handler),
      shared_(shared),
      on_session_closed_(std::move(on_session_closed)),
      handle_(std::make_shared<WorkerHandle>(this)) {
  conn_options_.reply_to_bad_frames = true;
  conn_options_.tls = options.tls;
  conn_options_.max_output_bytes = options.max_unsent_reply_bytes;
  // Each loop enforces its share of the budget: no cross-thread accounting.
  const size_t loops = static_cast<size_t>(std::max(options.loops, 1));
  conn_options_.input_budget_bytes =
      options.max_partial_frame_bytes == 0 ? 0 : std::max<size_t>(options.max_partial_frame_bytes / loops, 1);
}

ServerWorker::~ServerWorker() {
  // Teardown ran on the loop thread; only inert state is left.
  handle_->Detach();
}

void ServerWorker::Init() {
  flush_list_ = std::make_unique<FlushList>(loop_);
  bury_hook_ = loop_->AddBeforeSleep([this] { BuryClosedSessions(); });
  uint64_t shortest_ms = 0;
  for (uint64_t t : {options_.idle_timeout_ms, options_.hello_timeout_ms, options_.frame_timeout_ms}) {
    if (t > 0 && (shortest_ms == 0 || t < shortest_ms)) shortest_ms = t;
  }
  if (shortest_ms > 0) {
    // A deadline is noticed at most a quarter of the shortest timeout (and 250 ms) late.
    uint64_t interval_us = std::clamp<uint64_t>(shortest_ms * 1000 / 4, 10'000, 250'000);
    sweep_timer_ = loop_->RunEvery(interval_us, [this] { SweepTimeouts(); });
  }
}

void ServerWorker::AddConnection(UniqueFd fd, const SocketAddress& peer, const Status& refusal, LogLevel level) {
  uint64_t id = shared_->next_connection_id.fetch_add(1, std::memory_order_relaxed);
  auto session = std::make_unique<ServerSession>(this, std::move(fd), id, peer);
  const bool counted = refusal.ok();
  // Lingering refusals hold a descriptor for up to linger_ms: under a connection
  // flood, close the excess at once (the peer then sees a plain close).
  constexpr size_t kMaxLingeringRefusals = 64;
  Status s = draining_ || torn_down_                               ? Status::Aborted("server shutting down")
             : !counted && refused_open_ >= kMaxLingeringRefusals ? Status::Aborted("too many refusals")
                                                                   : session->Start();
  if (!s.ok()) {
    if (!s.IsAborted()) {
      LOG_WARN(logger(), "net: cannot watch connection from %s: %s", peer.ToString().c_str(), s.ToString().c_str());
    }
    if (counted) shared_->connections_current.fetch_sub(1, std::memory_order_relaxed);
    return;  // the fd closes with the session
  }
  ServerSession* raw = session.get();
  sessions_.emplace(id, std::move(session));
  if (!counted) {
    ++refused_open_;
    raw->Refuse(refusal, level);
    return;
  }
  LOG_DEBUG(logger(), "net: connection #%llu from %s on loop %d", static_cast<unsigned long long>(id),
            peer.ToString().c_str(), index_);
}

void ServerWorker::Deliver(uint64_t connection_id, uint8_t opcode, uint32_t request_id, const Status& status,
                           std::string_view payload) {
  auto it = sessions_.find(connection_id);
  if (it == sessions_.end()) return;  // closed meanwhile: a silent no-op
  it->second->DeliverReply(opcode, request_id, status, payload);
}

void ServerWorker::OnSessionClosed(ServerSession* session) {
  auto it = sessions_.find(session->peer().connection_id);
  if (it == sessions_.end()) return;
  // The session's methods are still on the stack: destroy it before the loop sleeps.
  if (session->counted()) {
    shared_->connections_current.fetch_sub(1, std::memory_order_relaxed);
  } else {
    --refused_open_;
  }
  closed_.push_back(std::move(it->second));
  sessions_.erase(it);
  if (on_session_closed_) on_session_closed_();  // its descriptor is closed: the acceptor may want it
}

void ServerWorker::BuryClosedSessions() { closed_.clear(); }

void ServerWorker::SweepTimeouts() {
  const uint64_t now = loop_->clock()->NowMicros();
  std::vector<ServerSession*> open;
  open.reserve(sessions_.size());
  for (auto& [id, session] : sessions_) open.push_back(session.get());
  // A session closed here moves to closed_ and stays alive until the loop sleeps.
  for (ServerSession* session : open) CheckTimeouts(session, now);
}

// Closes the session when one of its deadlines passed; true when it did.
bool ServerWorker::CheckTimeouts(ServerSession* session, uint64_t now_us) {
  Connection* conn = session->connection();
  if (!session->counted() || conn->closed() || conn->lingering()) return false;
  const uint64_t hello_ms = options_.hello_timeout_ms;
  if (hello_ms > 0 && !session->hello_done() && Elapsed(now_us, session->started_us()) >= hello_ms * 1000) {
    ConnectionCounters::Add(session_counters_.hello_timeouts, 1);
    session->TimeOutHello(hello_ms);
    return true;
  }
  const uint64_t frame_ms = options_.frame_timeout_ms;
  const uint64_t frame_since = conn->partial_frame_since_us();
  if (frame_ms > 0 && frame_since != 0 && Elapsed(now_us, frame_since) >= frame_ms * 1000) {
    ConnectionCounters::Add(session_counters_.frame_timeouts, 1);
    conn->RejectInput(Status::TimedOut("frame incomplete after " + std::to_string(frame_ms) + "ms: " +
                                       conn->DescribePartialFrame() + " received"));
    return true;
  }
  const uint64_t idle_ms = options_.idle_timeout_ms;
  if (idle_ms > 0 && session->inflight() == 0 && Elapsed(now_us, conn->last_active_us()) > idle_ms * 1000) {
    conn->Close(Status::TimedOut("idle for more than " + std::to_string(idle_ms) + "ms"), LogLevel::kInfo);
    return true;
  }
  return false;
}

void ServerWorker::ShedInput() {
  const size_t budget = conn_options_.input_budget_bytes;
  while (budget > 0 && counters_.input_buffered.load(std::memory_order_relaxed) > budget) {
    Connection* largest = nullptr;
    for (auto& [id, session] : sessions_) {
      Connection* c = session->connection();
      if (c->closed() || c->lingering()) continue;
      if (largest == nullptr || c->input_buffered() > largest->input_buffered()) largest = c;
    }
    if (largest == nullptr || largest->input_buffered() == 0) return;
    ConnectionCounters::Add(session_counters_.input_budget_closes, 1);
    const uint64_t held = counters_.input_buffered.load(std::memory_order_relaxed);
    largest->RejectInput(Status::Busy("unfinished frames hold " + std::to_string(held) + " bytes on this server, " +
                                      "over the budget of " + std::to_string(budget) +
                                      ": dropping the connection holding the most (" +
                                      largest->DescribePartialFrame() + ")"),
                         LogLevel::kWarn);
  }
}

void ServerWorker::StartDrain() {
  draining_ = true;
  for (auto& [id, session] : sessions_) session->connection()->SetReading(false);
}

bool ServerWorker::Drained() const {
  for (const auto& [id, session] : sessions_) {
    if (session->inflight() > 0 || session->connection()->pending_output() > 0) return false;
  }
  return true;
}

void ServerWorker::Teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  handle_->Detach();
  std::vector<ServerSession*> open;
  for (auto& [id, session] : sessions_) open.push_back(session.get());
  for (ServerSession* session : open) {
    session->connection()->Close(Status::Aborted("server shutting down"), LogLevel::kDebug);
  }
  closed_.clear();
  loop_->CancelTimer(sweep_timer_);
  loop_->RemoveBeforeSleep(bury_hook_);
  flush_list_.reset();
}

}  // namespace kvring::net
