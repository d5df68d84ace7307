#include "net/server_session.h"

#include <algorithm>

#include "net/server_worker.h"

namespace kvring::net {

using base::LogLevel;
using base::Status;

ServerSession::ServerSession(ServerWorker* worker, UniqueFd fd, uint64_t id, const SocketAddress& peer)
    : worker_(worker),
      conn_(worker->loop(), std::move(fd), id, peer.ToString(), worker->connection_options(), this,
            worker->flush_list(), worker->counters()),
      started_us_(worker->loop()->now_us()),
      reply_estimate_(worker->connection_options().high_water_bytes / 16 + 1) {
  peer_.connection_id = id;
  peer_.address = conn_.name();
  // HELLO is tiny: until it is accepted, a peer may not make us buffer a large frame.
  const uint32_t before_hello = worker->options().max_frame_bytes_before_hello;
  if (before_hello > 0 && before_hello < worker->connection_options().max_frame_bytes) {
    conn_.SetMaxFrameBytes(before_hello, "before HELLO");
  }
}

void ServerSession::OnFrame(Connection* /*conn*/, const Frame& frame) {
  if (!hello_done_) {
    auth_pending_ ? HandleAuth(frame) : HandleHello(frame);
    return;
  }
  if (frame.is_reply()) {
    RejectAndClose(frame, Status::InvalidArgument("a client sent a reply frame (" + OpcodeName(frame.opcode) +
                                                  ", request " + std::to_string(frame.request_id) +
                                                  ") to a server"));
    return;
  }
  if (static_cast<Opcode>(frame.opcode) == Opcode::kHello) {
    Request dup(this, frame);
    dup.ReplyError(Status::InvalidArgument("HELLO was already accepted on this connection"));
    return;
  }
  Request request(this, frame);
  worker_->handler()->OnRequest(request);
  if (!request.answered() && !conn_.closed()) {
    LOG_WARN(worker_->logger(), "net: handler left request %u (opcode 0x%02x) from %s unanswered",
             frame.request_id, frame.opcode, peer_.address.c_str());
    request.ReplyError(Status::Aborted("the server did not answer this request"));
  }
}

void ServerSession::HandleHello(const Frame& frame) {
  if (static_cast<Opcode>(frame.opcode) != Opcode::kHello) {
    RejectAndClose(frame, Status::InvalidArgument("expected HELLO (0x01) as the first frame, got " +
                                                  OpcodeName(frame.opcode)));
    return;
  }
  HelloRequest hello;
  if (frame.is_reply() || !DecodeHello(frame.body, &hello)) {
    RejectAndClose(frame, Status::Corruption("malformed HELLO body (" + std::to_string(frame.body.size()) + " bytes)"));
    return;
  }
  Status s = CheckHello(hello);
  if (!s.ok()) {
    RejectAndClose(frame, s);
    return;
  }
  peer_.version = hello.version;
  peer_.role = hello.role;
  peer_.cluster.assign(hello.cluster);
  peer_.id.assign(hello.id);
  if (hello.role == PeerRole::kNode && worker_->options().secret != nullptr) return Challenge(frame, hello);
  if (hello.role == PeerRole::kClient && worker_->options().users != nullptr) return ChallengeClient(frame, hello);
  if (hello.role == PeerRole::kNode) reply_estimate_ = 0;  // see the header: nodes are not charged
  Accept(frame, {});
  LOG_DEBUG(worker_->logger(), "net: connection #%llu from %s: HELLO from %s '%s'",
            static_cast<unsigned long long>(peer_.connection_id), peer_.address.c_str(),
            hello.role == PeerRole::kNode ? "node" : "client", peer_.id.c_str());
}

void ServerSession::Accept(const Frame& frame, std::string_view challenge) {
  auth_pending_ = false;
  hello_done_ = true;
  conn_.SetMaxFrameBytes(worker_->connection_options().max_frame_bytes);
  HelloReply reply;
  reply.version = peer_.version;  // the version this connection speaks (the peer's, accepted in CheckHello)
  reply.cluster = worker_->options().cluster;
  reply.node_id = worker_->options().node_id;
  reply.challenge = challenge;
  Request request(this, frame);
  EncodeHelloReply(request.BeginOkReply(), reply);
  request.EndReply();
}

void ServerSession::Challenge(const Frame& frame, const HelloRequest& hello) {
  if (hello.nonce.size() != kHelloNonceBytes) {
    LOG_WARN(worker_->logger(), "net: connection from %s: node '%s' refused: it did not offer the cluster handshake "
             "(no --secret-file?)", peer_.address.c_str(), peer_.id.c_str());
    RejectAndClose(frame, Status::PermissionDenied("this cluster requires nodes to prove they hold the cluster "
                                                   "secret: give the node the cluster's --secret-file"));
    return;
  }
  client_nonce_.assign(hello.nonce);
  server_nonce_ = HelloNonce();
  SendChallenge(frame, server_nonce_ + HelloProof(*worker_->options().secret, HelloSide::kServer, peer_.cluster,
                                                  peer_.id, client_nonce_, server_nonce_));
}

void ServerSession::SendChallenge(const Frame& frame, std::string_view challenge) {
  auth_pending_ = true;
  HelloReply reply;  // names nothing until the peer has proved itself
  reply.version = peer_.version;
  reply.challenge = challenge;
  Request request(this, frame);
  EncodeHelloReply(request.BeginOkReply(), reply);
  request.EndReply();
}

void ServerSession::ChallengeClient(const Frame& frame, const HelloRequest& hello) {
  if (hello.user.empty() || hello.nonce.size() != kHelloNonceBytes) {
    ConnectionCounters::Add(worker_->session_counters()->auth_failures, 1);
    RejectAndClose(frame, Status::PermissionDenied("this node requires client authentication: give a user and "
                                                   "password (--credentials FILE, or KVRING_USER and "
                                                   "KVRING_PASSWORD)"));
    return;
  }
  peer_.user.assign(hello.user);
  client_nonce_.assign(hello.nonce);
  client_challenge_ = worker_->options().users->Challenge(peer_.user, HelloNonce());
  SendChallenge(frame, client_challenge_);
}

void ServerSession::HandleAuth(const Frame& frame) {
  std::string_view proof;
  if (static_cast<Opcode>(frame.opcode) != Opcode::kAuth || frame.is_reply() || !DecodeAuth(frame.body, &proof)) {
    RejectAndClose(frame, Status::PermissionDenied("expected AUTH (0x03) answering the HELLO challenge, got " +
                                                   OpcodeName(frame.opcode)));
    return;
  }
  peer_.role == PeerRole::kNode ? HandleNodeAuth(frame, proof) : HandleClientAuth(frame, proof);
}

void ServerSession::HandleNodeAuth(const Frame& frame, std::string_view proof) {
  if (!CheckHelloProof(*worker_->options().secret, HelloSide::kClient, peer_.cluster, peer_.id, client_nonce_,
                       server_nonce_, proof)) {
    LOG_WARN(worker_->logger(), "net: connection from %s: node '%s' failed the cluster handshake: its proof does not "
             "match this cluster's secret", peer_.address.c_str(), peer_.id.c_str());
    RejectAndClose(frame, Status::PermissionDenied("cluster handshake failed: the proof does not match this "
                                                   "cluster's secret"));
    return;
  }
  reply_estimate_ = 0;  // a node: not charged (see the header)
  Accept(frame, {});
  LOG_DEBUG(worker_->logger(), "net: connection #%llu from %s: node '%s' authenticated",
            static_cast<unsigned long long>(peer_.connection_id), peer_.address.c_str(), peer_.id.c_str());
}

void ServerSession::HandleClientAuth(const Frame& frame, std::string_view proof) {
  std::string signature;
  Status s = VerifyClientProof(*worker_->options().users, peer_.cluster, peer_.user, client_nonce_,
                               client_challenge_, proof, &peer_.access, &signature);
  if (!s.ok()) {
    ConnectionCounters::Add(worker_->session_counters()->auth_failures, 1);
    LOG_WARN(worker_->logger(), "net: connection from %s: client authentication failed for user '%s'",
             peer_.address.c_str(), peer_.user.c_str());
    RejectAndClose(frame, s);
    return;
  }
  Accept(frame, signature);
  LOG_DEBUG(worker_->logger(), "net: connection #%llu from %s: user '%s' authenticated (%s)",
            static_cast<unsigned long long>(peer_.connection_id), peer_.address.c_str(), peer_.user.c_str(),
            std::string(AccessName(peer_.access)).c_str());
}

Status ServerSession::CheckHello(const HelloRequest& hello) const {
  if (hello.version < kMinProtocolVersion || hello.version > kProtocolVersion) {
    return Status::InvalidArgument("protocol version mismatch: peer speaks version " + std::to_string(hello.version) +
                                   ", this server speaks versions " + std::to_string(kMinProtocolVersion) + " to " +
                                   std::to_string(kProtocolVersion));
  }
  if (hello.role == PeerRole::kNode && hello.version != kProtocolVersion) {
    return Status::InvalidArgument("protocol version mismatch: node peers must speak version " +
                                   std::to_string(kProtocolVersion) + ", peer speaks version " +
                                   std::to_string(hello.version));
  }
  const std::string& cluster = worker_->options().cluster;
  bool wildcard = hello.cluster.empty() && hello.role == PeerRole::kClient;
  if (!wildcard && hello.cluster != cluster) {
    // With a secret or users, the server names its cluster only to authenticated peers.
    const bool discreet = worker_->options().secret != nullptr || worker_->options().users != nullptr;
    const std::string ours = discreet ? "another" : "'" + cluster + "'";
    return Status::InvalidArgument("cluster name mismatch: peer is in cluster '" + std::string(hello.cluster) +
                                   "', this server is in cluster " + ours);
  }
  return Status::OK();
}

void ServerSession::RejectAndClose(const Frame& frame, const Status& error) {
  ConnectionCounters::Add(worker_->counters()->protocol_errors, 1);
  Request request(this, frame);
  request.ReplyError(error);
  conn_.CloseAfterFlush(error.WithContext("protocol error"), LogLevel::kInfo);
}

void ServerSession::Refuse(const Status& why, LogLevel level) {
  counted_ = false;
  SendUnpromptedHelloReply(why);
  conn_.CloseAfterFlush(why.WithContext("refusing connection"), level);
}

void ServerSession::TimeOutHello(uint64_t timeout_ms) {
  Status why = Status::TimedOut("no HELLO within " + std::to_string(timeout_ms) + "ms of connecting");
  SendUnpromptedHelloReply(why);
  conn_.CloseAfterFlush(why.WithContext("handshake"), LogLevel::kInfo);
}

// What a client reads as the answer to its HELLO (request id 0), sent first.
void ServerSession::SendUnpromptedHelloReply(const Status& status) {
  std::string* out = conn_.output();
  size_t start = BeginFrame(out, static_cast<uint8_t>(Opcode::kHello), kFlagReply, 0);
  AppendStatus(out, status);
  FinishFrame(out, start);
  ReplyAppended();
}

void ServerSession::OnClose(Connection* /*conn*/, const Status& /*reason*/) {
  if (auth_pending_ && peer_.role == PeerRole::kNode) {
    LOG_WARN(worker_->logger(), "net: connection from %s: node '%s' left during the cluster handshake (it could not "
             "verify this server's proof: another --secret-file?)", peer_.address.c_str(), peer_.id.c_str());
  }
  ConnectionCounters::Sub(worker_->session_counters()->inflight, inflight_);
  inflight_ = 0;  // their replies are dropped (the session is gone from the worker)
  worker_->OnSessionClosed(this);
}

void ServerSession::OnInputOverBudget(Connection* /*conn*/) { worker_->ShedInput(); }

void ServerSession::NoteDeferred() {
  ++inflight_;
  ConnectionCounters::Add(worker_->session_counters()->inflight, 1);
  UpdateExpectedOutput();
}

void ServerSession::UpdateExpectedOutput() {
  const size_t max = worker_->options().max_inflight_per_connection;
  if (max > 0) {
    const size_t resume_at = std::min(max - 1, max * 3 / 4);
    held_ = held_ ? inflight_ > resume_at : inflight_ >= max;
  }
  conn_.SetExpectedOutput(static_cast<size_t>(inflight_) * reply_estimate_, held_);
}

// The estimate follows the largest recent reply: it jumps up at once (memory is
// at stake) and decays by an eighth per reply.
void ServerSession::NoteReplyBytes(size_t bytes) {
  if (peer_.role == PeerRole::kNode) return;
  reply_estimate_ = std::max(bytes, reply_estimate_ - reply_estimate_ / 8);
}

void ServerSession::ReplyAppended() {
  ConnectionCounters::Add(worker_->counters()->frames_out, 1);
  conn_.OutputAdded();
}

void ServerSession::DeliverReply(uint8_t opcode, uint32_t request_id, const Status& status,
                                 std::string_view payload) {
  if (inflight_ > 0) {
    --inflight_;
    ConnectionCounters::Sub(worker_->session_counters()->inflight, 1);
  }
  if (conn_.closed()) return;
  std::string* out = conn_.output();
  size_t start = BeginFrame(out, opcode, kFlagReply, request_id);
  AppendStatus(out, status);
  out->append(payload.data(), payload.size());  // an error reply may carry a payload after its message
  FinishFrame(out, start);
  NoteReplyBytes(out->size() - start);
  ReplyAppended();  // may close the connection: over the limit of unsent replies
  UpdateExpectedOutput();
}

}  // namespace kvring::net
