#include "cmd/kvbench/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kvring::cmd::kvbench {

using base::Status;

namespace {
constexpr size_t kInitialReceiveBytes = 32 * 1024;
constexpr size_t kMinReadRoom = 8 * 1024;  // compact or grow below this much free space
constexpr int kMaxReadsPerWake = 4;        // then let other connections run
}  // namespace

Connection::Connection(const Target* target, std::unique_ptr<ProtocolCodec> codec, const net::TlsContext* tls)
    : target_(target), codec_(std::move(codec)), tls_context_(tls), in_(kInitialReceiveBytes) {}

Connection::~Connection() { Close(); }

Status Connection::StartConnect() {
  Close();
  fd_ = ::socket(target_->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Status::FromErrno(target_->text + ": socket", errno);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&target_->addr), target_->addr_len) == 0) {
    AfterConnected();
    return Status::OK();
  }
  if (errno != EINPROGRESS) {
    Status s = Status::Unavailable(target_->text + ": connect: " + std::strerror(errno));
    Close();
    return s;
  }
  state_ = State::kConnecting;
  return Status::OK();
}

Status Connection::FinishConnect() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    Status s = Status::Unavailable(target_->text + ": connect: " + std::strerror(err));
    Close();
    return s;
  }
  AfterConnected();
  return Status::OK();
}

void Connection::AfterConnected() {
  if (tls_context_ != nullptr) {
    tls_ = std::make_unique<net::TlsStream>(*tls_context_, fd_, target_->host + ":" + std::to_string(target_->port));
  }
  state_ = codec_->AppendHandshake(&out_) ? State::kHandshaking : State::kReady;
}

Status Connection::Read(bool* closed) {
  *closed = false;
  // Past kMaxReadsPerWake only while OpenSSL holds bytes read ahead (no event would come for them).
  for (int i = 0; i < kMaxReadsPerWake || (tls_ != nullptr && tls_->buffered()); ++i) {
    if (in_.size() - in_end_ < kMinReadRoom) {
      // Move the unparsed tail to the front; grow when a large reply needs it.
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
      if (in_.size() - in_end_ < kMinReadRoom) in_.resize(in_.size() * 2);
    }
    const size_t room = in_.size() - in_end_;
    Status error;
    ssize_t n = ReadSome(room, &error);
    if (!error.ok()) return error;
    if (n > 0) {
      in_end_ += static_cast<size_t>(n);
      const bool read_ahead = tls_ != nullptr && tls_->buffered();
      if (static_cast<size_t>(n) < room && !read_ahead) return Status::OK();  // drained the socket
      continue;
    }
    if (n == 0) {
      *closed = true;
      return Status::OK();
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::OK();
    if (errno == EINTR) continue;
    return Status::Unavailable(target_->text + ": read: " + std::strerror(errno));
  }
  return Status::OK();
}

ssize_t Connection::ReadSome(size_t room, Status* error) {
  if (tls_ == nullptr) return ::read(fd_, in_.data() + in_end_, room);
  size_t n = 0;
  const net::TlsIo io = tls_->Read(in_.data() + in_end_, room, &n);
  tls_read_wants_write_ = io == net::TlsIo::kWantWrite;
  if (io == net::TlsIo::kOk) return static_cast<ssize_t>(n);
  if (io == net::TlsIo::kEof) return 0;
  if (io == net::TlsIo::kError) *error = tls_->error();
  errno = EAGAIN;
  return -1;
}

ssize_t Connection::WriteSome(Status* error) {
  const size_t len = out_.size() - out_sent_;
  if (tls_ == nullptr) return ::send(fd_, out_.data() + out_sent_, len, MSG_NOSIGNAL);
  size_t n = 0;
  const net::TlsIo io = tls_->Write(out_.data() + out_sent_, len, &n);
  tls_write_wants_read_ = io == net::TlsIo::kWantRead;
  if (io == net::TlsIo::kError) *error = tls_->error();
  if (n > 0) return static_cast<ssize_t>(n);
  errno = EAGAIN;
  return -1;
}

Status Connection::Flush() {
  while (out_sent_ < out_.size()) {
    Status error;
    ssize_t n = WriteSome(&error);
    if (!error.ok()) return error;
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Status::OK();
    if (n < 0 && errno == EINTR) continue;
    return Status::Unavailable(target_->text + ": send: " + std::strerror(errno));
  }
  out_.clear();  // keeps its capacity
  out_sent_ = 0;
  return Status::OK();
}

void Connection::Close() {
  tls_.reset();
  tls_read_wants_write_ = tls_write_wants_read_ = false;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  state_ = State::kDown;
  out_.clear();
  out_sent_ = 0;
  in_begin_ = in_end_ = 0;
  codec_->Reset();
}

}  // namespace kvring::cmd::kvbench
