// repl/coordinator.h — the public header of repl/: the quorum coordinator every
// node runs. Any node takes any request:
//
//   Get: sent to all N replicas of the key in parallel; answered once R replied
//        (the merge of their sibling sets); late replies keep arriving and, once
//        all are in or timed out, replicas that lacked something in the final merge
//        are sent it (read repair), without delaying the client.
//   Put/Delete: coordinated by a replica of the key (a non-replica forwards the
//        request to the first reachable replica). The coordinating replica mints a
//        new sibling with its own dot (repl/sibling_set.h), stores it, sends the
//        resulting set to the other replicas, and answers once W replicas (itself
//        included) made it durable. The receipt names them. During a membership
//        change (ring/transition.h) the set also goes to the key's pending
//        replicas, whose acks do not count towards W (a down one gets a hint).
//
// A quorum not reached is an Unavailable error naming who answered, who timed out
// and who is down: "quorum not reached: 1 of 2 write acks within 1000ms (n2
// timeout, n3 down)".
// Consistency levels use net/protocol.h's byte (0 = default, 1..250, QUORUM, ALL,
// LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM; what each counts: repl/quorum.h). A
// non-replica forwards a LOCAL_* write to a replica of its own datacenter only, so
// the level counts in the datacenter the client chose.
//
// Thread safety: executor thread only (every method and every callback).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/status.h"
#include "repl/client_context.h"
#include "repl/failure_detector.h"
#include "repl/hint_store.h"
#include "repl/sloppy_quorum.h"
#include "repl/messages.h"
#include "repl/peer_set.h"
#include "repl/quorum.h"
#include "repl/replica_store.h"
#include "repl/sibling_set.h"
#include "repl/transport.h"
#include "ring/membership_view.h"

namespace kvring::repl {

struct CoordinatorOptions {
  std::string self;             // this node's id (must be a ring member to hold replicas)
  std::string dc{ring::kDefaultDc};  // this node's datacenter: LOCAL_ONE and LOCAL_QUORUM count there
  uint8_t default_r = 254;      // QUORUM
  uint8_t default_w = 254;      // QUORUM
  uint64_t request_timeout_ms = 1000;
  bool strict_default = false;  // requests without the STRICT flag use stand-ins (sloppy quorum)
  ContextKey context_key = ContextKey::Default();  // seals and opens client contexts
  PeerSetLimits peer_sets;  // what a replica's read reply may hold (a reply past them counts as failed)
};

struct ReplicaAck {
  std::string node;
  bool stand_in = false;  // a sloppy-quorum stand-in holding the write and a hint for `owner`
  std::string owner;      // the down owner a stand-in stood in for ("" otherwise)
};

// What a successful write tells its client (the write receipt of docs/protocol.md).
struct WriteResult {
  std::vector<ReplicaAck> acks;  // the replicas that made it durable
  std::string context;  // encoded client context: the write's context plus its new dot
  std::string clock;    // the new version's clock (EncodeSiblingClock)
};

struct CoordinatorStats {
  uint64_t gets = 0;
  uint64_t puts = 0;
  uint64_t deletes = 0;
  uint64_t forwarded = 0;         // writes this node forwarded to a replica
  uint64_t quorum_failures = 0;
  uint64_t read_repairs = 0;      // repair writes sent to stale or missing replicas
  uint64_t stand_in_writes = 0;   // writes sent to a stand-in for a down owner
  uint64_t hints_kept = 0;        // hints this coordinator recorded itself (no stand-in, or no ack in time)
  // Reads and writes coordinated here that met their quorum, and their summed
  // time from the call to the answer: the clients' latency as this node sees it
  // (the hint replay slows down when it rises: repl/replay_throttle.h).
  uint64_t answered = 0;
  uint64_t answered_micros = 0;

