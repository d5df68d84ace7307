#include "repl/coordinator.h"

#include <algorithm>
#include <array>

#include "base/strings.h"
#include "net/protocol.h"
#include "repl/client_context.h"
#include "repl/reconcile.h"
#include "ring/token.h"

namespace kvring::repl {

CoordinatorStats Coordinator::stats() const {
  CoordinatorStats out;
  out.gets = stats_.gets.load(std::memory_order_relaxed);
  out.puts = stats_.puts.load(std::memory_order_relaxed);
  out.deletes = stats_.deletes.load(std::memory_order_relaxed);
  out.forwarded = stats_.forwarded.load(std::memory_order_relaxed);
  out.quorum_failures = stats_.quorum_failures.load(std::memory_order_relaxed);
  out.read_repairs = stats_.read_repairs.load(std::memory_order_relaxed);
  out.stand_in_writes = stats_.stand_in_writes.load(std::memory_order_relaxed);
  out.hints_kept = stats_.hints_kept.load(std::memory_order_relaxed);
  out.answered = stats_.answered.load(std::memory_order_relaxed);
  out.answered_micros = stats_.answered_micros.load(std::memory_order_relaxed);
  return out;
}

CoordinatorStats& CoordinatorStats::operator+=(const CoordinatorStats& o) {
  gets += o.gets;
  puts += o.puts;
  deletes += o.deletes;
  forwarded += o.forwarded;
  quorum_failures += o.quorum_failures;
  read_repairs += o.read_repairs;
  stand_in_writes += o.stand_in_writes;
  hints_kept += o.hints_kept;
  answered += o.answered;
  answered_micros += o.answered_micros;
  return *this;
}

void Coordinator::Answered(uint64_t start_us) {
  const uint64_t now = clock_->NowMicros();
  Bump(&stats_.answered);
  const uint64_t took = now > start_us ? now - start_us : 0;
  stats_.answered_micros.store(stats_.answered_micros.load(std::memory_order_relaxed) + took,
                               std::memory_order_relaxed);
}

using base::Join;
using base::Status;

namespace {

// The sibling a write coordinated by `actor` just added: dots of one actor only
// grow, so it is that actor's sibling with the largest counter.
const Sibling* NewestSiblingOf(const SiblingSet& set, std::string_view actor) {
  const Sibling* newest = nullptr;
  for (const Sibling& s : set.siblings()) {
    if (s.dot.node == actor && (newest == nullptr || s.dot.counter > newest->dot.counter)) newest = &s;
  }
  return newest;
}

// The receipt's context and clock for the new sibling. The context may cover
// only what the writer saw: its own context and its new dot. A version vector
// holds that exactly when the dot directly follows the context's counter of its
// node; when the coordinator minted other dots in between (writes the client
// never saw), covering the new dot would cover those too, so the receipt hands
// back the writer's context alone (a put with it keeps this write as a sibling;
// a read resolves both). Entry times come from the history.
void DescribeNewVersion(const ContextKey& mac_key, std::string_view key, const SiblingSet& stored, const Sibling& sib,
                        WriteResult* result) {
  VersionVector context;
  auto witness = [&](const std::string& node, uint64_t counter) {
    const VersionVector::Entry* h = stored.history().Find(node);
    context.Witness(node, counter, h != nullptr && h->counter == counter ? h->updated_secs : 0);
  };
  for (const auto& e : sib.context.entries()) witness(e.node, e.counter);
  if (sib.context.Get(sib.dot.node) + 1 == sib.dot.counter) witness(sib.dot.node, sib.dot.counter);
  result->context.clear();
  EncodeClientContext(mac_key, key, context, &result->context);
  result->clock.clear();
  EncodeSiblingClock(&result->clock, sib);
}

}  // namespace

// A read in flight: one slot per replica of the key.
// Fixed-size slots (a preference list holds at most ring::kMaxReplicas nodes):
// one allocation per read.
struct Coordinator::ReadOp {
  std::string key;
  std::shared_ptr<const ring::Ring> ring;  // keeps the NodeInfo pointers alive
  size_t n = 0;                            // replicas of the key: slots [0, n) are used
  std::array<const ring::NodeInfo*, ring::kMaxReplicas> replicas{};
  std::array<const ring::NodeInfo*, ring::kMaxReplicas> owners{};  // a stand-in counts for its owner's dc
  std::array<bool, ring::kMaxReplicas> replied_ok{};
  std::array<std::optional<SiblingSet>, ring::kMaxReplicas> sets;
  std::vector<std::string> failures;
  QuorumCounter quorum;
  size_t pending = 0;
  bool answered = false;
  uint64_t start_us = 0;
  GetDone done;
};

// A write this node coordinates: acks from durable replicas.
struct Coordinator::WriteOp {
  std::shared_ptr<const ring::Ring> ring;
  std::shared_ptr<const ring::RingTransition> transition;  // keeps pending replicas' NodeInfo alive
  std::string key;
  WriteResult result;  // acks so far; context and clock once stored locally
  std::vector<std::string> failures;
  QuorumCounter quorum;
  size_t pending = 0;
  uint64_t set_bytes = 0;  // the encoded set replicated (a hint's size)
  bool answered = false;
  uint64_t start_us = 0;
  WriteDone done;
};

// A write forwarded to a replica because this node is not one.
struct Coordinator::ForwardOp {
  std::shared_ptr<const ring::Ring> ring;
  std::vector<const ring::NodeInfo*> candidates;
  size_t next = 0;
  std::string body;  // the encoded ForwardWrite
  std::vector<std::string> failures;
  WriteDone done;
};

Coordinator::Coordinator(CoordinatorOptions options, ring::MembershipView* view, ReplicaStore* store,
                         Transport* transport, const FailureDetector* liveness, Executor* executor,
                         base::Clock* clock, base::Logger* logger, HintStore* hints)
    : options_(std::move(options)),
      view_(view),
      store_(store),
      transport_(transport),
      liveness_(liveness),
      executor_(executor),
      hints_(hints),
      clock_(clock),
      logger_(logger) {}

std::string Coordinator::DescribeFailure(const ring::NodeInfo& node, const Status& status) const {
  if (liveness_->IsDown(node)) return node.id + " down";
  if (status.IsTimedOut()) return node.id + " timeout";
  if (status.IsUnavailable()) return node.id + " unreachable (" + status.message() + ")";
  if (status.IsAborted()) return node.id + " lost (" + status.message() + ")";
  return node.id + " error: " + status.message();
}

// --- Reads -----------------------------------------------------------------------------

void Coordinator::Get(std::string_view key, uint8_t r, uint8_t flags, GetDone done) {
  Bump(&stats_.gets);
  auto ring = view_->Current();
  const ring::Token token = ring::TokenOf(key);
  ring::PreferenceList prefs = ring->PreferenceListFor(token);
  auto quorum = QuorumCounter::For(r, options_.default_r, prefs, ring->replication().total(), options_.dc, "r");
  if (!quorum.ok()) {
    done(quorum.status(), nullptr);
    return;
  }
  const bool strict = options_.strict_default || (flags & net::kGetFlagStrict) != 0;
  const ReplicaTargets targets = PlanTargets(*ring, token, prefs, *liveness_, strict);
  auto op = std::make_shared<ReadOp>();
  op->key.assign(key.data(), key.size());
  op->ring = ring;
  op->quorum = quorum.value();
  op->n = prefs.size();
  for (size_t i = 0; i < targets.size; ++i) {
    op->replicas[i] = targets.slots[i].node;
    op->owners[i] = targets.slots[i].owner;
  }
  op->pending = prefs.size();
  op->start_us = clock_->NowMicros();
  op->done = std::move(done);
  for (size_t i = 0; i < op->n; ++i) {
    const ring::NodeInfo& node = *op->replicas[i];
    if (node.id == options_.self) {
      store_->Read(executor_, key, [this, op, i](Status s, std::optional<SiblingSet> set) {
        OnReadReply(op, i, s, std::move(set));
      });
      continue;
    }
    std::string body;
    base::PutLengthPrefixed(&body, key);
    transport_->Call(node, Op(ClusterOpcode::kReplicaRead), std::move(body), options_.request_timeout_ms,
                     [this, op, i](const Status& s, std::string_view payload) {
                       if (!s.ok()) {
                         OnReadReply(op, i, s, std::nullopt);
                         return;
                       }
                       bool found = false;
                       SiblingSet set;
                       Status decoded = DecodeReplicaReadReply(payload, &found, &set);
                       if (decoded.ok() && found) decoded = CheckPeerSet(set, options_.peer_sets);
                       std::optional<SiblingSet> result;
                       if (decoded.ok() && found) result = std::move(set);
                       OnReadReply(op, i, decoded, std::move(result));
                     });
  }
}

void Coordinator::OnReadReply(const std::shared_ptr<ReadOp>& op, size_t index, const Status& status,
                              std::optional<SiblingSet> set) {
  op->pending--;
  if (status.ok()) {
    op->replied_ok[index] = true;
    op->sets[index] = std::move(set);
    op->quorum.Count(op->owners[index]->dc);
  } else {
    op->failures.push_back(DescribeFailure(*op->replicas[index], status));
  }
  if (!op->answered && op->quorum.Met()) {
    op->answered = true;
    std::vector<const SiblingSet*> replies;
    const SiblingSet* only = nullptr;  // the single non-empty reply, if exactly one
    size_t non_empty = 0;
    for (size_t i = 0; i < op->n; ++i) {
      if (!op->replied_ok[i]) continue;
      const SiblingSet* set = op->sets[i] ? &*op->sets[i] : nullptr;
      replies.push_back(set);
      if (set != nullptr) {
        only = set;
        ++non_empty;
      }
    }
    Answered(op->start_us);
    if (non_empty <= 1) {
      op->done(Status::OK(), only);  // nothing to merge (the common R=1 and agreeing cases differ here)
    } else {
      Reconciliation merged = Reconcile(replies);
      op->done(Status::OK(), &merged.merged);
    }
  }
  if (op->pending == 0) FinishRead(op);
}

void Coordinator::FinishRead(const std::shared_ptr<ReadOp>& op) {
  if (!op->answered) {
    op->answered = true;
    Bump(&stats_.quorum_failures);
    std::string msg = "quorum not reached: " + op->quorum.Progress("read replies") + " within " +
                      std::to_string(options_.request_timeout_ms) + "ms (" + Join(op->failures) + ")";
    op->done(Status::Unavailable(msg), nullptr);
  }
  // Read repair over every replica that answered.
  std::vector<const SiblingSet*> replies;
  std::vector<size_t> who;
  for (size_t i = 0; i < op->n; ++i) {
    if (!op->replied_ok[i]) continue;
    replies.push_back(op->sets[i] ? &*op->sets[i] : nullptr);
    who.push_back(i);
  }
  if (replies.size() < 2) return;
  Reconciliation merged = Reconcile(replies);
  if (merged.merged.empty()) return;
  for (size_t j = 0; j < who.size(); ++j) {
    if (!merged.needs_repair[j]) continue;
    Bump(&stats_.read_repairs);
    const ring::NodeInfo& node = *op->replicas[who[j]];
    LOG_DEBUG(logger_, "read repair of key '%s' on %s", op->key.c_str(), node.id.c_str());
    if (node.id == options_.self) {
      store_->Merge(
          executor_, op->key, merged.merged, [](Status, const SiblingSet&) {},
          [this, op](Status s) {
            if (!s.ok()) LOG_WARN(logger_, "read repair of '%s' locally failed: %s", op->key.c_str(), s.ToString().c_str());
          });
      continue;
    }
    std::string body;
    EncodeReplicaWrite(&body, op->key, merged.merged);
    transport_->Call(node, Op(ClusterOpcode::kReplicaWrite), std::move(body), options_.request_timeout_ms,
                     [this, op, id = node.id](const Status& s, std::string_view) {
                       if (!s.ok()) {
                         LOG_INFO(logger_, "read repair of '%s' on %s failed: %s", op->key.c_str(), id.c_str(),
                                  s.ToString().c_str());
                       }
                     });
  }
}

// --- Writes ----------------------------------------------------------------------------

void Coordinator::Put(std::string_view key, std::string_view value, std::string_view context, uint8_t w,
                      uint8_t flags, WriteDone done) {
  Bump(&stats_.puts);
  Write(ForwardWrite{WriteKind::kPut, w, flags, key, value, context}, /*may_forward=*/true, std::move(done));
}

void Coordinator::Delete(std::string_view key, std::string_view context, uint8_t w, uint8_t flags,
                         WriteDone done) {
  Bump(&stats_.deletes);
  Write(ForwardWrite{WriteKind::kDelete, w, flags, key, {}, context}, /*may_forward=*/true, std::move(done));
}

void Coordinator::CoordinateForwarded(const ForwardWrite& write, WriteDone done) {
  if (write.kind == WriteKind::kPut) {
    Bump(&stats_.puts);
  } else {
    Bump(&stats_.deletes);
  }
  Write(write, /*may_forward=*/false, std::move(done));
}

void Coordinator::Write(const ForwardWrite& write, bool may_forward, WriteDone done) {
  static const WriteResult kNothing;
  // During a membership change the ring in force is the transition's old ring.
  std::shared_ptr<const ring::RingTransition> transition = view_->Transition();
  auto ring = transition != nullptr ? transition->from_ring() : view_->Current();
  ring::PreferenceList prefs = ring->PreferenceListForKey(write.key);
  auto quorum = QuorumCounter::For(write.consistency, options_.default_w, prefs, ring->replication().total(),
                                   options_.dc, "w");
  if (!quorum.ok()) {
    done(quorum.status(), kNothing);
    return;
  }
  const bool overwrite = (write.flags & net::kWriteFlagOverwrite) != 0;
  if (write.kind == WriteKind::kDelete && write.context.empty() && !overwrite) {
    done(Status::InvalidArgument("a delete without a context would delete nothing: send the context of a get of "
                                 "the key (the delete removes what that get returned), or the OVERWRITE flag"),
         kNothing);
    return;
  }
  VersionVector ctx;  // no context: the client saw nothing
  if (!write.context.empty()) {
    auto decoded = DecodeClientContext(options_.context_key, write.key, write.context);
    if (!decoded.ok()) {
      done(decoded.status(), kNothing);
      return;
    }
    ctx = std::move(decoded).value();
  }
  if (prefs.ContainsId(options_.self)) {
    CoordinateWrite(write, std::move(ctx), quorum.value(), ring, std::move(transition), prefs, std::move(done));
    return;
  }
  if (!may_forward) {
    // Busy: nothing was stored, so the forwarding node tries another replica.
    done(Status::Busy("node " + options_.self + " is not a replica of the forwarded key (rings differ: it may have "
                      "left the cluster)"),
         kNothing);
    return;
  }
  Bump(&stats_.forwarded);
  auto op = std::make_shared<ForwardOp>();
  op->ring = ring;
  // Reachable replicas first, in preference order; the rest after them. A local
  // level goes to a replica of this datacenter only: there it counts the same dc.
  const bool local = net::IsLocalConsistency(write.consistency == net::kConsistencyDefault ? options_.default_w
                                                                                              : write.consistency);
  for (const bool down : {false, true}) {
    for (const ring::NodeInfo* n : prefs) {
      if (liveness_->IsDown(*n) == down && (!local || n->dc == options_.dc)) op->candidates.push_back(n);
    }
  }
  EncodeForwardWrite(&op->body, write);
  op->done = std::move(done);
  ForwardToNextReplica(op);
}

void Coordinator::ForwardToNextReplica(const std::shared_ptr<ForwardOp>& op) {
  if (op->next >= op->candidates.size()) {
    Bump(&stats_.quorum_failures);
    op->done(Status::Unavailable("no replica of the key could coordinate the write (" + Join(op->failures) + ")"),
             WriteResult());
    return;
  }
  const ring::NodeInfo& node = *op->candidates[op->next++];
  transport_->Send(node, Op(ClusterOpcode::kForwardWrite), op->body, options_.request_timeout_ms,
                   [this, op, &node](const Status& s, std::string_view payload, bool answered) {
                     if ((s.IsUnavailable() && !answered) || ((s.IsNoSpace() || s.IsBusy()) && answered)) {
                       // Never delivered (the transport could not reach it), or refused by a
                       // replica whose disk is full or by a node that is no replica of the key
                       // any more (it stored nothing): another replica may coordinate. An
                       // Unavailable the replica answered itself ("quorum not reached") is its
                       // outcome: it stored the write.
                       op->failures.push_back(DescribeFailure(node, s));
                       ForwardToNextReplica(op);
                       return;
                     }
                     if (!answered && !s.ok()) {
                       // No answer: the replica may have applied the write under its own dot.
                       // Forwarding it again would store it twice, under two dots, and the
                       // receipt would cover one of them only.
                       op->failures.push_back(DescribeFailure(node, s));
                       Bump(&stats_.quorum_failures);
                       op->done(Status::Unavailable("write forwarded to " + node.id + " not confirmed (" +
                                                    Join(op->failures) + "): it may have been applied"),
                                WriteResult());
                       return;
                     }
                     WriteResult result;
                     if (!s.ok()) {
                       op->done(s, result);
                       return;
                     }
                     net::WriteReceipt receipt;
                     if (!net::DecodeWriteReceipt(payload, &receipt)) {
                       op->done(Status::Corruption("forwarded write: malformed receipt from " + node.id), result);
                       return;
                     }
                     for (const auto& a : receipt.acks) {
                       result.acks.push_back({std::string(a.node_id), a.stand_in, std::string(a.owner)});
                     }
                     result.context.assign(receipt.context);
                     result.clock.assign(receipt.clock);
                     op->done(Status::OK(), result);
                   });
}

// The pending replicas of `token` in a ring in transition: written, not counted
// towards W; one that is down gets a hint (SendReplicaWrite).
void Coordinator::AddPendingTargets(const ring::RingTransition& transition, ring::Token token,
                                    std::vector<ReplicaTarget>* others) const {
  const ring::WriteSet set = transition.WriteReplicas(token);
  for (size_t i = 0; i < set.size(); ++i) {
    if (set.counts(i) || set[i].id == options_.self) continue;
    others->push_back(ReplicaTarget{&set[i], &set[i], false, liveness_->IsDown(set[i]), /*counts=*/false});
  }
}

void Coordinator::CoordinateWrite(const ForwardWrite& write, VersionVector context, QuorumCounter quorum,
                                  std::shared_ptr<const ring::Ring> ring,
                                  std::shared_ptr<const ring::RingTransition> transition,
                                  const ring::PreferenceList& replicas, WriteDone done) {
  // Without a hint store nobody could hand a stand-in's copy over: no stand-ins then.
  const bool strict = options_.strict_default || (write.flags & net::kWriteFlagStrict) != 0 || hints_ == nullptr;
  const ring::Token token = ring::TokenOf(write.key);
  const ReplicaTargets targets = PlanTargets(*ring, token, replicas, *liveness_, strict);
  auto op = std::make_shared<WriteOp>();
  op->ring = std::move(ring);
  op->key.assign(write.key);
  op->quorum = quorum;
  op->start_us = clock_->NowMicros();
  op->done = std::move(done);
  ReplicaTarget self;
  std::vector<ReplicaTarget> others;
  for (const ReplicaTarget& t : targets) {
    if (t.owner->id == options_.self) {
      self = t;
    } else {
      others.push_back(t);
    }
  }
  if (transition != nullptr) AddPendingTargets(*transition, token, &others);
  op->pending = others.size() + 1;
  op->transition = std::move(transition);
  const bool overwrite = (write.flags & net::kWriteFlagOverwrite) != 0;
  store_->Coordinate(
      executor_, write.key, write.kind, write.value, std::move(context), overwrite,
      [this, op, others](Status s, const SiblingSet& stored) {
        if (!s.ok()) {
          // Nothing was stored: the write fails as a whole (e.g. too many siblings).
          op->pending = 0;
          op->answered = true;
          op->done(s, WriteResult());
          return;
        }
        if (const Sibling* mine = NewestSiblingOf(stored, store_->self())) {
          DescribeNewVersion(options_.context_key, op->key, stored, *mine, &op->result);
        }
        if (others.empty()) return;
        std::string body;
        EncodeReplicaWrite(&body, op->key, stored);
        op->set_bytes = body.size();
        for (const ReplicaTarget& t : others) SendReplicaWrite(op, t, body);
      },
      [this, op, self](Status s) { OnWriteAck(op, self, s); });
}

void Coordinator::SendReplicaWrite(const std::shared_ptr<WriteOp>& op, const ReplicaTarget& target,
                                   const std::string& body) {
  if (target.owner_down && !target.stand_in) {
    // Nobody can stand in (or the request is strict): the owner misses this
    // write, and a hint kept here hands it over when the owner is back. It does
    // not count towards W; the answer waits for it to be durable.
    KeepHint(*target.owner, op->key, op->set_bytes, [this, op, target](const Status&) {
      OnWriteAck(op, target, Status::Unavailable(target.owner->id + " is down"));
    });
    return;
  }
  if (!target.stand_in) {
    transport_->Call(*target.node, Op(ClusterOpcode::kReplicaWrite), body, options_.request_timeout_ms,
                     [this, op, target](const Status& st, std::string_view) { OnWriteAck(op, target, st); });
    return;
  }
  Bump(&stats_.stand_in_writes);
  std::string hinted;
  EncodeHintedWrite(&hinted, target.owner->id, body);
  transport_->Call(*target.node, Op(ClusterOpcode::kHintedWrite), std::move(hinted), options_.request_timeout_ms,
                   [this, op, target](const Status& st, std::string_view) { OnWriteAck(op, target, st); });
}

void Coordinator::KeepHint(const ring::NodeInfo& owner, const std::string& key, uint64_t bytes,
                           std::function<void(Status)> done) {
  if (hints_ == nullptr) {
    if (done) done(Status::OK());
    return;
  }
  Bump(&stats_.hints_kept);
  hints_->Add(executor_, owner.id, key, bytes,
              [this, owner = owner.id, key, done = std::move(done)](Status s, AddOutcome outcome) {
                if (!s.ok()) {
                  LOG_WARN(logger_, "hint for %s of key '%s' not kept: %s", owner.c_str(), key.c_str(),
                           s.ToString().c_str());
                } else if (outcome != AddOutcome::kStored) {
                  LOG_DEBUG(logger_, "hint for %s dropped: %s", owner.c_str(), AddOutcomeName(outcome));
                }
                if (done) done(s);
              });
}

void Coordinator::OnWriteAck(const std::shared_ptr<WriteOp>& op, const ReplicaTarget& target, const Status& status) {
  if (op->pending == 0) return;  // already failed as a whole
  op->pending--;
  const bool kept_already = target.owner_down && !target.stand_in;
  if (status.ok()) {
    op->result.acks.push_back({target.node->id, target.stand_in, target.stand_in ? target.owner->id : ""});
    if (target.counts) op->quorum.Count(target.owner->dc);
  } else {
    std::string failure = DescribeFailure(*target.node, status);
    if (target.stand_in) failure += " (standing in for " + target.owner->id + ")";
    op->failures.push_back(std::move(failure));
    // Any owner that did not acknowledge in time gets a hint, whatever the reason.
    if (!kept_already && target.owner->id != options_.self) KeepHint(*target.owner, op->key, op->set_bytes, nullptr);
  }
  if (!op->answered && op->quorum.Met()) {
    op->answered = true;
    Answered(op->start_us);
    op->done(Status::OK(), op->result);
  }
  if (op->pending == 0 && !op->answered) {
    op->answered = true;
    Bump(&stats_.quorum_failures);
    op->done(Status::Unavailable("quorum not reached: " + op->quorum.Progress("write acks") + " within " +
                                 std::to_string(options_.request_timeout_ms) + "ms (" + Join(op->failures) + ")"),
             op->result);
  }
}

}  // namespace kvring::repl
