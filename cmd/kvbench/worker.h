// cmd/kvbench/worker.h — one kvbench client thread: an epoll loop over its own
// connections, each keeping up to --pipeline requests in flight.
//
// Per wake-up and connection: one read() brings in every reply that arrived, each
// is parsed in place and completed (latency, staleness check), then every request
// that is ready (closed loop: one per free slot; open loop: the ones whose
// scheduled time has come) is appended to the send buffer and the lot goes out
// in one send(). Requests live in preallocated slots; buffers keep their
// capacity; nothing is allocated per request in the steady state.
//
// Stages (set by the runner through RunControl): preload (write this worker's
// share of the keys once), then run (warm-up, then the measured window), then
// drain (stop issuing, wait for replies up to a deadline).
// A lost connection fails its requests ("connection lost") and is reconnected
// with backoff (100 ms doubling to 2 s).
// Thread safety: Run() on the worker's own thread; stats() after it returned.
// RunControl and WorkerProgress are thread-safe.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/random.h"
#include "base/thread_annotations.h"
#include "cmd/kvbench/connection.h"
#include "cmd/kvbench/context_cache.h"
#include "cmd/kvbench/histogram.h"
#include "cmd/kvbench/key_chooser.h"
#include "cmd/kvbench/options.h"
#include "cmd/kvbench/run_stats.h"
#include "cmd/kvbench/staleness_tracker.h"
#include "cmd/kvbench/workload.h"

namespace kvring::cmd::kvbench {

// What the runner tells its workers.
struct RunControl {
  enum Stage : int { kPreload = 0, kRun = 1, kAbort = 2 };
  std::atomic<int> stage{kPreload};
  std::atomic<uint64_t> run_start_ns{0};  // warm-up begins; stored before stage becomes kRun
  std::atomic<bool> stop{false};          // stop issuing now (Ctrl-C); in-flight requests drain
  uint64_t warmup_ns = 0;
  uint64_t duration_ns = 0;               // 0 with --requests
};

// What a worker tells the runner while it runs.
struct WorkerProgress {
  std::atomic<uint64_t> completed{0};  // requests finished in the run stage (warm-up included)
  std::atomic<uint64_t> errors{0};     // measured errors
  std::atomic<uint64_t> preloaded{0};  // preload writes finished
  std::atomic<bool> preload_done{false};
  std::atomic<bool> finished{false};
  base::Mutex mu;
  Histogram cumulative GUARDED_BY(mu);  // measured latencies so far
  Histogram interval GUARDED_BY(mu);    // measured latencies since the runner last took them
};

struct WorkerConfig {
  int index = 0;
  const BenchOptions* options = nullptr;
  std::vector<const Target*> link_targets;  // one per connection of this worker
  const Workload* workload = nullptr;
  KeyChooser* keys = nullptr;
  StalenessTracker* tracker = nullptr;      // null: no staleness check
  RunControl* control = nullptr;
  WorkerProgress* progress = nullptr;
  uint32_t slot_base = 0;                   // this worker's tracker slot ids start here
  uint64_t request_quota = 0;               // --requests share; 0 = run for the duration
  double rate = 0;                          // this worker's share of --rate
  uint32_t run_id = 0;
  uint64_t seed = 1;
};

class Worker {
 public:
  explicit Worker(WorkerConfig config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Run();
  RunStats& stats() { return stats_; }

 private:
  enum class Outcome : uint8_t { kOk, kMiss, kError, kAbandoned };
  struct Slot {
    uint32_t link = 0;
    uint16_t gen = 0;  // tells a late reply from the slot's current request
    OpType op = OpType::kGet;
    bool busy = false;
    bool writing = false;  // the request on the wire is a PUT (rmw: its second phase)
    bool measured = false;
    bool preload = false;
    uint64_t key = 0;
    uint64_t start_ns = 0;  // issue time, or the scheduled time in open loop
    StalenessTracker::ReadTicket read;
    StalenessTracker::WriteTicket write;
    std::string context;  // the context the PUT carries (rmw: the GET's; put: the cached one)
  };
  struct Link {
    std::unique_ptr<Connection> conn;
    std::vector<uint32_t> free;  // free slot indexes
    uint32_t first_slot = 0;
    uint32_t epoll_mask = 0;     // events registered (0: not registered)
    uint64_t retry_at_ns = 0;
    uint64_t backoff_ns = 0;
    uint64_t assigned = 0;       // open loop: requests scheduled onto this link
    uint64_t sent = 0;           // open loop: of those, sent
    bool touched = false;
  };

  // The loop.
  void Tick(uint64_t now);
  void EnterRun();
  void BeginDrain(uint64_t now);
  void Wait(uint64_t now);
  uint64_t NextWakeNs(uint64_t now) const;
  void HandleEvent(uint32_t li, uint32_t events);
  void Publish();
  // Connections.
  void Connect(uint32_t li);
  void RetryLinks(uint64_t now);
  void LinkFailed(uint32_t li, const base::Status& why);
  void UpdateEpoll(uint32_t li);
  // Replies.
  base::Status ParseReplies(uint32_t li, uint64_t now);
  base::Status OnReply(uint32_t li, const Reply& reply, uint64_t now);
  base::Status OnReadReply(uint32_t si, const Reply& reply, uint64_t now);
  base::Status OnWriteReply(uint32_t si, const Reply& reply, uint64_t now);
  void Finish(uint32_t si, uint64_t now, Outcome outcome, std::string_view kind = {},
              std::string_view message = {});
  void FailRequest(uint32_t si, uint64_t now, Outcome outcome, std::string_view kind, std::string_view message);
  void AbandonInFlight(uint64_t now);
  // Requests.
  void FillAndFlush(uint32_t li);
  bool IssueNext(uint32_t li, uint64_t now);
  void StartRead(uint32_t si, uint64_t now);
  void StartWrite(uint32_t si, uint64_t now);
  uint32_t Tag(uint32_t si) const;
  void AssignDue(uint64_t now);
  uint64_t ScheduledNs(uint64_t index) const;
  uint64_t LinkScheduledNs(uint32_t li, uint64_t j) const { return ScheduledNs(li + j * links_.size()); }

  const WorkerConfig config_;
  const BenchOptions& options_;
  const uint32_t pipeline_;
  const bool open_loop_;
  base::Random rng_;
  int epoll_fd_ = -1;
  std::vector<Link> links_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> touched_;
  std::vector<epoll_event> events_;
  std::string key_buf_;
  ContextCache contexts_;  // per key: the context of this worker's last read or write of it
  std::string value_buf_;  // filler; each write's header is written over its front
  uint64_t wall_offset_us_;

  int stage_ = RunControl::kPreload;
  bool preload_done_ = false;
  bool issuing_ = false;
  bool finished_ = false;
  uint64_t preload_next_ = 0;
  uint64_t run_start_ns_ = 0;
  uint64_t measure_start_ns_ = 0;
  uint64_t end_ns_ = UINT64_MAX;
  uint64_t drain_deadline_ns_ = 0;
  uint64_t next_index_ = 0;  // open loop: the next request to schedule
  double interval_ns_ = 0;   // open loop: between two of this worker's requests
  uint64_t measured_issued_ = 0;
  uint64_t in_flight_ = 0;
  uint64_t completed_ = 0;
  int down_links_ = 0;
  uint64_t next_retry_ns_ = UINT64_MAX;
  uint64_t next_publish_ns_ = 0;
  uint64_t publish_ns_ = 0;  // between two Publish() calls

  RunStats stats_;
  Histogram interval_;  // measured latencies since the last Publish()
};

}  // namespace kvring::cmd::kvbench
