#include "net/blocking_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/coding.h"

namespace kvring::net {

using base::Status;

BlockingClient::BlockingClient(BlockingClientOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : base::SystemClock::Get()) {}

Status BlockingClient::Connect(std::string_view address, uint64_t timeout_ms) {
  Close();
  address_.assign(address);
  const uint64_t deadline = clock_->NowMicros() + timeout_ms * 1000;
  Status s = ConnectSocket(deadline, timeout_ms);
  if (s.ok() && options_.tls != nullptr) s = TlsHandshake(deadline, timeout_ms);
  if (s.ok()) s = Hello(deadline, timeout_ms);
  if (!s.ok()) Close();
  return s;
}

Status BlockingClient::ConnectSocket(uint64_t deadline_us, uint64_t timeout_ms) {
  auto to = SocketAddress::Parse(address_);
  if (!to.ok()) return to.status();
  SocketAddress source;
  if (!options_.source_address.empty()) {
    auto src = SocketAddress::ParseHost(options_.source_address, 0);
    if (!src.ok()) return src.status().WithContext("source address");
    source = *src;
  }
  bool in_progress = false;
  auto fd = net::Connect(*to, &source, &in_progress);
  if (!fd.ok()) return fd.status();
  fd_ = std::move(fd.value());
  if (in_progress) {
    if (!WaitFor(POLLOUT, deadline_us)) {
      return Status::TimedOut("connect to " + address_ + " timed out after " + std::to_string(timeout_ms) + "ms");
    }
    KV_RETURN_IF_ERROR(SocketError(fd_.get(), "connect to " + address_));
  }
  return Status::OK();
}

Status BlockingClient::TlsHandshake(uint64_t deadline_us, uint64_t timeout_ms) {
  tls_ = std::make_unique<TlsStream>(*options_.tls, fd_.get(), address_);
  while (true) {
    const TlsIo io = tls_->Handshake();
    if (io == TlsIo::kOk) return Status::OK();
    if (io == TlsIo::kError) return tls_->error();
    if (io == TlsIo::kEof) return Status::Unavailable("TLS handshake with " + address_ + " failed: peer closed the connection");
    if (!WaitFor(io == TlsIo::kWantRead ? POLLIN : POLLOUT, deadline_us)) {
      return Status::TimedOut("TLS handshake with " + address_ + " timed out after " + std::to_string(timeout_ms) + "ms");
    }
  }
}

Status BlockingClient::HandshakeStep(Opcode opcode, const std::string& body, const char* step, uint64_t deadline_us,
                                     uint64_t timeout_ms, HelloReply* info, std::string* payload) {
  AppendFrame(&out_, static_cast<uint8_t>(opcode), 0, 0, body);
  KV_RETURN_IF_ERROR(WriteOut(deadline_us, step, timeout_ms));
  auto reply = ReadReply(deadline_us, step, timeout_ms);
  if (!reply.ok()) return reply.status();
  if (!reply->status.ok()) return reply->status.WithContext(address_ + " rejected " + step);
  *payload = std::move(reply->payload);  // *info points into it
  if (!DecodeHelloReply(*payload, info)) {
    return Status::Corruption(std::string("malformed ") + step + " reply from " + address_);
  }
  if (info->version != kProtocolVersion) {
    return Status::NotSupported(address_ + " answered " + step + " with protocol version " +
                                std::to_string(info->version) + ", this client speaks version " +
                                std::to_string(kProtocolVersion));
  }
  return Status::OK();
}

Status BlockingClient::Hello(uint64_t deadline_us, uint64_t timeout_ms) {
  const ClientCredentials* creds = options_.role == PeerRole::kClient ? options_.credentials : nullptr;
  const bool with_user = creds != nullptr && !creds->empty();
  const std::string nonce = options_.secret != nullptr || with_user ? HelloNonce() : std::string();
  HelloRequest hello;
  hello.role = options_.role;
  hello.cluster = options_.cluster;
  hello.id = options_.id;
  hello.nonce = nonce;
  if (with_user) hello.user = creds->user;
  std::string body, payload;
  EncodeHello(&body, hello);
  HelloReply info;
  KV_RETURN_IF_ERROR(HandshakeStep(Opcode::kHello, body, "HELLO", deadline_us, timeout_ms, &info, &payload));
  std::string auth, signature;
  KV_RETURN_IF_ERROR(options_.role == PeerRole::kNode
                         ? AnswerChallenge(options_.secret, options_.cluster, options_.id, nonce, info.challenge,
                                           address_, &auth)
                         : AnswerClientChallenge(creds, options_.cluster, nonce, info.challenge, address_, &auth,
                                                 &signature));
  if (!auth.empty()) {
    KV_RETURN_IF_ERROR(HandshakeStep(Opcode::kAuth, auth, "AUTH", deadline_us, timeout_ms, &info, &payload));
    KV_RETURN_IF_ERROR(CheckServerSignature(signature, info.challenge, address_));
  }
  server_cluster_.assign(info.cluster);
  server_node_id_.assign(info.node_id);
  return Status::OK();
}

base::Result<std::string> BlockingClient::Call(uint8_t opcode, std::string_view body, uint64_t timeout_ms) {
  auto reply = CallForReply(opcode, body, timeout_ms);
  if (!reply.ok()) return reply.status();
  if (!reply->status.ok()) return reply->status;
  return std::move(reply->payload);
}

base::Result<Reply> BlockingClient::CallForReply(uint8_t opcode, std::string_view body, uint64_t timeout_ms) {
  if (!connected()) return Status::Unavailable("not connected" + (address_.empty() ? "" : " to " + address_));
  const uint64_t deadline = clock_->NowMicros() + timeout_ms * 1000;
  uint32_t id = Send(opcode, body);
  KV_RETURN_IF_ERROR(WriteOut(deadline, "request", timeout_ms));
  while (true) {
    auto reply = ReadReply(deadline, "request", timeout_ms);
    if (!reply.ok()) return reply.status();
    if (reply->request_id == id) return reply;  // else a late reply to an earlier timed-out call
  }
}

uint32_t BlockingClient::Send(uint8_t opcode, std::string_view body) {
  uint32_t id = next_request_id_++;
  if (next_request_id_ == 0) next_request_id_ = 1;  // 0 is HELLO's
  AppendFrame(&out_, opcode, 0, id, body);
  return id;
}

Status BlockingClient::Flush(uint64_t timeout_ms) {
  if (!connected()) return Status::Unavailable("not connected");
  return WriteOut(clock_->NowMicros() + timeout_ms * 1000, "request", timeout_ms);
}

base::Result<Reply> BlockingClient::Receive(uint64_t timeout_ms) {
  if (!connected()) return Status::Unavailable("not connected");
  const uint64_t deadline = clock_->NowMicros() + timeout_ms * 1000;
  KV_RETURN_IF_ERROR(WriteOut(deadline, "request", timeout_ms));
  return ReadReply(deadline, "request", timeout_ms);
}

Status BlockingClient::SendRaw(std::string_view bytes, uint64_t timeout_ms) {
  if (!connected()) return Status::Unavailable("not connected");
  out_.append(bytes.data(), bytes.size());
  return WriteOut(clock_->NowMicros() + timeout_ms * 1000, "write", timeout_ms);
}

void BlockingClient::Close() {
  tls_.reset();
  tls_buffered_ = false;
  fd_.Reset();
  out_.clear();
  in_.Consume(in_.size());
  in_.Shrink();
}

Status BlockingClient::WriteOut(uint64_t deadline_us, const char* what, uint64_t timeout_ms) {
  size_t sent = 0;
  while (sent < out_.size()) {
    size_t n = 0;
    short wait = 0;
    KV_RETURN_IF_ERROR(SendSome(out_.data() + sent, out_.size() - sent, &n, &wait));
    sent += n;
    if (wait != 0 && !WaitFor(wait, deadline_us)) {
      out_.erase(0, sent);  // keep the unsent rest: a later Flush may finish it
      return TimedOut(what, timeout_ms);
    }
  }
  out_.clear();
  return Status::OK();
}

Status BlockingClient::SendSome(const char* data, size_t len, size_t* sent, short* wait) {
  *sent = 0;
  *wait = 0;
  if (tls_ != nullptr) {
    const TlsIo io = tls_->Write(data, len, sent);
    if (io == TlsIo::kError) return TlsFailed();
    if (io != TlsIo::kOk) *wait = io == TlsIo::kWantRead ? POLLIN : POLLOUT;
    return Status::OK();
  }
  ssize_t n = ::send(fd_.get(), data, len, MSG_NOSIGNAL);
  if (n > 0) *sent = static_cast<size_t>(n);
  if (n >= 0 || errno == EINTR) return Status::OK();
  if (errno != EAGAIN && errno != EWOULDBLOCK) return Lost(std::string("write: ") + std::strerror(errno));
  *wait = POLLOUT;
  return Status::OK();
}

Status BlockingClient::ReceiveSome(short* wait) {
  *wait = POLLIN;
  char* dst = in_.PrepareWrite(16 * 1024);
  if (tls_ != nullptr) return ReceiveTls(dst, wait);
  ssize_t n = ::read(fd_.get(), dst, in_.writable());
  if (n > 0) {
    in_.CommitWrite(static_cast<size_t>(n));
  } else if (n == 0) {
    return Lost("peer closed the connection");
  } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
    return Lost(std::string("read: ") + std::strerror(errno));
  }
  return Status::OK();
}

