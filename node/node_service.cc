#include "node/node_service.h"

#include <cinttypes>
#include <cstdio>

#include "net/protocol.h"
#include "node/client_access.h"
#include "repl/client_context.h"
#include "repl/messages.h"
#include "repl/peer_set.h"

namespace kvring::node {

using base::Status;
using repl::ClusterOpcode;

void EncodeReceipt(const repl::WriteResult& result, uint16_t version, std::string* payload) {
  net::WriteReceipt receipt;
  for (const auto& a : result.acks) receipt.acks.push_back({a.node, a.stand_in, a.owner});
  receipt.context = result.context;
  receipt.clock = result.clock;
  net::EncodeWriteReceipt(payload, receipt, version);
}

Status NodeService::CheckKey(std::string_view key) const {
  if (key.empty()) return Status::InvalidArgument("empty key");
  if (key.size() > p_.config->max_key_bytes) {
    return Status::TooLarge("key of " + std::to_string(key.size()) + " bytes exceeds the limit of " +
                            std::to_string(p_.config->max_key_bytes) + " bytes (--max-key)");
  }
  return Status::OK();
}

Status NodeService::CheckValue(std::string_view value) const {
  if (value.size() > p_.config->max_value_bytes) {
    return Status::TooLarge("value of " + std::to_string(value.size()) + " bytes exceeds the limit of " +
                            std::to_string(p_.config->max_value_bytes) + " bytes (--max-value)");
  }
  return Status::OK();
}

bool NodeService::RequireNodePeer(net::Request& request) {
  if (request.peer().role == net::PeerRole::kNode) return true;
  bad_requests_.fetch_add(1, std::memory_order_relaxed);
  char msg[96];
  std::snprintf(msg, sizeof(msg), "opcode 0x%02x is for nodes only (this connection said HELLO as a client)",
                request.opcode());
  request.ReplyError(Status::InvalidArgument(msg));
  return false;
}

const LoopParts& NodeService::Here() const {
  for (const LoopParts& lp : p_.loops) {
    if (lp.loop->IsInLoopThread()) return lp;
  }
  return p_.loops.front();  // not on a loop (tests driving the service directly)
}

std::function<void(Status, std::string)> NodeService::PacedReply(net::Responder responder) {
  net::EventLoop* loop = Here().loop;
  repl::AnswerPacer* pacer = p_.pacer;
  return [responder, loop, pacer](Status s, std::string payload) {
    if (pacer == nullptr || !s.ok()) return responder.Reply(s, payload);
    pacer->Served();
    const uint64_t delay = pacer->delay_us();
    if (delay == 0) return responder.Reply(s, payload);
    loop->RunAfter(delay, [responder, s, payload = std::move(payload)] { responder.Reply(s, payload); });
  };
}

bool NodeService::HopToLoopZero(net::Request& request, std::function<base::Result<std::string>()> payload_on_loop0) {
  net::EventLoop* zero = p_.loops.front().loop;
  if (zero->IsInLoopThread()) return false;
  net::Responder responder = request.Defer();
  zero->QueueInLoop([responder, fn = std::move(payload_on_loop0)] {
    base::Result<std::string> payload = fn();
    if (!payload.ok()) return responder.Reply(payload.status());
    responder.ReplyOk(payload.value());
  });
  return true;
}

void NodeService::OnLoopZero(net::Request& request, std::function<void(net::Responder)> fn) {
  net::Responder responder = request.Defer();
  net::EventLoop* zero = p_.loops.front().loop;
  if (zero->IsInLoopThread()) return fn(responder);
  zero->QueueInLoop([responder, fn = std::move(fn)] { fn(responder); });
}

void NodeService::OnRequest(net::Request& request) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!attached_.load(std::memory_order_acquire)) return request.ReplyError(Status::Unavailable("node is starting"));
  if (Status allowed = CheckAccess(request.peer(), request.opcode()); !allowed.ok()) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(allowed);
  }
  if (RefusedForFullDisk(request) || RefusedForLeft(request)) return;
  switch (request.opcode()) {
    case static_cast<uint8_t>(net::Opcode::kPing):
      request.ReplyOk();
      return;
    case static_cast<uint8_t>(net::Opcode::kGet):
      return HandleGet(request);
    case static_cast<uint8_t>(net::Opcode::kPut):
      return HandlePut(request);
    case static_cast<uint8_t>(net::Opcode::kDelete):
      return HandleDelete(request);
    case static_cast<uint8_t>(net::Opcode::kStats):
      return HandleStats(request);
    case repl::Op(ClusterOpcode::kRing):
      return HandleRing(request);
    case repl::Op(ClusterOpcode::kClusterStatus):
      return HandleClusterStatus(request);
    case repl::Op(ClusterOpcode::kGossipSyn):
      return HandleGossipSyn(request);
    case repl::Op(ClusterOpcode::kGossipPush):
      return HandleGossipPush(request);
    case repl::Op(ClusterOpcode::kProbe):
      return HandleProbe(request);
    case repl::Op(ClusterOpcode::kProbeRequest):
      return HandleProbeRequest(request);
    case repl::Op(ClusterOpcode::kReplicaRead):
      return HandleReplicaRead(request);
    case repl::Op(ClusterOpcode::kReplicaWrite):
      return HandleReplicaWrite(request);
    case repl::Op(ClusterOpcode::kForwardWrite):
      return HandleForwardWrite(request);
    case repl::Op(ClusterOpcode::kHintedWrite):
      return HandleHintedWrite(request);
    case repl::Op(ClusterOpcode::kAaeRangeHashes):
    case repl::Op(ClusterOpcode::kAaeLeafHashes):
    case repl::Op(ClusterOpcode::kAaeKeyDigests):
    case repl::Op(ClusterOpcode::kAaeSync):
      return HandleAae(request);
    case repl::Op(ClusterOpcode::kRepairStart):
      return HandleRepairStart(request);
    case repl::Op(ClusterOpcode::kRepairStatus):
      return HandleRepairStatus(request);
    case repl::Op(ClusterOpcode::kStreamRead):
      return HandleStreamRead(request);
    case repl::Op(ClusterOpcode::kMembershipChange):
      return HandleMembershipChange(request);
    case repl::Op(ClusterOpcode::kMembershipStatus):
      return HandleMembershipStatus(request);
    case repl::Op(ClusterOpcode::kCleanup):
      return HandleCleanup(request);
    default: {
      bad_requests_.fetch_add(1, std::memory_order_relaxed);
      char msg[64];
      std::snprintf(msg, sizeof(msg), "unknown opcode 0x%02x", request.opcode());
      request.ReplyError(Status::NotSupported(msg));
    }
  }
}

