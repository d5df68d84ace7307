// repl/aae_exchange.h — one anti-entropy exchange: this node (the initiator)
// compares the ring ranges it shares with one peer and repairs every difference,
// both ways. The peer answers with repl/aae_responder.h; messages in
// repl/aae_messages.h.
//
//   1. range hashes: this node's hash of each range (RangeHash of its leaves) goes
//      to the peer, many ranges a message (AAE_RANGE_HASHES); the peer answers
//      which ranges differ. Identical replicas stop here: a few bytes per range,
//      and no data block read when the leaf source is the engine's index.
//   2. leaf hashes of each differing range (AAE_LEAF_HASHES), compared with this
//      node's own: the leaves that differ.
//   3. (key, digest) listings of each differing leaf (AAE_KEY_DIGESTS), compared
//      with this node's own: every key whose digest differs or that one side
//      lacks (a side whose set is all tombstones lists nothing for the key).
//      Runs of differing leaves (across leaves empty on both sides) are listed
//      together up to keys_per_listing keys, so a replica missing a whole range
//      (a wiped disk) lists it in a few messages, not one per leaf.
//   4. AAE_SYNC of those keys, a leaf at a time: this node sends its set of each
//      (or "none"), the peer merges it and answers its own set where it differs;
//      this node merges those. Every merge goes through ReplicaStore::Merge, so a
//      write that raced the repair is never undone.
// Up to `window` steps run at once. Throttled by a ReplayThrottle (bytes of leaf
// scans and of sets, the same adaptive rate hinted handoff uses): a step the
// throttle holds waits for the next Pump().
// Any failed message ends the exchange with that error (the caller retries
// later); ranges already reported done stay done.
// Thread safety: executor thread only (Start, Pump, stats, every callback).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "repl/aae_messages.h"
#include "repl/aae_ranges.h"
#include "repl/leaf_source.h"
#include "repl/peer_set.h"
#include "repl/replay_throttle.h"
#include "repl/replica_store.h"
#include "repl/transport.h"

namespace kvring::repl {

struct ExchangeOptions {
  size_t intervals_per_message = 256;  // range hashes per AAE_RANGE_HASHES
  size_t keys_per_sync = 64;           // keys per AAE_SYNC
  uint64_t keys_per_listing = 512;     // differing leaves listed together up to this many keys
  size_t window = 8;                   // steps at once
  uint64_t timeout_ms = 10000;         // one message
  uint64_t leaf_scan_cost = 512;       // bytes the throttle is charged for one listing (~15 keys)
  PeerSetLimits peer_sets;             // every set the peer answers is held to these before it is merged
};

struct ExchangeStats {
  uint64_t ranges_compared = 0;   // ranges whose hash was compared
  uint64_t ranges_differing = 0;
  uint64_t leaves_differing = 0;
  uint64_t keys_differing = 0;    // keys synced
  uint64_t keys_sent = 0;         // sets this node sent
  uint64_t keys_received = 0;     // sets the peer answered (merged here)
  uint64_t bytes_sent = 0;        // every request body
  uint64_t bytes_received = 0;    // every reply payload
  uint64_t tree_bytes = 0;        // of those, range and leaf hashes (both ways)
  uint64_t digest_bytes = 0;      // key listings (both ways)
  uint64_t sync_bytes = 0;        // AAE_SYNC (both ways)
  uint64_t range_messages = 0, leaf_requests = 0, digest_requests = 0, sync_requests = 0;
  void Add(const ExchangeStats& o);
};

class AaeExchange {
 public:
  // range: index into the ranges given; differed: some leaf of it differed.
  using RangeDone = std::function<void(size_t range, bool differed)>;
  using Done = std::function<void(const base::Status& status)>;

  // Every pointer must outlive the exchange; throttle may be null (no limit).
  AaeExchange(ExchangeOptions options, ring::NodeInfo peer, std::vector<SharedRange> ranges, LeafSource* leaves,
              ReplicaStore* store, Transport* transport, Executor* executor, Executor* io,
              ReplayThrottle* throttle, base::Clock* clock);
  AaeExchange(const AaeExchange&) = delete;
  AaeExchange& operator=(const AaeExchange&) = delete;
  ~AaeExchange();

  // Runs the exchange; done runs once, on the executor, never inside Start.
  void Start(RangeDone range_done, Done done);
  // Starts steps the throttle held back.
  void Pump();

  const ring::NodeInfo& peer() const { return peer_; }
  const ExchangeStats& stats() const { return stats_; }
  size_t ranges_done() const { return ranges_done_; }
  size_t range_count() const { return ranges_.size(); }

 private:
  struct Task;
  void Queue(Task task);
  void Launch(Task task);
  void Finish(const Task& task, const base::Status& status);
  void MaybeDone();
  // Runs work on the I/O pool, then `then` on the executor if the exchange lives.
  void OffLoop(std::function<base::Status()> work, std::function<void(const base::Status&)> then);
  void Ask(uint8_t opcode, std::string body, uint64_t* kind_bytes,
           std::function<void(const base::Status&, std::string_view)> then);
  void RangeBatch(Task task);
  void LeafStep(Task task);
  void DigestStep(Task task);
  void SyncStep(Task task);
  void SendSync(Task task, std::shared_ptr<std::vector<SyncEntry>> entries);
  void MergeAnswers(Task task, std::shared_ptr<std::vector<SyncEntry>> entries, std::string_view payload);
  // The listings of step 3 (interval, keys on the larger side); counts the differing leaves.
  std::vector<std::pair<PrefixInterval, uint64_t>> Listings(const std::vector<LeafHash>& mine,
                                                            const std::vector<LeafHash>& theirs);
  std::vector<std::string> DifferingKeys(const std::vector<KeyDigestEntry>& mine,
                                         const std::vector<KeyDigestEntry>& theirs);

  const ExchangeOptions options_;
  const ring::NodeInfo peer_;
  const std::vector<SharedRange> ranges_;
  LeafSource* const leaves_;
  ReplicaStore* const store_;
  Transport* const transport_;
  Executor* const executor_;
  Executor* const io_;
  ReplayThrottle* const throttle_;
  base::Clock* const clock_;
  std::deque<Task> queue_;
  std::vector<size_t> pending_;   // per range: steps not finished
  std::vector<bool> differed_;    // per range
  size_t in_flight_ = 0;
  size_t ranges_done_ = 0;
  base::Status failed_;
  bool finished_ = false;
  RangeDone range_done_;
  Done done_;
  ExchangeStats stats_;
  std::shared_ptr<bool> alive_;
};

}  // namespace kvring::repl
