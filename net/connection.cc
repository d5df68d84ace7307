#include "net/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/coding.h"
#include "net/flush_list.h"

namespace kvring::net {

using base::LogLevel;
using base::Status;

namespace {

constexpr size_t kMinReadBytes = 4096;
constexpr unsigned char kTlsHandshakeRecord = 0x16;  // the first byte a TLS client sends
// Output storage above this is released once drained (after a burst of large replies).
constexpr size_t kKeepOutputCapacity = 1u << 20;

}  // namespace

Connection::Connection(EventLoop* loop, UniqueFd fd, uint64_t id, std::string name,
                       const ConnectionOptions& options, ConnectionDelegate* delegate, FlushList* flush_list,
                       ConnectionCounters* counters, bool connecting)
    : loop_(loop),
      fd_(std::move(fd)),
      id_(id),
      name_(std::move(name)),
      options_(options),
      max_frame_bytes_(options.max_frame_bytes),
      delegate_(delegate),
      flush_list_(flush_list),
      counters_(counters),
      in_(options.initial_buffer_bytes),
      connecting_(connecting),
      last_active_us_(loop->now_us()) {
  if (options.tls != nullptr) tls_ = std::make_unique<TlsStream>(*options.tls, fd_.get(), name_);
}

Connection::~Connection() {
  loop_->CancelTimer(linger_timer_);
  if (!closed_) {
    closed_ = true;
    if (in_flush_list_) flush_list_->Remove(this);
    if (started_) loop_->Unwatch(fd_.get());
    fd_.Reset();
    ReleaseAccounting();
  }
}

Status Connection::Start() {
  interest_ = connecting_ ? kWritable : kReadable;
  Status s = loop_->Watch(fd_.get(), interest_, this);
  started_ = s.ok();
  return s;
}

void Connection::OnFdEvents(uint32_t events) {
  if (closed_) return;
  if (connecting_) {
    FinishConnect();
    return;
  }
  const bool readable = (events & (kReadable | kHangup)) != 0;
  const bool writable = (events & kWritable) != 0;
  if (readable || (writable && tls_read_wants_write_)) HandleReadable(events);
  if (closed_) return;
  if (writable || (readable && tls_write_wants_read_)) Flush();
}

// --- input ---------------------------------------------------------------------------

void Connection::HandleReadable(uint32_t events) {
  if (lingering_) {
    DiscardInput();
    return;
  }
  if (!reading_ || paused_) {
    // Not reading (backpressure or draining), so no read() will see the hang-up:
    // close here, or level-triggered epoll would report it forever.
    if (events & kHangup) {
      Status error = SocketError(fd_.get(), "socket");
      Close(error.ok() ? Status::Aborted("peer hung up") : error, LogLevel::kDebug);
    }
    return;
  }
  bool eof = false;
  if (!ReadOnce(&eof)) return;  // closed on a read error
  if (plain_on_tls_port_) {
    RejectInput(Status::PermissionDenied("this port requires TLS: connect with TLS (kvctl --tls-ca FILE)"),
                LogLevel::kWarn);
    return;
  }
  ProcessInput();
  if (!closed_ && !lingering_ && options_.input_budget_bytes > 0 &&
      counters_->input_buffered.load(std::memory_order_relaxed) > options_.input_budget_bytes) {
    delegate_->OnInputOverBudget(this);  // may reject this connection's input, or another's
  }
  if (eof && !closed_) {
    Flush();  // replies to the last requests, for a peer that only half-closed
    if (!closed_) Close(Status::Aborted("peer closed the connection"), LogLevel::kDebug);
  }
}

// Reads once; again only while each read fills the buffer without completing the
// frame at its front (a large frame arriving). False when the connection closed.
bool Connection::ReadOnce(bool* eof) {
  while (true) {
    size_t want = BytesWantedForFrame();
    // Grow with the bytes actually arriving (doubling), not with what a header
    // claims, so a peer cannot make us reserve max_frame_bytes by promising a frame.
    size_t room = want < in_.capacity() ? want : in_.capacity();
    if (room < kMinReadBytes) room = kMinReadBytes;
    char* dst = in_.PrepareWrite(room);
    size_t avail = in_.writable();
    ssize_t n = ReadSocket(dst, avail);
    if (n > 0) {
      in_.CommitWrite(static_cast<size_t>(n));
      ConnectionCounters::Add(counters_->bytes_in, static_cast<uint64_t>(n));
      last_active_us_ = loop_->now_us();
      if (static_cast<size_t>(n) == avail && BytesWantedForFrame() > 0) continue;
      if (TlsBuffered()) continue;  // read ahead by OpenSSL: no readable event will come for it
      return true;
    }
    if (n == 0) {
      *eof = true;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    Close(SocketFailure("read"), tls_ != nullptr ? LogLevel::kWarn : LogLevel::kInfo);
    return false;
  }
}

// One read: bytes, 0 at EOF, or -1 with errno (EAGAIN: nothing now, EPROTO: TLS
// failed). Through TLS, remembers whether the read waits for the socket to be writable.
ssize_t Connection::ReadSocket(char* dst, size_t len) {
  if (tls_ == nullptr) return ::read(fd_.get(), dst, len);
  if (!tls_sniffed_ && options_.tls->is_server() && !SniffTls()) return ::read(fd_.get(), dst, len);
  size_t n = 0;
  const TlsIo io = tls_->Read(dst, len, &n);
  if (tls_read_wants_write_ != (io == TlsIo::kWantWrite)) {
    tls_read_wants_write_ = io == TlsIo::kWantWrite;
    UpdateInterest();
  }
  if (io == TlsIo::kOk) return static_cast<ssize_t>(n);
  if (io == TlsIo::kEof) return 0;
  errno = io == TlsIo::kError ? EPROTO : EAGAIN;
  return -1;
}

// The same for writes: bytes written (possibly 0), or -1 with errno set.
ssize_t Connection::WriteSocket(const char* src, size_t len) {
  if (tls_ == nullptr) return ::send(fd_.get(), src, len, MSG_NOSIGNAL);
  size_t n = 0;
  const TlsIo io = tls_->Write(src, len, &n);
  tls_write_wants_read_ = io == TlsIo::kWantRead;  // Flush updates the interest
  if (io == TlsIo::kError) {
    errno = EPROTO;
    return -1;
  }
  return static_cast<ssize_t>(n);
}

// A server's first look at its peer: false when the first byte is not a TLS
// handshake record (then TLS is dropped and the plain peer is refused in plain text).
bool Connection::SniffTls() {
  unsigned char first = 0;
  if (::recv(fd_.get(), &first, 1, MSG_PEEK) <= 0) return true;  // nothing yet, EOF or an error: TLS says which
  tls_sniffed_ = true;
  if (first == kTlsHandshakeRecord) return true;
  tls_.reset();
  plain_on_tls_port_ = true;
  return false;
}

Status Connection::SocketFailure(const char* op) const {
  if (tls_ != nullptr && !tls_->error().ok()) return tls_->error();
  return Status::Unavailable(std::string(op) + ": " + std::strerror(errno));
}

// Bytes still missing from the frame at the front of the input buffer (at least the
// length field's 4); 0 when a complete frame is buffered.
size_t Connection::BytesWantedForFrame() const {
  if (in_.size() < 4) return 4 - in_.size();
  uint64_t total = 4 + static_cast<uint64_t>(base::DecodeFixed32(in_.data()));
  if (total > 4ull + max_frame_bytes_) return 0;  // the parser rejects it
  return total > in_.size() ? static_cast<size_t>(total - in_.size()) : 0;
}

void Connection::ProcessInput() {
  if (in_process_input_) return;  // a delegate flushed and resumed us: the outer loop continues
  in_process_input_ = true;
  Frame frame;
  size_t consumed = 0;
  Status error;
  bool consumed_any = false;
  while (!closed_ && reading_ && !paused_ && !lingering_) {
    ParseResult r = ParseFrame(in_.data(), in_.size(), max_frame_bytes_, &frame, &consumed, &error);
    if (r == ParseResult::kNeedMore) break;
    if (r == ParseResult::kError) {
      HandleBadFrame(error);
      break;
    }
    ConnectionCounters::Add(counters_->frames_in, 1);
    delegate_->OnFrame(this, frame);
    if (closed_ || lingering_) break;  // a lingering close already discarded the input
    in_.Consume(consumed);
    consumed_any = true;
    if (!paused_ && OverHighWater()) Pause();
  }
  if (!closed_ && !lingering_) NotePartialFrame(consumed_any);
  if (!closed_ && in_.empty()) in_.Shrink();
  SyncInputAccounting();
  in_process_input_ = false;
}

// The clock of a frame starts with its first byte: restart it whenever the front
// of the input moved on to a new frame.
void Connection::NotePartialFrame(bool consumed_any) {
  if (in_.empty()) {
    partial_since_us_ = 0;
    return;
  }
  if (consumed_any || partial_since_us_ == 0) partial_since_us_ = loop_->now_us();
}

uint64_t Connection::partial_frame_since_us() const {
  if (closed_ || lingering_ || paused_ || !reading_) return 0;  // not waiting on the peer
  return partial_since_us_;
}

std::string Connection::DescribePartialFrame() const {
  if (in_.size() < 4) return std::to_string(in_.size()) + " bytes";
  const uint64_t total = 4 + static_cast<uint64_t>(base::DecodeFixed32(in_.data()));
  return std::to_string(in_.size()) + " of " + std::to_string(total) + " bytes";
}

void Connection::SetMaxFrameBytes(uint32_t max_bytes, std::string why) {
  max_frame_bytes_ = max_bytes;
  frame_limit_why_ = std::move(why);
}

void Connection::HandleBadFrame(const Status& error) {
  ConnectionCounters::Add(counters_->protocol_errors, 1);
  Status why = error;
  if (why.IsTooLarge() && !frame_limit_why_.empty()) why = Status::TooLarge(why.message() + " " + frame_limit_why_);
  if (options_.reply_to_bad_frames) {
    AppendReplyToFront(why);
    CloseAfterFlush(why.WithContext("malformed frame"), LogLevel::kWarn);
    return;
  }
  Close(why.WithContext("malformed frame"), LogLevel::kWarn);  // nothing to deliver: no linger
}

void Connection::RejectInput(const Status& why, LogLevel level) {
  if (closed_ || lingering_) return;
  if (options_.reply_to_bad_frames) {
    AppendReplyToFront(why);
    CloseAfterFlush(why, level);
    return;
  }
  Close(why, level);
}

// An error reply echoing what can be read of the header at the front of the input,
// so the peer can tell which request failed.
void Connection::AppendReplyToFront(const Status& error) {
  uint8_t opcode = in_.size() > 4 ? static_cast<uint8_t>(in_.data()[4]) : 0;
  uint32_t request_id = in_.size() >= kFrameHeaderBytes ? base::DecodeFixed32(in_.data() + 6) : 0;
  size_t start = BeginFrame(&out_, opcode, kFlagReply, request_id);
  AppendStatus(&out_, error);
  FinishFrame(&out_, start);
  ConnectionCounters::Add(counters_->frames_out, 1);
}

void Connection::SetReading(bool enabled) {
  if (reading_ == enabled || closed_) return;
  reading_ = enabled;
  UpdateInterest();
  if (enabled) {
    partial_since_us_ = 0;  // the frame's clock restarts: we were not reading
    ProcessInput();
  }
}

void Connection::SyncInputAccounting() {
  const size_t held = in_.size();
  if (held >= in_accounted_) {
    ConnectionCounters::Add(counters_->input_buffered, held - in_accounted_);
  } else {
    ConnectionCounters::Sub(counters_->input_buffered, in_accounted_ - held);
  }
  in_accounted_ = held;
}

// --- flow control ----------------------------------------------------------------------

void Connection::SetExpectedOutput(size_t bytes, bool hold) {
  expected_output_ = bytes;
  held_ = hold;
  // A deferred reply may arrive inside anyone's callback: frames buffered while
  // paused are handled from the flush hook, not re-entrantly from here.
  UpdateFlow(/*handle_input_now=*/false);
}

bool Connection::OverHighWater() const { return held_ || owed() > options_.high_water_bytes; }

void Connection::UpdateFlow(bool handle_input_now) {
  if (closed_ || lingering_) return;
  if (!paused_) {
    if (OverHighWater()) Pause();
    return;
  }
  if (!held_ && owed() < options_.low_water_bytes) Resume(handle_input_now);
}

void Connection::Pause() {
  paused_ = true;
  ConnectionCounters::Add(counters_->paused, 1);
  ConnectionCounters::Add(counters_->paused_now, 1);
  UpdateInterest();
}

void Connection::Resume(bool handle_input_now) {
  paused_ = false;
  ConnectionCounters::Sub(counters_->paused_now, 1);
  partial_since_us_ = 0;  // the frame's clock restarts: we were not reading
  UpdateInterest();
  if (in_.empty() || in_process_input_) return;  // nothing buffered, or the running loop goes on
  if (handle_input_now) {
    ProcessInput();  // frames that were already buffered while paused
    return;
  }
  input_pending_ = true;
  if (!in_flush_list_) {
    in_flush_list_ = true;
    flush_list_->Add(this);
  }
}

// --- output --------------------------------------------------------------------------

void Connection::OutputAdded() {
  if (closed_) {
    out_.clear();
    out_sent_ = 0;
    return;
  }
  SyncOutputAccounting();
  if (!CheckOutputLimit()) return;
  if (!paused_ && !lingering_ && OverHighWater()) Pause();
  if (!in_flush_list_) {
    in_flush_list_ = true;
    flush_list_->Add(this);
  }
}

// False when the connection was closed for owing more than max_output_bytes.
bool Connection::CheckOutputLimit() {
  const size_t limit = options_.max_output_bytes;
  if (limit == 0 || pending_output() <= limit || lingering_) return true;
  ConnectionCounters::Add(counters_->output_limit_closes, 1);
  Close(Status::TooLarge(std::to_string(pending_output()) + " bytes of replies unsent, over the limit of " +
                         std::to_string(limit) + " per connection (the peer is not reading)"),
        LogLevel::kWarn);
  return false;
}

void Connection::SendFrame(uint8_t opcode, uint8_t flags, uint32_t request_id, std::string_view body) {
  AppendFrame(&out_, opcode, flags, request_id, body);
  ConnectionCounters::Add(counters_->frames_out, 1);
  OutputAdded();
}

void Connection::FlushFromList() {
  in_flush_list_ = false;
  if (input_pending_) {
    input_pending_ = false;
    ProcessInput();  // its replies leave with this flush
    if (closed_) return;
  }
  Flush();
}

bool Connection::Flush() {
  if (closed_) return false;
  if (connecting_) return true;
  if (pending_output() == 0) {
    if (lingering_) MaybeShutdownWrite();
    return true;
  }
  ssize_t n = WriteSocket(out_.data() + out_sent_, pending_output());
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      Close(SocketFailure("write"), tls_ != nullptr ? LogLevel::kWarn : LogLevel::kInfo);
      return false;
    }
    n = 0;
  }
  out_sent_ += static_cast<size_t>(n);
  ConnectionCounters::Add(counters_->bytes_out, static_cast<uint64_t>(n));
  if (n > 0) last_active_us_ = loop_->now_us();
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
    if (out_.capacity() > kKeepOutputCapacity) std::string().swap(out_);
    want_write_ = false;
  } else {
    want_write_ = !tls_write_wants_read_;  // else the socket is writable already: wait to read
    // Drop the written prefix once it is the larger part (amortized O(1) per byte).
    if (out_sent_ > out_.size() / 2) {
      out_.erase(0, out_sent_);
      out_sent_ = 0;
    }
  }
  SyncOutputAccounting();
  UpdateInterest();
  if (lingering_) {
    MaybeShutdownWrite();
  } else {
    UpdateFlow(/*handle_input_now=*/true);
  }
  return !closed_;
}

