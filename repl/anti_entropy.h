// repl/anti_entropy.h — when this node compares its ranges with its co-replicas:
// the automatic schedule and the repair job (kvctl repair). Each comparison is
// an AaeExchange (repl/aae_exchange.h) with one peer; one runs at a time.
//
// Automatic: every co-replica (a member sharing a ring range with this node) is
// compared over every shared range at least once per `interval_us`; the first
// comparison with each peer is spread over the first interval (peer i of P at
// (i + 1) / (P + 1) of it), so a cluster started at once does not compare all at
// once. interval_us 0: no automatic comparison.
// Repair job: a full comparison now, of every range this node shares with each
// co-replica (or one peer, or within one prefix interval), ahead of the automatic
// schedule. Its progress is saved to DATA/repair (repl/repair_state.h) at most
// every persist_every_us and when it ends, on the I/O executor: a job interrupted
// by a crash resumes at the next start with the ranges it had not finished.
// Hints first: a peer is compared only while the failure detector holds it up
// and this node holds no hint for it (the replay goes first); else it is skipped
// and retried retry_us later, and the job says what it waits for.
// Throttled: the exchange's leaf scans and sets go through one ReplayThrottle
// (rate_bytes_per_sec at most, adapting to the round trips).
// Thread safety: executor thread only (Tick, StartRepair, Progress, stats).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/logging.h"
#include "repl/aae_exchange.h"
#include "repl/file_saver.h"
#include "repl/failure_detector.h"
#include "repl/hint_store.h"
#include "repl/purge_horizon.h"
#include "repl/repair_state.h"
#include "ring/membership_view.h"

namespace kvring::repl {

struct AntiEntropyOptions {
  std::string self;
  uint64_t interval_us = 600'000'000;       // 0: no automatic comparison
  uint64_t retry_us = 5'000'000;            // a skipped or failed peer is tried again after this
  uint64_t rate_bytes_per_sec = 32ull << 20;
  uint64_t persist_every_us = 1'000'000;
  std::string state_path;                   // DATA/repair; empty: not persisted
  ExchangeOptions exchange;
};

// What one peer's last completed exchange found.
struct PeerExchange {
  uint64_t finished_wall_us = 0;
  uint64_t duration_us = 0;
  ExchangeStats stats;
};

struct AntiEntropyStats {
  uint64_t exchanges = 0;         // completed
  uint64_t exchange_failures = 0;
  uint64_t skipped = 0;           // a due peer not up or with hints pending
  uint64_t last_converge_us = 0;  // duration of the last exchange that repaired something
  ExchangeStats total;            // over every completed or failed exchange
};

class AntiEntropy {
 public:
  // Every pointer must outlive this object; hints may be null (none kept).
  // io runs the state file writes.
  AntiEntropy(AntiEntropyOptions options, LeafSource* leaves, ReplicaStore* store, HintStore* hints,
              const FailureDetector* liveness, ring::MembershipView* view, Transport* transport, Executor* executor,
              Executor* io, base::Env* env, base::Clock* clock, base::Logger* logger);
  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;
  ~AntiEntropy();

  // Every range an exchange finds identical goes to *horizon (the tombstone
  // purge rule, repl/purge_horizon.h), with the engine sequence when the exchange
  // started (sequence()), unless hints_advertised() said at its start that some
  // member holds hints. All must outlive this object.
  void FeedPurgeHorizon(PurgeHorizon* horizon, std::function<uint64_t()> sequence,
                        std::function<bool()> hints_advertised) {
    horizon_ = horizon;
    sequence_ = std::move(sequence);
    hints_advertised_ = std::move(hints_advertised);
  }

  // Reads DATA/repair: a job that was running resumes. A missing file is no
  // job; a damaged one is logged and ignored (a new job starts from scratch).
  void Load();
  // Starts due comparisons and keeps the running one going; call every ~100 ms.
  void Tick();
  // Starts a repair job. Busy when one is running (its progress says how far).
  base::Result<RepairProgress> StartRepair(const RepairRequest& request);
  RepairProgress Progress() const;

  const AntiEntropyStats& stats() const { return stats_; }
  const std::map<std::string, PeerExchange>& last_exchanges() const { return last_; }
  bool running() const { return exchange_ != nullptr; }

 private:
  // Why peer cannot be compared now (empty: it can).
  std::string Unready(const std::string& peer) const;
  void TickJob(uint64_t now);
  void TickAutomatic(uint64_t now);
  void Run(const std::string& peer, std::vector<SharedRange> ranges, bool for_job);
  void OnRangeDone(const std::string& peer, const SharedRange& range, bool differed);
  void OnExchangeDone(const std::string& peer, bool for_job, uint64_t started_us, const base::Status& status);
  void FinishJob();
  void AddToJob(const ExchangeStats& before, const ExchangeStats& now);
  // The ranges of the job with peer not yet done.
  std::vector<SharedRange> JobRanges(const ring::Ring& ring, const std::string& peer) const;
  std::vector<std::string> JobPeers(const ring::Ring& ring) const;
  void NoteFullCycle(uint64_t now_wall);
  void Persist(bool now);

  const AntiEntropyOptions options_;
  LeafSource* const leaves_;
  ReplicaStore* const store_;
  HintStore* const hints_;
  const FailureDetector* const liveness_;
  ring::MembershipView* const view_;
  Transport* const transport_;
  Executor* const executor_;
  Executor* const io_;
  base::Env* const env_;
  base::Clock* const clock_;
  base::Logger* const logger_;
  ReplayThrottle throttle_;
  std::unique_ptr<AaeExchange> exchange_;
  ExchangeStats job_seen_;                    // of the running exchange, already added to the job
  std::map<std::string, uint64_t> due_us_;    // automatic: next comparison per peer
  std::map<std::string, uint64_t> retry_us_;  // job: a peer that failed or was skipped waits until then
  std::map<std::string, PeerExchange> last_;  // per peer
  uint64_t cycle_start_wall_us_ = 0;          // automatic: since when every peer must have completed
  ExchangeStats cycle_;                       // what this automatic cycle found so far
  RepairJobState job_;
  uint64_t job_run_started_us_ = 0;           // this run of the job (monotonic)
  std::string job_detail_;
  uint64_t persisted_us_ = 0;
  AntiEntropyStats stats_;
  PurgeHorizon* horizon_ = nullptr;
  std::function<uint64_t()> sequence_;
  std::function<bool()> hints_advertised_;
  std::unique_ptr<FileSaver> saver_;  // DATA/repair, off the loop; null without a state_path
  std::shared_ptr<bool> alive_;
};

}  // namespace kvring::repl
