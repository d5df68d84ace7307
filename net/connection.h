// net/connection.h — one framed TCP connection on an event loop, used by both the
// server (accepted sockets) and the RPC client (outgoing sockets).
//
// Input: one read() per readable wake-up into a reusable Buffer (read again only when
// the read filled the buffer without completing a frame), then every complete frame
// in the buffer goes to the delegate. Output: frames are appended to one reusable
// string and leave with a single write() per wake-up from the loop's FlushList.
//
// Backpressure: while more than high_water_bytes of output are unsent, the
// connection stops parsing frames and stops reading the socket; it resumes once the
// backlog falls under low_water_bytes. So a peer that sends requests but never reads
// replies holds at most about high_water_bytes (+ one batch of replies) of memory.
//
// A malformed frame (length under the header size or over max_frame_bytes) closes the
// connection; with reply_to_bad_frames an error reply naming the problem is sent first.
//
// Lingering close (CloseAfterFlush): closing a socket whose peer is still sending
// makes the kernel answer with a reset, and a reset can destroy the error reply the
// peer has not read yet. So a connection closed for a protocol error first flushes
// its output, then shuts down its write side (the peer reads the reply, then EOF),
// then discards input until the peer closes, linger_bytes were discarded or
// linger_ms passed, and only then closes the socket.
//
// Lifetime: after Close() the delegate's OnClose runs; the owner must not destroy the
// Connection inside a delegate callback (defer it, e.g. with EventLoop::QueueInLoop).
// Thread safety: loop thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/logging.h"
#include "base/status.h"
#include "net/buffer.h"
#include "net/event_loop.h"
#include "net/protocol.h"
#include "net/socket.h"

namespace kvring::net {

class Connection;
class FlushList;

struct ConnectionOptions {
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t high_water_bytes = 1u << 20;   // stop reading above this much unsent output
  size_t low_water_bytes = 256u << 10;  // resume below this
  size_t initial_buffer_bytes = 16u << 10;
  bool reply_to_bad_frames = false;  // answer a malformed frame before closing (the Server sets it)
  uint64_t linger_ms = 2000;           // lingering close: longest wait for the peer's EOF
  size_t linger_bytes = 64u << 20;     // lingering close: most input discarded
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

  // --- input ---
  // Stops (or restarts) reading and parsing, independently of backpressure. Used to
  // drain a connection during a graceful stop.
  void SetReading(bool enabled);
  bool paused() const { return paused_; }

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
  size_t BytesWantedForFrame() const;
  void ProcessInput();
  void HandleBadFrame(const base::Status& error);
  void FinishConnect();
  void UpdateInterest();
  void SyncOutputAccounting();
  void MaybeResume();
  void LogClose(const base::Status& reason, base::LogLevel level) const;
  void CloseNow(const base::Status& reason);
  void DiscardInput();
  void MaybeShutdownWrite();

  EventLoop* const loop_;
  UniqueFd fd_;
  const uint64_t id_;
  const std::string name_;
  const ConnectionOptions options_;
  ConnectionDelegate* const delegate_;
  FlushList* const flush_list_;
  ConnectionCounters* const counters_;

  Buffer in_;
  std::string out_;
  size_t out_sent_ = 0;       // bytes at the front of out_ already written
  size_t out_accounted_ = 0;  // pending bytes included in counters_->output_buffered

  uint32_t interest_ = 0;
  bool connecting_;
  bool closed_ = false;
  bool started_ = false;
  bool reading_ = true;       // SetReading
  bool paused_ = false;       // backpressure
  bool want_write_ = false;   // the last write was partial: wait for EPOLLOUT
  bool in_flush_list_ = false;
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
