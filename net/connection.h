// net/connection.h — one framed TCP connection on an event loop, used by both the
// server (accepted sockets) and the RPC client (outgoing sockets).
//
// Input: one read() per readable wake-up into a reusable Buffer (read again only when
// the read filled the buffer without completing a frame), then every complete frame
// in the buffer goes to the delegate. Output: frames are appended to one reusable
// string and leave with a single write() per wake-up from the loop's FlushList.
//
// Backpressure: the connection owes its unsent output plus what its owner expects
// to owe (SetExpectedOutput: the server's deferred replies, still waiting on disk or
// on other replicas). While that passes high_water_bytes, or while the owner holds
// input, the connection stops parsing frames and stops reading the socket; it
// resumes once it owes less than low_water_bytes and is not held. Past
// max_output_bytes of unsent output it is closed (the peer is not reading).
//
// A malformed frame (length under the header size or over the frame limit) closes the
// connection; with reply_to_bad_frames an error reply naming the problem is sent first.
// The owner may lower the frame limit (SetMaxFrameBytes: 4 KiB until HELLO) and may
// give up on input it will not wait for (RejectInput: a frame that takes too long).
//
// Input held: the bytes read but not handled yet (in practice an unfinished frame)
// are counted in ConnectionCounters::input_buffered; when that total passes
// input_budget_bytes, the delegate's OnInputOverBudget picks a connection to drop.
//
// Lingering close (CloseAfterFlush): closing a socket whose peer is still sending
// makes the kernel answer with a reset, and a reset can destroy the error reply the
// peer has not read yet. So a connection closed for a protocol error first flushes
// its output, then shuts down its write side (the peer reads the reply, then EOF),
// then discards input until the peer closes, linger_bytes were discarded or
// linger_ms passed, and only then closes the socket.
//
// TLS (ConnectionOptions::tls): the same, through a TlsStream over the socket
// (net/tls.h); the handshake runs inside the first reads and writes, bounded by
// the owner's HELLO timeout. A TLS read that needs the socket writable (or a
// write that needs it readable) waits for that event instead of the usual one, so
// the loop neither spins nor stalls; a read drains what OpenSSL already read
// ahead (epoll cannot see it). Counters count the bytes inside TLS. A TLS error closes
// the connection, logged at warning with the peer and OpenSSL's reason. A server
// whose peer's first byte is not a TLS handshake record answers that plain-text
// peer with a plain error reply ("this port requires TLS") and closes: no frame of
// it is delivered.
//
// Lifetime: after Close() the delegate's OnClose runs; the owner must not destroy the
// Connection inside a delegate callback (defer it, e.g. with EventLoop::QueueInLoop).
// Thread safety: loop thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/logging.h"
#include "base/status.h"
#include "net/buffer.h"
#include "net/event_loop.h"
#include "net/protocol.h"
#include "net/socket.h"
#include "net/tls.h"