Status BlockingClient::ReceiveTls(char* dst, short* wait) {
  size_t n = 0;
  const TlsIo io = tls_->Read(dst, in_.writable(), &n);
  if (io == TlsIo::kOk) in_.CommitWrite(n);
  tls_buffered_ = io == TlsIo::kOk && tls_->buffered();  // once it wants more, wait for the socket
  if (io == TlsIo::kWantWrite) *wait = POLLOUT;
  if (io == TlsIo::kEof) return Lost("peer closed the connection");
  if (io == TlsIo::kError) return TlsFailed();
  return Status::OK();
}

Status BlockingClient::TlsFailed() {
  Status s = tls_->error();
  Close();
  return s;
}

base::Result<Reply> BlockingClient::ReadReply(uint64_t deadline_us, const char* what, uint64_t timeout_ms) {
  short wait = POLLIN;
  while (true) {
    Frame frame;
    size_t consumed = 0;
    Status error;
    ParseResult r = ParseFrame(in_.data(), in_.size(), options_.max_frame_bytes, &frame, &consumed, &error);
    if (r == ParseResult::kError) {
      Close();
      return error.WithContext("bad frame from " + address_);
    }
    if (r == ParseResult::kFrame) {
      Reply reply;
      reply.opcode = frame.opcode;
      reply.request_id = frame.request_id;
      std::string_view payload;
      Status parsed = ParseReplyStatus(frame.body, &reply.status, &payload);
      if (!parsed.ok()) {
        Close();
        return parsed.WithContext("bad reply from " + address_);
      }
      reply.payload.assign(payload);
      in_.Consume(consumed);
      return reply;
    }
    // What OpenSSL read ahead is not on the socket any more: read it without waiting.
    if (!tls_buffered_ && !WaitFor(wait, deadline_us)) return TimedOut(what, timeout_ms);
    KV_RETURN_IF_ERROR(ReceiveSome(&wait));
  }
}

bool BlockingClient::WaitFor(short events, uint64_t deadline_us) {
  while (true) {
    uint64_t now = clock_->NowMicros();
    if (now >= deadline_us) return false;
    pollfd p{fd_.get(), events, 0};
    int timeout = static_cast<int>((deadline_us - now + 999) / 1000);
    int r = ::poll(&p, 1, timeout);
    if (r > 0) return true;  // readiness or an error: the next read/write reports it
    if (r < 0 && errno != EINTR) return true;
  }
}

Status BlockingClient::Lost(const std::string& cause) {
  Close();
  return Status::Unavailable("connection to " + address_ + " lost: " + cause);
}

Status BlockingClient::TimedOut(const char* what, uint64_t timeout_ms) const {
  return Status::TimedOut(std::string(what) + " to " + address_ + " timed out after " + std::to_string(timeout_ms) +
                          "ms");
}

}  // namespace kvring::net