  CoordinatorStats& operator+=(const CoordinatorStats& o);
};

class Coordinator {
 public:
  // Every pointer must outlive the coordinator. liveness: the node's view of which
  // peers are down (to word errors, "n3 down", and to pick forward targets).
  // hints: where this node records hints for owners that missed a write (null:
  // none are recorded, and no stand-in is used).
  Coordinator(CoordinatorOptions options, ring::MembershipView* view, ReplicaStore* store, Transport* transport,
              const FailureDetector* liveness, Executor* executor, base::Clock* clock, base::Logger* logger,
              HintStore* hints = nullptr);
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // merged: the merge of the replies (null when no replica holds the key). A key
  // whose every sibling is a tombstone is returned too: the caller decides that it
  // reads as not found (SiblingSet::IsDeleted) but may still use its history.
  using GetDone = std::function<void(const base::Status&, const SiblingSet* merged)>;
  using WriteDone = std::function<void(const base::Status&, const WriteResult& result)>;

  void Get(std::string_view key, uint8_t r, GetDone done) { Get(key, r, 0, std::move(done)); }
  // flags: net::kGetFlagStrict (only owners count towards R).
  void Get(std::string_view key, uint8_t r, uint8_t flags, GetDone done);
  // context: the bytes of an earlier get's (or put's) context
  // (repl/client_context.h); empty when the client sent none. Either way the
  // write supersedes exactly what the context covers (nothing, without one),
  // unless flags has net::kWriteFlagOverwrite: then it also supersedes whatever
  // the coordinating replica holds. A delete needs a context or OVERWRITE
  // (InvalidArgument otherwise: it would delete nothing).
  void Put(std::string_view key, std::string_view value, std::string_view context, uint8_t w, uint8_t flags,
           WriteDone done);
  void Delete(std::string_view key, std::string_view context, uint8_t w, uint8_t flags, WriteDone done);
  // A write another node forwarded here: coordinated locally, never forwarded on.
  void CoordinateForwarded(const ForwardWrite& write, WriteDone done);

  // Safe from any thread (the counters are atomic; STATS sums every loop's).
  CoordinatorStats stats() const;
  const CoordinatorOptions& options() const { return options_; }


 private:
  struct ReadOp;
  struct WriteOp;
  struct ForwardOp;

  void Write(const ForwardWrite& write, bool may_forward, WriteDone done);
  void CoordinateWrite(const ForwardWrite& write, VersionVector context, QuorumCounter quorum,
                       std::shared_ptr<const ring::Ring> ring, std::shared_ptr<const ring::RingTransition> transition,
                       const ring::PreferenceList& replicas, WriteDone done);
  void AddPendingTargets(const ring::RingTransition& transition, ring::Token token,
                         std::vector<ReplicaTarget>* others) const;
  void ForwardToNextReplica(const std::shared_ptr<ForwardOp>& op);
  void OnReadReply(const std::shared_ptr<ReadOp>& op, size_t index, const base::Status& status,
                   std::optional<SiblingSet> set);
  void FinishRead(const std::shared_ptr<ReadOp>& op);
  void OnWriteAck(const std::shared_ptr<WriteOp>& op, const ReplicaTarget& target, const base::Status& status);
  void SendReplicaWrite(const std::shared_ptr<WriteOp>& op, const ReplicaTarget& target, const std::string& body);
  // Records that `owner` missed the write of `key` (a set of `bytes`); done may be null.
  void KeepHint(const ring::NodeInfo& owner, const std::string& key, uint64_t bytes,
                std::function<void(base::Status)> done);
  std::string DescribeFailure(const ring::NodeInfo& node, const base::Status& status) const;

  const CoordinatorOptions options_;
  ring::MembershipView* const view_;
  ReplicaStore* const store_;
  Transport* const transport_;
  const FailureDetector* const liveness_;
  Executor* const executor_;
  HintStore* const hints_;
  base::Clock* const clock_;
  base::Logger* const logger_;
  struct Counters {  // written on the executor thread only
    std::atomic<uint64_t> gets{0}, puts{0}, deletes{0}, forwarded{0}, quorum_failures{0}, read_repairs{0},
        stand_in_writes{0}, hints_kept{0}, answered{0}, answered_micros{0};
  };
  // A request that started at start_us met its quorum now.
  void Answered(uint64_t start_us);
  static void Bump(std::atomic<uint64_t>* c) { c->store(c->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  Counters stats_;
};

}  // namespace kvring::repl