void Connection::SyncOutputAccounting() {
  size_t pending = pending_output();
  if (pending >= out_accounted_) {
    ConnectionCounters::Add(counters_->output_buffered, pending - out_accounted_);
  } else {
    ConnectionCounters::Sub(counters_->output_buffered, out_accounted_ - pending);
  }
  out_accounted_ = pending;
}

// --- state -----------------------------------------------------------------------------

void Connection::FinishConnect() {
  Status s = SocketError(fd_.get(), "connect");
  if (!s.ok()) {
    Close(s);
    return;
  }
  connecting_ = false;
  last_active_us_ = loop_->now_us();
  UpdateInterest();
  delegate_->OnConnected(this);
  if (!closed_) Flush();
}

void Connection::UpdateInterest() {
  if (closed_ || !started_) return;
  uint32_t interest = 0;
  if (connecting_) {
    interest = kWritable;
  } else if (lingering_) {
    interest = kReadable | (want_write_ ? kWritable : 0);  // keep draining the peer's input
  } else {
    if ((reading_ && !paused_) || tls_write_wants_read_) interest |= kReadable;
    if (want_write_ || tls_read_wants_write_) interest |= kWritable;
  }
  if (interest == interest_) return;
  interest_ = interest;
  Status s = loop_->SetInterest(fd_.get(), interest);
  if (!s.ok()) Close(s);
}