void NodeService::HandleGet(net::Request& request) {
  net::GetRequest get;
  if (!net::DecodeGet(request.body(), &get)) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(Status::InvalidArgument("malformed GET body"));
  }
  Status s = CheckKey(get.key);
  if (!s.ok()) return request.ReplyError(s);
  const uint16_t version = request.peer().version;
  net::Responder responder = request.Defer();
  const repl::ContextKey* mac_key = p_.context_key;
  auto reply = [responder, version, mac_key, key = std::string(get.key)](const Status& st,
                                                                        const repl::SiblingSet* set) {
    if (!st.ok()) return responder.Reply(st);
    if (set == nullptr || set->IsDeleted()) {
      // Version 2 hands the client the key's history even when nothing is live,
      // so a read-modify-write can start from "I saw nothing" (docs/versioning.md).
      std::string payload;
      if (version >= 2) repl::EncodeNotFound(set, *mac_key, key, &payload);
      return responder.Reply(Status::NotFound("key not found"), payload);
    }
    std::string payload;
    repl::EncodeGetReply(*set, *mac_key, key, &payload);
    responder.ReplyOk(payload);
  };
  if (get.flags & net::kGetFlagLocal) {
    p_.store->Read(Here().executor, get.key, [reply](Status st, std::optional<repl::SiblingSet> set) {
      reply(st, set ? &*set : nullptr);
    });
    return;
  }
  Here().coordinator->Get(get.key, get.consistency, get.flags, reply);
}

void NodeService::HandlePut(net::Request& request) {
  net::PutRequest put;
  if (!net::DecodePut(request.body(), &put)) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(Status::InvalidArgument("malformed PUT body"));
  }
  Status s = CheckKey(put.key);
  if (s.ok()) s = CheckValue(put.value);
  if (!s.ok()) return request.ReplyError(s);
  const uint16_t version = request.peer().version;
  net::Responder responder = request.Defer();
  Here().coordinator->Put(put.key, put.value, put.context, put.consistency, put.flags,
                          [responder, version](const Status& st, const repl::WriteResult& result) {
                            if (!st.ok()) return responder.Reply(st);
                            std::string payload;
                            EncodeReceipt(result, version, &payload);
                            responder.ReplyOk(payload);
                          });
}

