#include "node/node_service.h"

#include <cinttypes>
#include <cstdio>

#include "net/protocol.h"
#include "repl/client_context.h"
#include "repl/messages.h"

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
  auto reply = [responder, version](const Status& st, const repl::SiblingSet* set) {
    if (!st.ok()) return responder.Reply(st);
    if (set == nullptr || set->IsDeleted()) {
      // Version 2 hands the client the key's history even when nothing is live,
      // so a read-modify-write can start from "I saw nothing" (docs/versioning.md).
      std::string payload;
      if (version >= 2) repl::EncodeNotFound(set, &payload);
      return responder.Reply(Status::NotFound("key not found"), payload);
    }
    std::string payload;
    repl::EncodeGetReply(*set, &payload);
    responder.ReplyOk(payload);
  };
  if (get.flags & net::kGetFlagLocal) {
    p_.store->Read(Here().executor, get.key, [reply](Status st, std::optional<repl::SiblingSet> set) {
      reply(st, set ? &*set : nullptr);
    });
    return;
  }
  Here().coordinator->Get(get.key, get.consistency, reply);
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
  std::string text;
  auto line = [&text](const char* name, uint64_t v) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%s %" PRIu64 "\n", name, v);
    text += buf;
  };
  text += "node " + p_.config->id + "\n";
  line("requests", requests_.load(std::memory_order_relaxed));
  line("bad_requests", bad_requests_.load(std::memory_order_relaxed));
  repl::CoordinatorStats cs;
  for (const LoopParts& lp : p_.loops) {
    const repl::CoordinatorStats one = lp.coordinator->stats();
    cs.gets += one.gets;
    cs.puts += one.puts;
    cs.deletes += one.deletes;
    cs.forwarded += one.forwarded;
    cs.quorum_failures += one.quorum_failures;
    cs.read_repairs += one.read_repairs;
  }
  line("coordinator_gets", cs.gets);
  line("coordinator_puts", cs.puts);
  line("coordinator_deletes", cs.deletes);
  line("coordinator_forwarded", cs.forwarded);
  line("coordinator_quorum_failures", cs.quorum_failures);
  line("coordinator_read_repairs", cs.read_repairs);
  repl::ReplicaStoreStats rs = p_.store->stats();
  line("store_reads_inline", rs.reads_inline);
  line("store_reads_offloaded", rs.reads_offloaded);
  line("store_writes", rs.writes);
  line("store_merges_unchanged", rs.merges_unchanged);
  line("store_refused_siblings", rs.refused_siblings);
  line("store_refused_size", rs.refused_size);
  if (server_ != nullptr) text += server_->stats().ToString();
  text += "\n# engine\n" + p_.db->GetStats().ToString();
  std::string payload;
  base::PutLengthPrefixed(&payload, text);
  request.ReplyOk(payload);
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

void NodeService::HandleReplicaWrite(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string_view key;
  repl::SiblingSet set;
  Status s = repl::DecodeReplicaWrite(request.body(), &key, &set);
  if (s.ok()) s = CheckKey(key);
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