void Connection::Close(const Status& reason, LogLevel level) {
  if (closed_) return;
  LogClose(reason, level);
  CloseNow(reason);
}

void Connection::CloseAfterFlush(const Status& reason, LogLevel level) {
  if (closed_ || lingering_) return;
  LogClose(reason, level);
  lingering_ = true;
  linger_reason_ = reason;
  if (paused_) {
    paused_ = false;
    ConnectionCounters::Sub(counters_->paused_now, 1);
  }
  in_.Consume(in_.size());  // unparsed input is discarded from here on
  in_.Shrink();             // and a large frame's storage goes now, not after the linger
  SyncInputAccounting();
  linger_timer_ = loop_->RunAfter(options_.linger_ms * 1000, [this] {
    linger_timer_ = kNoTimer;
    CloseNow(linger_reason_);
  });
  UpdateInterest();
  Flush();  // and shuts down the write side once the output is out
}

void Connection::MaybeShutdownWrite() {
  if (write_shut_ || closed_ || pending_output() > 0) return;
  write_shut_ = true;
  if (tls_ != nullptr) tls_->Shutdown();  // close_notify, then the TCP half-close
  ::shutdown(fd_.get(), SHUT_WR);  // the peer reads our last reply, then EOF
}

void Connection::DiscardInput() {
  for (int i = 0; i < 4 && !closed_; ++i) {
    char* scratch = in_.PrepareWrite(kMinReadBytes);
    ssize_t n = ::read(fd_.get(), scratch, in_.writable());
    if (n > 0) {
      discarded_ += static_cast<size_t>(n);
      if (discarded_ > options_.linger_bytes) CloseNow(linger_reason_);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    CloseNow(linger_reason_);  // EOF or an error: the peer is done
  }
}

void Connection::LogClose(const Status& reason, LogLevel level) const {
  base::Logger* logger = loop_->logger();
  if (logger != nullptr && logger->Enabled(level)) {
    logger->Log(level, "net: closing connection #%llu (%s): %s", static_cast<unsigned long long>(id_),
                name_.c_str(), reason.ToString().c_str());
  }
}

void Connection::CloseNow(const Status& reason) {
  if (closed_) return;
  closed_ = true;
  loop_->CancelTimer(linger_timer_);
  linger_timer_ = kNoTimer;
  if (in_flush_list_) {
    flush_list_->Remove(this);
    in_flush_list_ = false;
  }
  if (started_) loop_->Unwatch(fd_.get());
  fd_.Reset();
  ReleaseAccounting();
  delegate_->OnClose(this, reason);
}

// Drops the output and the input and takes them (and a pause) out of the counters.
void Connection::ReleaseAccounting() {
  out_.clear();
  out_sent_ = 0;
  SyncOutputAccounting();
  in_.Consume(in_.size());
  SyncInputAccounting();
  if (paused_) {
    paused_ = false;
    ConnectionCounters::Sub(counters_->paused_now, 1);
  }
}

}  // namespace kvring::net
