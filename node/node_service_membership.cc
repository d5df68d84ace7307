// node/node_service_membership.cc — NodeService's membership operations:
// STREAM_READ from a peer that streams a range from here (answered on the loop it
// arrives on, the scan on the I/O pool), kvctl's MEMBERSHIP_CHANGE (join,
// decommission, removenode) and MEMBERSHIP_STATUS (kvctl streams, --wait) on loop
// 0 where the operator runs, and the refusal of client requests once this node
// has left the cluster.
#include "base/coding.h"
#include "net/protocol.h"
#include "node/node_service.h"
#include "repl/messages.h"
#include "repl/stream_messages.h"

namespace kvring::node {

using base::Status;

namespace {

bool IsClientOp(uint8_t opcode) {
  return opcode == static_cast<uint8_t>(net::Opcode::kGet) || opcode == static_cast<uint8_t>(net::Opcode::kPut) ||
         opcode == static_cast<uint8_t>(net::Opcode::kDelete);
}

}  // namespace

bool NodeService::RefusedForLeft(net::Request& request) {
  if (!left_.load(std::memory_order_acquire) || !IsClientOp(request.opcode())) return false;
  request.ReplyError(Status::Unavailable("node " + p_.config->id +
                                         " has left the cluster (decommissioned): send requests to another node"));
  return true;
}

void NodeService::HandleStreamRead(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  p_.streams->Handle(Here().executor, std::string(request.body()), PacedReply(request.Defer()));
}

void NodeService::HandleMembershipChange(net::Request& request) {
  repl::OperationKind kind;
  std::string target;
  Status s = repl::DecodeMembershipChange(request.body(), &kind, &target);
  if (!s.ok()) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    return request.ReplyError(s);
  }
  OnLoopZero(request, [this, kind, target](net::Responder responder) {
    Status started = p_.membership->Start(kind, target);
    if (!started.ok()) return responder.Reply(started);
    std::string payload;
    repl::EncodeMembershipProgress(&payload, p_.membership->Progress());
    responder.ReplyOk(payload);
  });
}

void NodeService::HandleMembershipStatus(net::Request& request) {
  OnLoopZero(request, [this](net::Responder responder) {
    std::string payload;
    repl::EncodeMembershipProgress(&payload, p_.membership->Progress());
    responder.ReplyOk(payload);
  });
}

// CLEANUP: reply count:varint32 (start:fixed64 end:fixed64){count}, the ranges deleted.
void NodeService::HandleCleanup(net::Request& request) {
  OnLoopZero(request, [this](net::Responder responder) {
    p_.cleaner->Run([responder](Status s, std::vector<ring::TokenRange> ranges) {
      if (!s.ok()) return responder.Reply(s);
      std::string payload;
      base::PutVarint32(&payload, static_cast<uint32_t>(ranges.size()));
      for (const ring::TokenRange& r : ranges) {
        base::PutFixed64(&payload, r.start);
        base::PutFixed64(&payload, r.end);
      }
      responder.ReplyOk(payload);
    });
  });
}

std::string NodeService::MembershipText() {
  const repl::MembershipProgress p = p_.membership->Progress();
  std::string text = std::string("membership_operation ") + repl::OperationKindName(p.kind) + " " +
                     repl::OperationStateName(p.state) + "\n";
  uint64_t again = 0;
  for (const auto& s : p.streams) again += s.bytes_again;
  Line(&text, "stream_ranges", p.streams.size());
  Line(&text, "stream_ranges_done", p.streams_done());
  Line(&text, "stream_keys", p.keys());
  Line(&text, "stream_bytes", p.bytes());
  Line(&text, "stream_bytes_again", again);
  Line(&text, "stream_batches_served", p_.streams->batches_served());
  Line(&text, "stream_bytes_served", p_.streams->bytes_served());
  Line(&text, "cleanup_runs", p_.cleaner->stats().runs);
  Line(&text, "cleanup_ranges_deleted", p_.cleaner->stats().ranges_deleted);
  return text;
}

}  // namespace kvring::node