void NodeService::HandleDelete(net::Request& request) {
  net::DeleteRequest del;
  if (!net::DecodeDelete(request.body(), &del)) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(Status::InvalidArgument("malformed DELETE body"));
  }
  Status s = CheckKey(del.key);
  if (!s.ok()) return request.ReplyError(s);
  const uint16_t version = request.peer().version;
  net::Responder responder = request.Defer();
  Here().coordinator->Delete(del.key, del.context, del.consistency, del.flags,
                             [responder, version](const Status& st, const repl::WriteResult& result) {
                               if (!st.ok()) return responder.Reply(st);
                               std::string payload;
                               EncodeReceipt(result, version, &payload);
                               responder.ReplyOk(payload);
                             });
}

void NodeService::HandleStats(net::Request& request) {
  // Loop 0 owns the handoff's counters: the whole text is built there.
  auto payload = [this]() -> base::Result<std::string> {
    std::string out;
    base::PutLengthPrefixed(&out, StatsText());
    return out;
  };
  if (HopToLoopZero(request, payload)) return;
  request.ReplyOk(payload().value());
}

void Line(std::string* text, const std::string& name, uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), " %" PRIu64 "\n", v);
  *text += name + buf;
}

std::string NodeService::StatsText() {
  std::string text = "node " + p_.config->id + "\n";
  Line(&text, "requests", requests_.load(std::memory_order_relaxed));
  Line(&text, "bad_requests", bad_requests_.load(std::memory_order_relaxed));
  Line(&text, "peer_sets_refused", peer_sets_refused_.load(std::memory_order_relaxed));
  repl::CoordinatorStats cs;
  for (const LoopParts& lp : p_.loops) cs += lp.coordinator->stats();
  Line(&text, "coordinator_gets", cs.gets);
  Line(&text, "coordinator_puts", cs.puts);
  Line(&text, "coordinator_deletes", cs.deletes);
  Line(&text, "coordinator_forwarded", cs.forwarded);
  Line(&text, "coordinator_quorum_failures", cs.quorum_failures);
  Line(&text, "coordinator_read_repairs", cs.read_repairs);
  Line(&text, "coordinator_stand_in_writes", cs.stand_in_writes);
  Line(&text, "coordinator_hints_kept", cs.hints_kept);
  Line(&text, "coordinator_answered", cs.answered);
  Line(&text, "coordinator_answered_micros", cs.answered_micros);
  repl::ReplicaStoreStats rs = p_.store->stats();
  Line(&text, "store_reads_inline", rs.reads_inline);
  Line(&text, "store_reads_offloaded", rs.reads_offloaded);
  Line(&text, "store_writes", rs.writes);
  Line(&text, "store_merges_unchanged", rs.merges_unchanged);
  Line(&text, "store_refused_siblings", rs.refused_siblings);
  Line(&text, "store_refused_size", rs.refused_size);
  Line(&text, "store_merges_refused_size", rs.merges_refused_size);
  text += HintsText();
  text += AaeText();
  text += MembershipText();
  if (p_.disk != nullptr) text += p_.disk->StatsText();
  if (server_ != nullptr) text += server_->stats().ToString();
  text += "\n# engine\n" + p_.db->GetStats().ToString();
  return text;
}

std::string NodeService::HintsText() {
  // The replication debt: what this node holds for each owner, and what it handed over.
  const repl::HintTotals t = p_.hints->Totals();
  std::string text;
  Line(&text, "hints_pending", t.pending);
  Line(&text, "hints_pending_bytes", t.pending_bytes);
  Line(&text, "hints_oldest_age_ms", t.oldest_age_micros / 1000);
  Line(&text, "hints_replayed", t.replayed);
  Line(&text, "hints_dropped", t.dropped_over_owner_bound + t.dropped_over_total_bound + t.dropped_window);
  Line(&text, "hints_dropped_over_owner_bound", t.dropped_over_owner_bound);
  Line(&text, "hints_dropped_over_total_bound", t.dropped_over_total_bound);
  Line(&text, "hints_dropped_window", t.dropped_window);
  for (const auto& owner : p_.hints->Owners()) {
    const repl::HintStats o = p_.hints->Stats(owner);
    Line(&text, "hints_pending{" + owner + "}", o.pending);
    Line(&text, "hints_pending_bytes{" + owner + "}", o.pending_bytes);
    Line(&text, "hints_oldest_age_ms{" + owner + "}", o.oldest_age_micros / 1000);
  }
  const repl::HandoffStats& h = p_.handoff->stats();
  Line(&text, "handoff_sessions", h.sessions);
  Line(&text, "handoff_replayed", h.replayed);
  Line(&text, "handoff_replayed_bytes", h.replayed_bytes);
  Line(&text, "handoff_failures", h.failures);
  Line(&text, "handoff_refused", h.refused);
  Line(&text, "handoff_active", p_.handoff->active());
  Line(&text, "handoff_rate_bytes", p_.handoff->rate());
  Line(&text, "handoff_loop_busy_pct", p_.handoff->loop_busy_pct());
  Line(&text, "handoff_client_latency_us", p_.handoff->client_latency_us());
  Line(&text, "handoff_client_base_us", p_.handoff->client_base_us());
  return text;
}

