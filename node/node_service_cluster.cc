// node/node_service_cluster.cc — NodeService's cluster admin and membership
// messages: RING, CLUSTER_STATUS, GOSSIP_SYN/PUSH, PROBE, PROBE_REQ.
#include <map>

#include "node/node_service.h"
#include "repl/messages.h"
#include "ring/ownership.h"

namespace kvring::node {

using base::Status;

void NodeService::ReplyMalformed(net::Request& request, const char* what) {
  bad_requests_.fetch_add(1, std::memory_order_relaxed);
  request.ReplyError(Status::InvalidArgument(std::string("malformed ") + what + " body"));
}

void NodeService::HandleRing(net::Request& request) {
  auto ring = p_.view->Current();
  ring::OwnershipReport report = ring::ComputeOwnership(*ring);
  repl::RingDescription desc;
  desc.version = ring->version();
  desc.fingerprint = ring->Fingerprint();
  desc.replication = ring->replication().ToString();
  for (size_t i = 0; i < ring->nodes().size(); ++i) {
    repl::RingMember m;
    m.node = ring->nodes()[i];
    const ring::NodeOwnership& own = report.nodes[i];
    m.vnodes = own.vnodes;
    m.replica_share = own.replica;
    m.primary_share = own.primary;
    desc.members.push_back(std::move(m));
  }
  std::string payload;
  repl::EncodeRingDescription(&payload, desc);
  request.ReplyOk(payload);
}

void NodeService::HandleClusterStatus(net::Request& request) {
  if (HopToLoopZero(request, [this]() -> base::Result<std::string> { return ClusterStatusPayload(); })) return;
  request.ReplyOk(ClusterStatusPayload());
}

std::string NodeService::ClusterStatusPayload() {
  std::vector<repl::MemberView> views = p_.gossip->Snapshot();
  std::map<std::string, uint64_t> hints_for;  // owner -> hints the members hold for it
  for (const auto& v : views) {
    for (const auto& [owner, count] : v.state.hints) hints_for[owner] += count;
  }
  std::vector<repl::MemberReport> out;
  for (const auto& v : views) {
    repl::MemberReport r;
    r.state = v.state;
    r.self = v.self;
    r.heartbeat_age_ms = v.heartbeat_age_us / 1000;
    r.hints_for_it = hints_for[v.state.node.id];
    if (!v.self) {
      repl::PeerLiveness l = p_.liveness->Get(v.state.node.id);
      r.liveness = l.state;
      r.suspected_by = std::move(l.suspected_by);
      r.detail = std::move(l.reason);
    }
    out.push_back(std::move(r));
  }
  std::string payload;
  repl::EncodeClusterStatus(&payload, out);
  return payload;
}

void NodeService::HandleGossipSyn(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string body(request.body());
  OnLoopZero(request, [this, body = std::move(body)](net::Responder responder) {
    base::Result<std::string> reply = p_.gossip->OnSyn(body);
    if (!reply.ok()) return responder.Reply(reply.status());
    responder.ReplyOk(reply.value());
  });
}

void NodeService::HandleGossipPush(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string body(request.body());
  OnLoopZero(request, [this, body = std::move(body)](net::Responder responder) {
    responder.Reply(p_.gossip->OnPush(body));
  });
}

void NodeService::HandleProbe(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string from;
  if (!repl::DecodeProbe(request.body(), &from)) return ReplyMalformed(request, "PROBE");
  std::string payload;
  repl::EncodeProbeReply(&payload, p_.config->id, p_.generation);
  request.ReplyOk(payload);
}

void NodeService::HandleProbeRequest(net::Request& request) {
  if (!RequireNodePeer(request)) return;
  std::string body(request.body());
  OnLoopZero(request, [this, body = std::move(body)](net::Responder responder) {
    p_.prober->OnProbeRequest(body, [responder](Status s, std::string payload) { responder.Reply(s, payload); });
  });
}

}  // namespace kvring::node
