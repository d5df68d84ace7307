// cmd/kvbench/connection.h — one client connection of kvbench: a non-blocking TCP
// socket (TCP_NODELAY), a send buffer that requests are appended to and written
// with one send() per wake-up, a receive buffer that one read() fills with as
// many replies as have arrived, and the protocol codec. Buffers keep their
// capacity, so the steady state allocates nothing.
// With --tls-ca, the same through a net::TlsStream: the handshake runs inside the
// first Flush and Read; NeedsWritable says when to wait for EPOLLOUT (output the
// socket can take, or a TLS read that must write), and Read drains what OpenSSL
// read ahead (epoll cannot see it).
// Thread safety: needs external synchronization (owned by one worker loop).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "cmd/kvbench/protocol_codec.h"
#include "cmd/kvbench/target.h"
#include "net/tls.h"

namespace kvring::cmd::kvbench {

class Connection {
 public:
  enum class State : uint8_t { kDown, kConnecting, kHandshaking, kReady };

  // *target (and *tls, a client context or null for plain TCP) must outlive the connection.
  Connection(const Target* target, std::unique_ptr<ProtocolCodec> codec, const net::TlsContext* tls = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts a non-blocking connect: kConnecting, or kHandshaking/kReady when it
  // completed at once (then the HELLO, if any, is already in the send buffer).
  [[nodiscard]] base::Status StartConnect();
  // After the socket turned writable while kConnecting: the outcome of connect().
  [[nodiscard]] base::Status FinishConnect();
  // The handshake reply arrived: kReady.
  void MarkReady() { state_ = State::kReady; }
  // Reads what the socket holds into the receive buffer; *closed when the server
  // closed the connection (what arrived before is still in the buffer).
  [[nodiscard]] base::Status Read(bool* closed);
  // Writes as much of the send buffer as the socket accepts.
  [[nodiscard]] base::Status Flush();
  // Closes the socket, drops both buffers and the codec's requests: kDown.
  void Close();

  State state() const { return state_; }
  int fd() const { return fd_; }
  const Target& target() const { return *target_; }
  ProtocolCodec* codec() { return codec_.get(); }
  std::string* out() { return &out_; }
  bool HasPendingOutput() const { return out_.size() > out_sent_; }
  // Wait for the socket to be writable: output it can take (not a TLS write that
  // waits to read), or a TLS read that waits to write.
  bool NeedsWritable() const { return (HasPendingOutput() && !tls_write_wants_read_) || tls_read_wants_write_; }
  bool ReadWantsWritable() const { return tls_read_wants_write_; }
  const char* in_data() const { return in_.data() + in_begin_; }
  size_t in_size() const { return in_end_ - in_begin_; }
  void Consume(size_t n) { in_begin_ += n; }

 private:
  void AfterConnected();
  // One read into the receive buffer: bytes, 0 at EOF, -1 with errno (EAGAIN: none now).
  ssize_t ReadSome(size_t room, base::Status* error);
  ssize_t WriteSome(base::Status* error);

  const Target* target_;
  std::unique_ptr<ProtocolCodec> codec_;
  const net::TlsContext* const tls_context_;
  std::unique_ptr<net::TlsStream> tls_;  // with tls_context_, once connected
  bool tls_read_wants_write_ = false;
  bool tls_write_wants_read_ = false;
  int fd_ = -1;
  State state_ = State::kDown;
  std::string out_;
  size_t out_sent_ = 0;      // bytes of out_ already written
  std::vector<char> in_;
  size_t in_begin_ = 0;      // unparsed bytes are in_[in_begin_, in_end_)
  size_t in_end_ = 0;
};

}  // namespace kvring::cmd::kvbench
