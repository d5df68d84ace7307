// bench/net_bench.cc — the per-request CPU of net/'s hot path without sockets:
// parsing frames out of an input buffer (BM_ParseFrame), encoding a small reply into
// a reused output buffer (BM_AppendReply), decoding a GET body (BM_DecodeGet), and
// the event loop's cross-thread hand-off (BM_RunInLoopBatch; per request only on the
// deferred path).
//   make -j2 build/micro_bench && build/micro_bench --benchmark_filter='BM_(ParseFrame|AppendReply|DecodeGet|RunInLoop)'
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>

#include "net/loop_thread.h"
#include "net/protocol.h"

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

}  // namespace
}  // namespace kvring::net
