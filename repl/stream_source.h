// repl/stream_source.h — the sending side of range streaming: STREAM_READ
// (repl/stream_messages.h) answered from a scan of this replica's engine, one
// batch of about max_bytes at a time, in storage order (big-endian token, then
// key), so a stream cut anywhere resumes after the last key its receiver
// acknowledged, from this replica or from any other (they all order keys alike).
// The scan does not fill the block cache: a stream must not evict what the
// clients read.
// The source also protects its own clients: StreamPacer holds its answers back
// while the latency of the requests it coordinates is past 1.5x its recent base
// (repl/client_latency.h), which slows every stream it serves, whatever the
// receiver's own throttle allows. A source without clients answers at once.
// Thread safety: ReadStreamBatch blocks on the engine (run it on an I/O pool);
// StreamSource::Handle on an executor's thread (the reply runs on it too);
// Tick and MeasureClientsWith on one thread (kvnode: loop 0), the rest on any.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "lsm/engine.h"
#include "repl/client_latency.h"
#include "repl/stream_messages.h"
#include "repl/transport.h"

namespace kvring::repl {

// Largest batch a STREAM_READ may ask for; larger requests are cut to it.
constexpr uint32_t kMaxStreamBatchBytes = 4u << 20;

// The batch `request` asks for, read from *db.
[[nodiscard]] base::Status ReadStreamBatch(lsm::DB* db, const StreamReadRequest& request, StreamBatch* batch);

struct StreamPacerOptions {
  LatencyBaseOptions clients;
  uint64_t first_delay_us = 20'000;  // the first hold-back once the clients pay
  uint64_t max_delay_us = 1'000'000;  // well under a STREAM_READ's timeout (10 s or more)
};

// How long to hold back each STREAM_READ answer. Every tick with a client sample:
//   streams served and the mean past the base's limit  delay = min(max, max(first, 2 x delay))
//   otherwise                                          delay = delay / 2 (0 below first / 2)
// The delay is a round trip added to each batch, so doubling it about halves a
// stream's rate, and halving it lets the rate climb back as fast.
class StreamPacer {
 public:
  explicit StreamPacer(StreamPacerOptions options = {}) : options_(options), clients_(options.clients) {}
  // One tick's mean client latency at now_us; streaming: batches were served since the last tick.
  void OnClientLatency(uint64_t now_us, uint64_t mean_us, bool streaming);
  uint64_t delay_us() const { return delay_us_.load(std::memory_order_relaxed); }
  uint64_t client_base_us() const { return clients_.base_us(); }

 private:
  const StreamPacerOptions options_;
  LatencyBase clients_;
  std::atomic<uint64_t> delay_us_{0};
};

class StreamSource {
 public:
  using Reply = std::function<void(base::Status status, std::string payload)>;
  // *db and *io (where the scans run: kvnode's I/O pool) must outlive the source
  // and the work it queued.
  StreamSource(lsm::DB* db, Executor* io) : db_(db), io_(io) {}
  // Answers one STREAM_READ body through `reply`, on ex's thread.
  void Handle(Executor* ex, std::string body, Reply reply);
  // Batches and bytes (keys and sets) served. Any thread.
  uint64_t batches_served() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t bytes_served() const { return bytes_.load(std::memory_order_relaxed); }
  // The clients' latency, sampled at every Tick (kvnode: every 100 ms on loop 0).
  void MeasureClientsWith(AnsweredCounter answered) { clients_.MeasureWith(std::move(answered)); }
  void Tick(uint64_t now_us);
  // How long to hold back each answer now (the caller delays the reply: kvnode
  // on its loop's timer). Any thread.
  uint64_t reply_delay_us() const { return pacer_.delay_us(); }
  const StreamPacer& pacer() const { return pacer_; }

 private:
  lsm::DB* const db_;
  Executor* const io_;
  std::atomic<uint64_t> batches_{0}, bytes_{0};
  StreamPacer pacer_;
  ClientLatencySampler clients_{20};  // ticks with fewer requests give no sample
  uint64_t batches_at_tick_ = 0;
};

}  // namespace kvring::repl
