#include "net/server.h"

#include <chrono>
#include <type_traits>
#include <thread>

#include "net/acceptor.h"
#include "net/server_worker.h"

namespace kvring::net {

using base::Status;

namespace {

// Runs fn on loop and waits for its result.
template <typename Fn>
auto RunAndWait(EventLoop* loop, Fn fn) -> decltype(fn()) {
  if constexpr (std::is_void_v<decltype(fn())>) {
    loop->RunSync(fn);
  } else {
    decltype(fn()) result{};
    loop->RunSync([&] { result = fn(); });
    return result;
  }
}

}  // namespace

std::string ServerStats::ToString() const {
  std::string out;
  auto line = [&out](const char* name, uint64_t v) {
    out += name;
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  };
  line("connections_current", connections_current);
  line("connections_total", connections_total);
  line("connections_refused", connections_refused);
  line("frames_in", frames_in);
  line("frames_out", frames_out);
  line("bytes_in", bytes_in);
  line("bytes_out", bytes_out);
  line("protocol_errors", protocol_errors);
  line("output_buffered_bytes", output_buffered_bytes);
  line("backpressure_pauses", backpressure_pauses);
  return out;
}

Server::Server(ServerOptions options, RequestHandler* handler) : options_(std::move(options)), handler_(handler) {}

Server::~Server() { Shutdown(0); }

Status Server::Start() {
  if (running_) return Status::InvalidArgument("server already started");
  if (options_.loops < 1) return Status::InvalidArgument("server needs at least one loop");
  auto addr = SocketAddress::Parse(options_.listen);
  if (!addr.ok()) return addr.status().WithContext("--listen");
  auto fd = Listen(*addr);
  if (!fd.ok()) return fd.status();
  auto local = LocalAddress(fd->get());
  if (!local.ok()) return local.status();
  bound_ = *local;

  for (int i = 0; i < options_.loops; ++i) {
    auto t = LoopThread::Start("kv-net-" + std::to_string(i), options_.clock, options_.logger);
    if (!t.ok()) {
      for (auto& started : threads_) started->Stop();
      threads_.clear();
      return t.status();
    }
    threads_.push_back(std::move(t.value()));
    workers_.push_back(std::make_unique<ServerWorker>(i, threads_.back()->loop(), options_, handler_, &shared_));
  }
  for (auto& w : workers_) RunAndWait(w->loop(), [&w] { w->Init(); });
  acceptor_ = std::make_unique<Acceptor>(loop(0), std::move(fd.value()),
                                         [this](UniqueFd c, const SocketAddress& peer) { OnAccepted(std::move(c), peer); });
  Status s = RunAndWait(loop(0), [this] { return acceptor_->Start(); });
  running_ = true;
  if (!s.ok()) {
    Shutdown(0);
    return s;
  }
  LOG_INFO(options_.logger, "net: listening on %s with %d loop(s)", bound_.ToString().c_str(), options_.loops);
  return Status::OK();
}

// Loop 0.
void Server::OnAccepted(UniqueFd fd, const SocketAddress& peer) {
  if (shared_.connections_current.load(std::memory_order_relaxed) >= options_.max_connections) {
    Refuse(std::move(fd), peer);
    return;
  }
  shared_.connections_current.fetch_add(1, std::memory_order_relaxed);
  shared_.connections_total.fetch_add(1, std::memory_order_relaxed);
  ServerWorker* w = workers_[next_worker_].get();
  next_worker_ = (next_worker_ + 1) % workers_.size();
  if (w->loop()->IsInLoopThread()) {
    w->AddConnection(std::move(fd), peer);
    return;
  }
  w->loop()->QueueInLoop([w, raw = fd.Release(), peer] { w->AddConnection(UniqueFd(raw), peer); });
}

// Loop 0: tells the peer why, as the reply to the HELLO it is about to send, and
// closes with a lingering close so that reply is not lost to a reset.
void Server::Refuse(UniqueFd fd, const SocketAddress& peer) {
  shared_.connections_refused.fetch_add(1, std::memory_order_relaxed);
  Status why = Status::Busy("too many connections: the server's limit is " + std::to_string(options_.max_connections));
  workers_[0]->AddConnection(std::move(fd), peer, why);
}

bool Server::AllDrained() {
  for (auto& w : workers_) {
    ServerWorker* worker = w.get();
    if (!RunAndWait(worker->loop(), [worker] { return worker->Drained(); })) return false;
  }
  return true;
}

void Server::Shutdown(uint64_t drain_timeout_ms) {
  if (!running_) return;
  running_ = false;
  RunAndWait(loop(0), [this] { acceptor_.reset(); });  // closes the listening socket
  for (auto& w : workers_) {
    ServerWorker* worker = w.get();
    RunAndWait(worker->loop(), [worker] { worker->StartDrain(); });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_timeout_ms);
  while (!AllDrained() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (auto& w : workers_) {
    ServerWorker* worker = w.get();
    RunAndWait(worker->loop(), [worker] { worker->Teardown(); });
  }
  for (auto& t : threads_) t->Stop();
  // Workers and threads stay (inert) until destruction, so stats() keeps working.
  LOG_INFO(options_.logger, "net: stopped listening on %s", bound_.ToString().c_str());
}

ServerStats Server::stats() const {
  ServerStats s;
  s.connections_current = shared_.connections_current.load(std::memory_order_relaxed);
  s.connections_total = shared_.connections_total.load(std::memory_order_relaxed);
  s.connections_refused = shared_.connections_refused.load(std::memory_order_relaxed);
  for (const auto& w : workers_) {
    const ConnectionCounters& c = *w->counters();
    s.frames_in += c.frames_in.load(std::memory_order_relaxed);
    s.frames_out += c.frames_out.load(std::memory_order_relaxed);
    s.bytes_in += c.bytes_in.load(std::memory_order_relaxed);
    s.bytes_out += c.bytes_out.load(std::memory_order_relaxed);
    s.protocol_errors += c.protocol_errors.load(std::memory_order_relaxed);
    s.output_buffered_bytes += c.output_buffered.load(std::memory_order_relaxed);
    s.backpressure_pauses += c.paused.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace kvring::net
