#include "net/server_worker.h"

#include <algorithm>

namespace kvring::net {

using base::LogLevel;
using base::Status;

void WorkerHandle::Post(uint64_t connection_id, uint8_t opcode, uint32_t request_id, const Status& status,
                        std::string_view payload) {
  std::unique_lock<std::mutex> lock(mu_);
  ServerWorker* worker = worker_;
  if (worker == nullptr) return;  // the server stopped: drop silently
  EventLoop* loop = worker->loop();
  if (loop->IsInLoopThread()) {
    // Detach also runs on this thread, so the worker cannot go away under us.
    lock.unlock();
    worker->Deliver(connection_id, opcode, request_id, status, payload);
    return;
  }
  // The loop outlives the worker's attachment: queue while holding the lock.
  loop->QueueInLoop([worker, connection_id, opcode, request_id, status, data = std::string(payload)] {
    worker->Deliver(connection_id, opcode, request_id, status, data);
  });
}

void WorkerHandle::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  worker_ = nullptr;
}

ServerWorker::ServerWorker(int index, EventLoop* loop, const ServerOptions& options, RequestHandler* handler,
                           ServerShared* shared)
    : index_(index),
      loop_(loop),
      options_(options),
      conn_options_(options.connection),
      handler_(handler),
      shared_(shared),
      handle_(std::make_shared<WorkerHandle>(this)) {
  conn_options_.reply_to_bad_frames = true;
}

ServerWorker::~ServerWorker() {
  // Teardown ran on the loop thread; only inert state is left.
  handle_->Detach();
}

void ServerWorker::Init() {
  flush_list_ = std::make_unique<FlushList>(loop_);
  bury_hook_ = loop_->AddBeforeSleep([this] { BuryClosedSessions(); });
  if (options_.idle_timeout_ms > 0) {
    uint64_t interval_us = std::clamp<uint64_t>(options_.idle_timeout_ms * 1000 / 4, 10'000, 1'000'000);
    idle_timer_ = loop_->RunEvery(interval_us, [this] { SweepIdle(); });
  }
}

void ServerWorker::AddConnection(UniqueFd fd, const SocketAddress& peer, const Status& refusal) {
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
    raw->Refuse(refusal);
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
}

void ServerWorker::BuryClosedSessions() { closed_.clear(); }

void ServerWorker::SweepIdle() {
  const uint64_t now = loop_->clock()->NowMicros();
  const uint64_t limit_us = options_.idle_timeout_ms * 1000;
  std::vector<ServerSession*> idle;
  for (auto& [id, session] : sessions_) {
    Connection* conn = session->connection();
    if (session->inflight() == 0 && now - conn->last_active_us() > limit_us) idle.push_back(session.get());
  }
  for (ServerSession* session : idle) {
    session->connection()->Close(
        Status::TimedOut("idle for more than " + std::to_string(options_.idle_timeout_ms) + "ms"), LogLevel::kInfo);
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
  loop_->CancelTimer(idle_timer_);
  loop_->RemoveBeforeSleep(bury_hook_);
  flush_list_.reset();
}

}  // namespace kvring::net