namespace kvring::net {

class Connection;
class FlushList;

struct ConnectionOptions {
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t high_water_bytes = 1u << 20;   // stop reading while owing more than this (unsent + expected)
  size_t low_water_bytes = 256u << 10;  // resume below this
  size_t max_output_bytes = 0;          // close when more output than this is unsent; 0 = no limit
  size_t input_budget_bytes = 0;        // OnInputOverBudget past this much input held by all
                                        // connections sharing the counters; 0 = no budget
  size_t initial_buffer_bytes = 16u << 10;
  bool reply_to_bad_frames = false;  // answer a malformed frame before closing (the Server sets it)
  uint64_t linger_ms = 2000;           // lingering close: longest wait for the peer's EOF
  size_t linger_bytes = 64u << 20;     // lingering close: most input discarded
  // TLS over the socket: a server context for accepted sockets, a client context
  // for outgoing ones. Null: plain TCP. Must outlive the connection.
  const TlsContext* tls = nullptr;
};

// Counters shared by the connections of one loop. Single writer (the loop thread,
// plain load+store, no locked instructions); any thread may read them.
struct ConnectionCounters {
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> frames_in{0};
  std::atomic<uint64_t> frames_out{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> output_buffered{0};  // unsent output bytes, all connections
  std::atomic<uint64_t> paused{0};           // times a connection hit the high-water mark
  std::atomic<uint64_t> paused_now{0};       // connections not reading right now (flow control)
  std::atomic<uint64_t> input_buffered{0};   // bytes read, not handled yet (unfinished frames)
  std::atomic<uint64_t> output_limit_closes{0};  // closed over max_output_bytes

  static void Add(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void Sub(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
};

class ConnectionDelegate {
 public:
  virtual ~ConnectionDelegate() = default;
  // One complete frame; frame.body views the input buffer until OnFrame returns.
  virtual void OnFrame(Connection* conn, const Frame& frame) = 0;
  // The connection closed; its fd is already closed. reason says why.
  virtual void OnClose(Connection* conn, const base::Status& reason) = 0;
  // An outgoing connect completed (connections created with connecting = true).
  virtual void OnConnected(Connection* /*conn*/) {}
  // The input held by the connections sharing conn's counters passed
  // input_budget_bytes (conn has just read). The delegate may reject some input.
  virtual void OnInputOverBudget(Connection* /*conn*/) {}
};

class Connection final : public FdHandler {
 public:
  // name: the peer for log lines and errors ("127.0.0.1:5123"). connecting: fd is an
  // outgoing socket whose non-blocking connect is in progress.
  Connection(EventLoop* loop, UniqueFd fd, uint64_t id, std::string name, const ConnectionOptions& options,
             ConnectionDelegate* delegate, FlushList* flush_list, ConnectionCounters* counters,
             bool connecting = false);
  ~Connection() override;  // closes the fd without calling the delegate
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts watching the fd.
  base::Status Start();

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  bool closed() const { return closed_; }
  bool connecting() const { return connecting_; }
  uint64_t last_active_us() const { return last_active_us_; }
  EventLoop* loop() const { return loop_; }

  // --- output ---
  // Append complete frames to *output(), then call OutputAdded().
  std::string* output() { return &out_; }
  // Schedules a flush before the loop sleeps and applies backpressure.
  void OutputAdded();
  // Appends one frame and calls OutputAdded().
  void SendFrame(uint8_t opcode, uint8_t flags, uint32_t request_id, std::string_view body);
  size_t pending_output() const { return out_.size() - out_sent_; }
  // Writes pending output now (one write()). False when the connection closed.
  bool Flush();

  // --- flow control ---
  // What the owner expects to append later (deferred replies), counted with the
  // unsent output against the high- and low-water marks, and whether to hold input
  // whatever the bytes (too many requests in flight).
  void SetExpectedOutput(size_t bytes, bool hold);
  // Unsent output plus expected output.
  size_t owed() const { return pending_output() + expected_output_; }

  // --- input ---
  // Stops (or restarts) reading and parsing, independently of backpressure. Used to
  // drain a connection during a graceful stop.
  void SetReading(bool enabled);
  bool paused() const { return paused_; }
  // Frames longer than max_bytes are refused from now on; `why` is added to the
  // error ("before HELLO"). REQUIRES: max_bytes <= ConnectionOptions::max_frame_bytes.
  void SetMaxFrameBytes(uint32_t max_bytes, std::string why = "");
  uint32_t max_frame_bytes() const { return max_frame_bytes_; }
  // Bytes read but not handled yet.
  size_t input_buffered() const { return in_.size(); }
  // When the unfinished frame at the front of the input started to arrive, while
  // the connection is reading; 0 when there is none or the connection is paused.
  uint64_t partial_frame_since_us() const;
  // "15728640 of 16777220 bytes" (or "3 bytes" before the length is known).
  std::string DescribePartialFrame() const;
  // Gives up on the input: with reply_to_bad_frames, an error reply echoing what
  // arrived of the header at the front of the input, then a lingering close.
  void RejectInput(const base::Status& why, base::LogLevel level = base::LogLevel::kInfo);

  // Closes now: unwatches and closes the fd, logs reason at `level`, then calls the
  // delegate's OnClose. Unsent output is dropped. No-op when already closed.
  void Close(const base::Status& reason, base::LogLevel level = base::LogLevel::kInfo);
  // Lingering close (see above): logs reason now; no more frames are delivered; the
  // delegate's OnClose runs when the socket is finally closed.
  void CloseAfterFlush(const base::Status& reason, base::LogLevel level = base::LogLevel::kInfo);
  bool lingering() const { return lingering_; }

  // Owner's per-connection state.
  void set_context(void* context) { context_ = context; }
  void* context() const { return context_; }

  void OnFdEvents(uint32_t events) override;
  // Called by FlushList.
  void FlushFromList();

 private:
  void HandleReadable(uint32_t events);
  bool ReadOnce(bool* eof);
  ssize_t ReadSocket(char* dst, size_t len);
  ssize_t WriteSocket(const char* src, size_t len);
  base::Status SocketFailure(const char* op) const;
  bool SniffTls();
  bool TlsBuffered() const { return tls_ != nullptr && tls_->buffered(); }
  size_t BytesWantedForFrame() const;
  void ProcessInput();
  void HandleBadFrame(const base::Status& error);
  void AppendReplyToFront(const base::Status& error);
  void ReleaseAccounting();
  void FinishConnect();
  void UpdateInterest();
  void SyncOutputAccounting();
  void UpdateFlow(bool handle_input_now);
  bool OverHighWater() const;
  void Pause();
  void Resume(bool handle_input_now);
  void NotePartialFrame(bool consumed_any);
  void SyncInputAccounting();
  bool CheckOutputLimit();
  void LogClose(const base::Status& reason, base::LogLevel level) const;
  void CloseNow(const base::Status& reason);
  void DiscardInput();
  void MaybeShutdownWrite();

  EventLoop* const loop_;
  UniqueFd fd_;
  const uint64_t id_;
  const std::string name_;
  const ConnectionOptions options_;
  uint32_t max_frame_bytes_;       // SetMaxFrameBytes
  std::string frame_limit_why_;
  ConnectionDelegate* const delegate_;
  FlushList* const flush_list_;
  ConnectionCounters* const counters_;

  std::unique_ptr<TlsStream> tls_;  // null: plain TCP
  bool tls_read_wants_write_ = false;  // the last TLS read waits for the socket to be writable
  bool tls_write_wants_read_ = false;  // the last TLS write waits for it to be readable
  bool tls_sniffed_ = false;           // a server saw the peer's first byte
  bool plain_on_tls_port_ = false;     // ... and it was not TLS: refuse the peer
  Buffer in_;
  std::string out_;
  size_t out_sent_ = 0;       // bytes at the front of out_ already written
  size_t out_accounted_ = 0;  // pending bytes included in counters_->output_buffered
  size_t in_accounted_ = 0;   // input bytes included in counters_->input_buffered
  size_t expected_output_ = 0;  // SetExpectedOutput
  uint64_t partial_since_us_ = 0;  // the unfinished frame at the front began to arrive

  uint32_t interest_ = 0;
  bool connecting_;
  bool closed_ = false;
  bool started_ = false;
  bool reading_ = true;       // SetReading
  bool paused_ = false;       // backpressure
  bool held_ = false;         // SetExpectedOutput(..., hold)
  bool want_write_ = false;   // the last write was partial: wait for EPOLLOUT
  bool in_flush_list_ = false;
  bool input_pending_ = false;  // resumed with frames buffered: handle them from the flush hook
  bool in_process_input_ = false;
  bool lingering_ = false;
  bool write_shut_ = false;
  size_t discarded_ = 0;
  TimerId linger_timer_ = kNoTimer;
  base::Status linger_reason_;
  uint64_t last_active_us_;
  void* context_ = nullptr;
};

}  // namespace kvring::net