void NodeService::HandleReplicaRead(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string_view body = request.body();
  std::string_view key;
  if (!base::GetLengthPrefixed(&body, &key) || !body.empty() || !CheckKey(key).ok()) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(Status::InvalidArgument("malformed REPLICA_READ body"));
  }
  net::Responder responder = request.Defer();
  p_.store->Read(Here().executor, key, [responder](Status st, std::optional<repl::SiblingSet> set) {
    if (!st.ok()) return responder.Reply(st);
    std::string payload;
    repl::EncodeReplicaReadReply(&payload, set ? &*set : nullptr);
    responder.ReplyOk(payload);
  });
}

Status NodeService::CheckPeerSet(const repl::SiblingSet& set) {
  Status s = repl::CheckPeerSet(set, repl::PeerSetLimitsFor(p_.config->max_value_bytes,
                                                             static_cast<size_t>(p_.config->max_siblings)));
  if (!s.ok()) peer_sets_refused_.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void NodeService::HandleReplicaWrite(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string_view key;
  repl::SiblingSet set;
  Status s = repl::DecodeReplicaWrite(request.body(), &key, &set);
  if (s.ok()) s = CheckKey(key);
  if (s.ok()) s = CheckPeerSet(set);
  if (!s.ok()) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(s);
  }
  net::Responder responder = request.Defer();
  p_.store->Merge(
      Here().executor, key, std::move(set),
      [responder](Status st, const repl::SiblingSet&) {
        if (!st.ok()) responder.Reply(st);
      },
      [responder](Status st) { responder.Reply(st); });
}

void NodeService::HandleHintedWrite(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string_view owner, key;
  repl::SiblingSet set;
  Status s = repl::DecodeHintedWrite(request.body(), &owner, &key, &set);
  if (s.ok()) s = CheckKey(key);
  if (s.ok()) s = CheckPeerSet(set);
  if (!s.ok()) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(s);
  }
  // The set and the hint become durable side by side; the stand-in answers once
  // both are (a hint dropped over its bound still lets the write count: the
  // stand-in holds the data, and anti-entropy brings it to the owner).
  struct Pending {
    net::Responder responder;
    int left = 2;
    Status status;
    void Done(const Status& s) {
      if (!s.ok() && status.ok()) status = s;
      if (--left == 0) responder.Reply(status);
    }
  };
  auto pending = std::make_shared<Pending>();
  pending->responder = request.Defer();
  const uint64_t bytes = request.body().size();
  p_.hints->Add(Here().executor, owner, key, bytes,
                [pending](Status st, repl::AddOutcome) { pending->Done(st); });
  p_.store->Merge(
      Here().executor, key, std::move(set),
      [pending](Status st, const repl::SiblingSet&) {
        if (!st.ok()) pending->Done(st);  // durable is not called then
      },
      [pending](Status st) { pending->Done(st); });
}

void NodeService::HandleForwardWrite(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  repl::ForwardWrite fw;
  if (!repl::DecodeForwardWrite(request.body(), &fw)) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(Status::InvalidArgument("malformed FORWARD_WRITE body"));
  }
  Status s = CheckKey(fw.key);
  if (s.ok()) s = CheckValue(fw.value);
  if (!s.ok()) return request.ReplyError(s);
  net::Responder responder = request.Defer();
  Here().coordinator->CoordinateForwarded(fw, [responder](const Status& st, const repl::WriteResult& result) {
    if (!st.ok()) return responder.Reply(st);
    std::string payload;
    EncodeReceipt(result, net::kProtocolVersion, &payload);  // node peers speak the current version
    responder.ReplyOk(payload);
  });
}

}  // namespace kvring::node
