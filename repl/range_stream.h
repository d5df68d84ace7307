// repl/range_stream.h — range streaming: moves the contents of token ranges from
// a replica that holds them to a node that will (a join, a decommission, a
// removenode, a replace), batch by batch:
//
//   read   STREAM_READ(range, after = the last key acknowledged, batch_bytes) from
//          the task's current source (this node's engine when it is the source);
//   write  the batch to the destination: merged through the replica store when
//          this node is it, else one AAE_SYNC (the receiver merges every set by
//          version vector and answers once durable: idempotent, never an
//          overwrite, so a batch sent twice or a client write racing the stream
//          loses nothing);
//   then   `after` moves to the batch's last key.
//
// A source that fails (down, timeout, error) is left for the next of the task's
// sources, which carries on from the same `after`: replicas order keys alike
// (repl/stream_source.h), so nothing acknowledged is streamed again; only a batch
// sent and not acknowledged is, and it is counted (bytes_again). A destination
// that fails is retried. Throttled by a token bucket that slows down when the
// nodes are busy (repl/replay_throttle.h, shared with hinted handoff's logic).
// The driver (repl/membership_ops.h) persists tasks() after every batch, so a
// restart resumes each range from its last acknowledged key.
// Thread safety: executor thread only, except the stats (any thread through
// the driver's copy).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/status.h"
#include "lsm/engine.h"
#include "repl/failure_detector.h"
#include "repl/replay_throttle.h"
#include "repl/replica_store.h"
#include "repl/stream_messages.h"
#include "repl/transport.h"
#include "ring/node_info.h"

namespace kvring::repl {

// One range to move, and how far it got.
struct StreamTask {
  StreamProgress progress;           // range, destination, current source, counts, done
  std::vector<std::string> sources;  // in preference order; progress.source is one of them
  std::string after;                 // the last user key the destination made durable ("" = none yet)
  friend bool operator==(const StreamTask&, const StreamTask&) = default;
};

struct StreamerOptions {
  std::string self;
  uint64_t rate_bytes_per_sec = 64ull << 20;
  uint32_t batch_bytes = 1u << 20;
  uint64_t timeout_ms = 10000;
  size_t parallel = 2;          // tasks in flight at once (kvnode --stream-parallel)
  uint64_t retry_us = 500'000;  // after a failed batch
};

class RangeStreamer {
 public:
  // The node of an id (address for the transport), or none when unknown.
  using FindNode = std::function<std::optional<ring::NodeInfo>(std::string_view id)>;
  // Every pointer must outlive the streamer and the work it queued; *io runs the
  // local scans (kvnode: the I/O pool), *loop everything else.
  RangeStreamer(StreamerOptions options, lsm::DB* db, ReplicaStore* store, Transport* transport,
                const FailureDetector* liveness, FindNode find, Executor* loop, Executor* io, base::Clock* clock,
                base::Logger* logger);
  RangeStreamer(const RangeStreamer&) = delete;
  RangeStreamer& operator=(const RangeStreamer&) = delete;
  ~RangeStreamer();

  // Replaces the tasks (their progress included: a resumed operation passes what
  // it persisted). Tasks already done stay done.
  void Reset(std::vector<StreamTask> tasks);
  // Starts batches that may go (throttle, retry delays, parallelism). Call often
  // (kvnode: every 100 ms) and after each batch (the streamer does that itself).
  void Pump();
  // Called after every acknowledged batch (the driver persists then).
  void OnProgress(std::function<void()> fn) { on_progress_ = std::move(fn); }

  const std::vector<StreamTask>& tasks() const { return tasks_; }
  bool done() const;
  // Why the last batch of some task failed ("" when none failed since it last succeeded).
  const std::string& last_error() const { return last_error_; }

 private:
  void StartBatch(size_t task);
  void Read(size_t task, std::function<void(base::Status, StreamBatch)> done);
  void Write(size_t task, const StreamBatch& batch, std::function<void(base::Status)> done);
  void MergeLocally(const StreamBatch& batch, std::function<void(base::Status)> done);
  void OnRead(size_t task, uint64_t generation, const base::Status& s, StreamBatch batch);
  void OnWritten(size_t task, uint64_t generation, const base::Status& s, const StreamBatch& batch,
                 uint64_t sent_us);
  void Fail(size_t task, bool source_failed, const std::string& why);
  // The next source of a task that is not held down (or the next one at all).
  void NextSource(StreamTask* task);
  bool Usable(const std::string& id) const;

  const StreamerOptions options_;
  lsm::DB* const db_;
  ReplicaStore* const store_;
  Transport* const transport_;
  const FailureDetector* const liveness_;
  const FindNode find_;
  Executor* const loop_;
  Executor* const io_;
  base::Clock* const clock_;
  base::Logger* const logger_;
  ReplayThrottle throttle_;
  std::vector<StreamTask> tasks_;
  std::vector<bool> busy_;            // per task: a batch in flight
  std::vector<uint64_t> retry_at_;    // per task: not before (monotonic us)
  std::vector<bool> resend_;          // per task: the next batch resends one not acknowledged
  uint64_t generation_ = 0;           // raised by Reset: replies of older tasks are dropped
  std::shared_ptr<bool> alive_;       // false once destroyed: late replies are dropped
  std::string last_error_;
  std::function<void()> on_progress_;
};

// The AAE_SYNC body that sends stored sets as they are (no decode, no re-encode).
void EncodeSyncOfStored(std::string* dst, const std::vector<StreamEntry>& entries);

}  // namespace kvring::repl
