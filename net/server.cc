#include "net/server.h"

#include <sys/resource.h>

#include <algorithm>
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
  line("connections_paused", connections_paused);
  line("requests_inflight", requests_inflight);
  line("input_buffered_bytes", input_buffered_bytes);
  line("output_limit_closes", output_limit_closes);
  line("frame_timeouts", frame_timeouts);
  line("hello_timeouts", hello_timeouts);
  line("auth_failures", auth_failures);
  line("input_budget_closes", input_budget_closes);
  line("accept_errors", accept_errors);
  line("fd_shortages", fd_shortages);
  line("connections_refused_no_fds", connections_refused_no_fds);
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
    workers_.push_back(std::make_unique<ServerWorker>(i, threads_.back()->loop(), options_, handler_, &shared_,
                                                      [this] { OnConnectionClosed(); }));
  }
  for (auto& w : workers_) RunAndWait(w->loop(), [&w] { w->Init(); });
  WarnIfDescriptorsShort();
  Acceptor::Callbacks callbacks;
  callbacks.on_new = [this](UniqueFd c, const SocketAddress& peer) { OnAccepted(std::move(c), peer); };
  callbacks.on_refuse = [this](UniqueFd c, const SocketAddress& peer) {
    // Logged one by one at debug level: the acceptor's line (once a second) counts them.
    Refuse(std::move(c), peer, Status::Busy("out of file descriptors: the server cannot take more connections now"),
           base::LogLevel::kDebug);
  };
  callbacks.may_refuse = [this] { return MayRefuseForLackOfDescriptors(); };
  acceptor_ = std::make_unique<Acceptor>(loop(0), std::move(fd.value()), options_.reserved_fds, std::move(callbacks),
                                         &shared_.accept);
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
    Refuse(std::move(fd), peer,
           Status::Busy("too many connections: the server's limit is " + std::to_string(options_.max_connections)),
           base::LogLevel::kWarn);
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
void Server::Refuse(UniqueFd fd, const SocketAddress& peer, const Status& why, base::LogLevel level) {
  shared_.connections_refused.fetch_add(1, std::memory_order_relaxed);
  workers_[0]->AddConnection(std::move(fd), peer, why, level);
}

// Loop 0, in a descriptor shortage. A refusal holds its descriptor until the peer
// has read it (lingering close): past half the spares' worth of them, the rest of
// the process needs the descriptors more, and further clients wait in the backlog.
bool Server::MayRefuseForLackOfDescriptors() const {
  const size_t max_lingering = static_cast<size_t>(std::max(options_.reserved_fds / 2, 1));
  return workers_[0]->lingering_refusals() < max_lingering;
}

// Any loop: a connection's descriptor was closed. Cheap unless the acceptor waits
// for one; queued, so the acceptor never runs inside a closing session.
void Server::OnConnectionClosed() {
  if (!shared_.accept.waiting_for_fd.load(std::memory_order_relaxed)) return;
  loop(0)->QueueInLoop([this] {
    if (acceptor_ != nullptr) acceptor_->DescriptorFreed();
  });
}

// A limit the descriptor limit cannot honour is worth a line at start.
void Server::WarnIfDescriptorsShort() const {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  const uint64_t wanted = options_.max_connections + static_cast<uint64_t>(std::max(options_.reserved_fds, 0));
  if (wanted <= limit.rlim_cur) return;
  LOG_WARN(options_.logger,
           "net: %zu connections and %d spare descriptors need more than the descriptor limit (RLIMIT_NOFILE %llu): "
           "past it, new clients are refused with Busy (raise it with ulimit -n or LimitNOFILE=)",
           options_.max_connections, options_.reserved_fds, static_cast<unsigned long long>(limit.rlim_cur));
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
    s.connections_paused += c.paused_now.load(std::memory_order_relaxed);
    s.input_buffered_bytes += c.input_buffered.load(std::memory_order_relaxed);
    s.output_limit_closes += c.output_limit_closes.load(std::memory_order_relaxed);
    const SessionCounters& sc = *w->session_counters();
    s.requests_inflight += sc.inflight.load(std::memory_order_relaxed);
    s.hello_timeouts += sc.hello_timeouts.load(std::memory_order_relaxed);
    s.auth_failures += sc.auth_failures.load(std::memory_order_relaxed);
    s.frame_timeouts += sc.frame_timeouts.load(std::memory_order_relaxed);
    s.input_budget_closes += sc.input_budget_closes.load(std::memory_order_relaxed);
  }
  s.accept_errors = shared_.accept.errors.load(std::memory_order_relaxed);
  s.fd_shortages = shared_.accept.shortages.load(std::memory_order_relaxed);
  s.connections_refused_no_fds = shared_.accept.refused_no_fds.load(std::memory_order_relaxed);
  return s;
}

}  // namespace kvring::net
