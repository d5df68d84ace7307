// repl/stream_source.h — the sending side of range streaming: STREAM_READ
// (repl/stream_messages.h) answered from a scan of this replica's engine, one
// batch of about max_bytes at a time, in storage order (big-endian token, then
// key), so a stream cut anywhere resumes after the last key its receiver
// acknowledged, from this replica or from any other (they all order keys alike).
// The scan does not fill the block cache: a stream must not evict what the
// clients read.
// Thread safety: ReadStreamBatch blocks on the engine (run it on an I/O pool);
// StreamSource::Handle on an executor's thread (the reply runs on it too).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "base/status.h"
#include "lsm/engine.h"
#include "repl/stream_messages.h"
#include "repl/transport.h"

namespace kvring::repl {

// Largest batch a STREAM_READ may ask for; larger requests are cut to it.
constexpr uint32_t kMaxStreamBatchBytes = 4u << 20;

// The batch `request` asks for, read from *db.
[[nodiscard]] base::Status ReadStreamBatch(lsm::DB* db, const StreamReadRequest& request, StreamBatch* batch);

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

 private:
  lsm::DB* const db_;
  Executor* const io_;
  std::atomic<uint64_t> batches_{0}, bytes_{0};
};

}  // namespace kvring::repl
