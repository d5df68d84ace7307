// bench/net_bench.cc — the per-request CPU of net/'s hot path without sockets:
// parsing frames out of an input buffer (BM_ParseFrame), encoding a small reply into
// a reused output buffer (BM_AppendReply), decoding a GET body (BM_DecodeGet), and
// the event loop's cross-thread hand-off (BM_RunInLoopBatch; per request only on the
// deferred path); and round trips over loopback, 50 connections in lockstep, against
// a net::Server answering PING (BM_ServerRoundTrips) and against a bare epoll echo
// thread (BM_RawEchoRoundTrips) in the same run, for the ratio.
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_(ParseFrame|AppendReply|DecodeGet|RunInLoop)'
//   build/micro_bench --benchmark_filter='RoundTrips' --benchmark_min_time=2
// The round-trip pair is lockstep (all connections write, then all read), not the
// free-running closed loop of /work/shared/peers/tcp_pingpong.c: use it to compare
// the two servers in one run, not with BASELINES.md's figures. Client and servers
// share the machine's two cores.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "net/loop_thread.h"
#include "net/protocol.h"
#include "net/server.h"

namespace kvring::net {
namespace {

// A buffer of 1,000 pipelined GET frames with keys of state.range(0) bytes, parsed
// front to back as Connection::ProcessInput does.
void BM_ParseFrame(benchmark::State& state) {
  std::string buf, body;
  EncodeGet(&body, GetRequest{kConsistencyQuorum, 0, std::string(static_cast<size_t>(state.range(0)), 'k')});
  for (uint32_t i = 0; i < 1000; ++i) AppendFrame(&buf, static_cast<uint8_t>(Opcode::kGet), 0, i, body);
  uint64_t frames = 0;
  for (auto _ : state) {
    const char* p = buf.data();
    size_t left = buf.size();
    Frame f;
    size_t consumed;
    base::Status error;
    while (ParseFrame(p, left, kDefaultMaxFrameBytes, &f, &consumed, &error) == ParseResult::kFrame) {
      benchmark::DoNotOptimize(f.body.data());
      p += consumed;
      left -= consumed;
      ++frames;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_ParseFrame)->Arg(16)->Arg(100);

// One OK reply with a payload of state.range(0) bytes, appended to an output buffer
// that is cleared (capacity kept) every 64 replies, as after a flush.
void BM_AppendReply(benchmark::State& state) {
  std::string out;
  const std::string payload(static_cast<size_t>(state.range(0)), 'v');
  uint32_t id = 0;
  for (auto _ : state) {
    size_t start = BeginFrame(&out, static_cast<uint8_t>(Opcode::kGet), kFlagReply, ++id);
    AppendStatus(&out, base::Status::OK());
    out.append(payload);
    FinishFrame(&out, start);
    if ((id & 63) == 0) out.clear();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_AppendReply)->Arg(0)->Arg(100)->Arg(1000);

void BM_DecodeGet(benchmark::State& state) {
  std::string body;
  EncodeGet(&body, GetRequest{1, 0, std::string(16, 'k')});
  GetRequest m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeGet(body, &m));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_DecodeGet);

// state.range(0) functions handed to a running loop from this thread, then one
// round trip to wait for them: the cost per function of QueueInLoop plus its run.
void BM_RunInLoopBatch(benchmark::State& state) {
  auto t = LoopThread::Start("bench-loop");
  if (!t.ok()) {
    state.SkipWithError(t.status().ToString().c_str());
    return;
  }
  EventLoop* loop = (*t)->loop();
  std::atomic<uint64_t> ran{0};
  for (auto _ : state) {
    for (int64_t i = 0; i < state.range(0); ++i) {
      loop->QueueInLoop([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    }
    loop->RunSync([] {});
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_RunInLoopBatch)->Arg(1)->Arg(64);

// --- round trips over loopback ----------------------------------------------------------

constexpr int kConnections = 50;
constexpr size_t kMessageBytes = 64;  // a PING frame of 64 bytes; the echo is 64 bytes too

class PingHandler : public RequestHandler {
 public:
  void OnRequest(Request& request) override { request.ReplyOk(request.body()); }
};

// A bare echo server on its own thread: epoll, one read and one write per event.
class RawEcho {
 public:
  RawEcho() {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_, 128);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawEcho() {
    stop_ = true;
    ::shutdown(listen_, SHUT_RDWR);
    thread_.join();
    ::close(listen_);
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    int ep = ::epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, listen_, &ev);
    std::vector<char> buf(1 << 16);
    epoll_event evs[256];
    while (!stop_) {
      int n = ::epoll_wait(ep, evs, 256, 100);
      for (int i = 0; i < n; ++i) {
        int fd = evs[i].data.fd;
        if (fd == listen_) {
          int c = ::accept(listen_, nullptr, nullptr);
          if (c < 0) continue;
          int one = 1;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          continue;
        }
        ssize_t r = ::read(fd, buf.data(), buf.size());
        if (r <= 0) {
          ::close(fd);
          continue;
        }
        if (::write(fd, buf.data(), static_cast<size_t>(r)) != r) ::close(fd);
      }
    }
    ::close(ep);
  }

  int listen_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool ReadExactly(int fd, size_t n) {
  char buf[4096];
  while (n > 0) {
    ssize_t r = ::read(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
    if (r <= 0) return false;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Each iteration writes `depth` messages on every connection, then reads every
// reply: a lockstep closed loop with kConnections x depth requests in flight.
void RunRoundTrips(benchmark::State& state, uint16_t port, bool kvring) {
  const int depth = static_cast<int>(state.range(0));
  std::string request;
  if (kvring) {
    for (int d = 0; d < depth; ++d) {
      AppendFrame(&request, static_cast<uint8_t>(Opcode::kPing), 0, 1,
                  std::string(kMessageBytes - kFrameHeaderBytes, 'p'));
    }
  } else {
    request.assign(kMessageBytes * static_cast<size_t>(depth), 'p');
  }
  const size_t reply_bytes = (kvring ? kMessageBytes + 1 : kMessageBytes) * static_cast<size_t>(depth);
  std::vector<int> fds;
  for (int i = 0; i < kConnections; ++i) {
    int fd = ConnectLoopback(port);
    if (fd < 0) {
      state.SkipWithError("connect failed");
      return;
    }
    if (kvring) {
      std::string hello_body, hello;
      EncodeHello(&hello_body, HelloRequest{kProtocolVersion, PeerRole::kClient, "", "bench"});
      AppendFrame(&hello, static_cast<uint8_t>(Opcode::kHello), 0, 0, hello_body);
      if (::write(fd, hello.data(), hello.size()) != static_cast<ssize_t>(hello.size())) return;
      const std::string cluster = ServerOptions().cluster;  // the server runs with the default
      std::string payload;  // the HELLO reply it sends: OK, version, cluster, empty node id
      AppendStatus(&payload, base::Status::OK());
      EncodeHelloReply(&payload, HelloReply{kProtocolVersion, cluster, ""});
      if (!ReadExactly(fd, kFrameHeaderBytes + payload.size())) return;
    }
    fds.push_back(fd);
  }
  for (auto _ : state) {
    for (int fd : fds) {
      if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
        state.SkipWithError("write failed");
        break;
      }
    }
    for (int fd : fds) {
      if (!ReadExactly(fd, reply_bytes)) {
        state.SkipWithError("read failed");
        break;
      }
    }
  }
  for (int fd : fds) ::close(fd);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kConnections * depth);
}

void BM_ServerRoundTrips(benchmark::State& state) {
  PingHandler handler;
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  Server server(options, &handler);
  if (!server.Start().ok()) {
    state.SkipWithError("server did not start");
    return;
  }
  RunRoundTrips(state, server.port(), true);
}
BENCHMARK(BM_ServerRoundTrips)->Arg(1)->Arg(16)->UseRealTime();

void BM_RawEchoRoundTrips(benchmark::State& state) {
  RawEcho echo;
  RunRoundTrips(state, echo.port(), false);
}
BENCHMARK(BM_RawEchoRoundTrips)->Arg(1)->Arg(16)->UseRealTime();

}  // namespace
}  // namespace kvring::net
