// Connection over a socketpair: framing across reads, large frames, malformed
// frames, backpressure, and a half-closed peer. The test plays the peer with plain
// blocking reads and writes on the other end.
#include "net/connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "net/flush_list.h"
#include "net/loop_thread.h"
#include "test/net/test_handler.h"

namespace kvring::net {
namespace {

using base::Status;
using testing::WaitUntil;

struct Seen {
  uint8_t opcode;
  uint32_t request_id;
  std::string body;
};

// Records frames; replies to each with reply_bytes of payload when reply_bytes > 0.
class RecordingDelegate : public ConnectionDelegate {
 public:
  void OnFrame(Connection* conn, const Frame& frame) override {
    std::lock_guard<std::mutex> lock(mu);
    frames.push_back({frame.opcode, frame.request_id, std::string(frame.body)});
    if (reply_bytes > 0) {
      std::string* out = conn->output();
      size_t start = BeginFrame(out, frame.opcode, kFlagReply, frame.request_id);
      AppendStatus(out, Status::OK());
      out->append(reply_bytes, 'r');
      FinishFrame(out, start);
      conn->OutputAdded();
    }
  }
  void OnClose(Connection*, const Status& reason) override {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    close_reason = reason;
  }
  size_t frame_count() {
    std::lock_guard<std::mutex> lock(mu);
    return frames.size();
  }
  bool is_closed() {
    std::lock_guard<std::mutex> lock(mu);
    return closed;
  }

  std::mutex mu;
  std::vector<Seen> frames;
  bool closed = false;
  Status close_reason;
  size_t reply_bytes = 0;
};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = LoopThread::Start("conn-test");
    ASSERT_TRUE(t.ok());
    thread_ = std::move(t.value());
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    peer_ = fds[1];
    ours_ = fds[0];
  }

  void Open(const ConnectionOptions& options) {
    loop()->RunSync([&] {
      ASSERT_TRUE(SetNonBlocking(ours_, true).ok());
      flush_ = std::make_unique<FlushList>(loop());
      conn_ = std::make_unique<Connection>(loop(), UniqueFd(ours_), 1, "peer", options, &delegate_, flush_.get(),
                                           &counters_);
      ASSERT_TRUE(conn_->Start().ok());
    });
  }

  void TearDown() override {
    loop()->RunSync([&] {
      conn_.reset();
      flush_.reset();
    });
    thread_->Stop();
    if (peer_ >= 0) ::close(peer_);
  }

  EventLoop* loop() { return thread_->loop(); }

  void WriteAll(std::string_view bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::write(peer_, bytes.data() + off, bytes.size() - off);
      ASSERT_GT(n, 0);
      off += static_cast<size_t>(n);
    }
  }

  // Reads one frame from the peer end (blocking).
  bool ReadFrame(std::string* buf, Frame* frame) {
    while (true) {
      size_t consumed;
      Status error;
      if (!buf->empty() && consumed_ > 0) {
        buf->erase(0, consumed_);
        consumed_ = 0;
      }
      if (ParseFrame(buf->data(), buf->size(), kDefaultMaxFrameBytes, frame, &consumed, &error) == ParseResult::kFrame) {
        consumed_ = consumed;
        return true;
      }
      char tmp[65536];
      ssize_t n = ::read(peer_, tmp, sizeof(tmp));
      if (n <= 0) return false;
      buf->append(tmp, static_cast<size_t>(n));
    }
  }

  std::unique_ptr<LoopThread> thread_;
  std::unique_ptr<FlushList> flush_;
  std::unique_ptr<Connection> conn_;
  ConnectionCounters counters_;
  RecordingDelegate delegate_;
  int peer_ = -1;
  int ours_ = -1;
  size_t consumed_ = 0;
};

TEST_F(ConnectionTest, FrameSplitByteByByteArrivesAsOneFrame) {
  Open({});
  std::string frame;
  AppendFrame(&frame, 0x10, 0, 99, "split me into single bytes");
  for (size_t i = 0; i < frame.size(); ++i) {
    WriteAll(frame.substr(i, 1));
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    if (i + 1 < frame.size()) {
      ASSERT_EQ(delegate_.frame_count(), 0u) << "a frame surfaced after " << i + 1 << " bytes";
    }
  }
  ASSERT_TRUE(WaitUntil([&] { return delegate_.frame_count() == 1; }));
  EXPECT_EQ(delegate_.frames[0].request_id, 99u);
  EXPECT_EQ(delegate_.frames[0].body, "split me into single bytes");
}

TEST_F(ConnectionTest, ManyFramesInOneWriteAreAllDeliveredInOrder) {
  Open({});
  std::string bytes;
  for (uint32_t i = 0; i < 500; ++i) AppendFrame(&bytes, 0x11, 0, 1000 - i, std::string(i % 37, 'a'));
  WriteAll(bytes);
  ASSERT_TRUE(WaitUntil([&] { return delegate_.frame_count() == 500; }));
  for (uint32_t i = 0; i < 500; ++i) {
    EXPECT_EQ(delegate_.frames[i].request_id, 1000 - i);
    EXPECT_EQ(delegate_.frames[i].body.size(), i % 37);
  }
  EXPECT_EQ(counters_.frames_in.load(), 500u);
  EXPECT_EQ(counters_.bytes_in.load(), bytes.size());
}

TEST_F(ConnectionTest, LargeFrameGrowsTheBufferAndArrivesIntact) {
  Open({});
  std::string body(4 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 + 7);
  std::string bytes;
  AppendFrame(&bytes, 0x11, 0, 5, body);
  AppendFrame(&bytes, 0x02, 0, 6, "after");
  std::thread writer([&] { WriteAll(bytes); });
  ASSERT_TRUE(WaitUntil([&] { return delegate_.frame_count() == 2; }, 10000));
  writer.join();
  EXPECT_TRUE(delegate_.frames[0].body == body);
  EXPECT_EQ(delegate_.frames[1].body, "after");
}

TEST_F(ConnectionTest, OversizedFrameGetsAnErrorReplyAndTheConnectionCloses) {
  ConnectionOptions options;
  options.max_frame_bytes = 1024;
  options.reply_to_bad_frames = true;
  Open(options);
  std::string header;
  base::PutFixed32(&header, 5000);
  header.push_back(0x11);
  header.push_back(0);
  base::PutFixed32(&header, 9);
  WriteAll(header);
  std::string buf;
  Frame reply;
  ASSERT_TRUE(ReadFrame(&buf, &reply));
  EXPECT_EQ(reply.opcode, 0x11);
  EXPECT_EQ(reply.request_id, 9u);
  EXPECT_TRUE(reply.is_reply());
  Status s;
  std::string_view payload;
  ASSERT_TRUE(ParseReplyStatus(reply.body, &s, &payload).ok());
  EXPECT_TRUE(s.IsTooLarge());
  EXPECT_NE(s.message().find("5000"), std::string::npos) << s.ToString();
  Frame none;
  EXPECT_FALSE(ReadFrame(&buf, &none));  // then EOF: our write side was shut down
  // Lingering: the socket stays open, discarding input, until the peer closes too
  // (well before the 2 s linger deadline).
  EXPECT_FALSE(delegate_.is_closed());
  WriteAll("more bytes from a peer that has not noticed yet");
  ::close(peer_);
  peer_ = -1;
  ASSERT_TRUE(WaitUntil([&] { return delegate_.is_closed(); }, 1000));
  EXPECT_TRUE(delegate_.close_reason.IsTooLarge());
  EXPECT_EQ(counters_.protocol_errors.load(), 1u);
  EXPECT_EQ(delegate_.frame_count(), 0u);
}

TEST_F(ConnectionTest, LingeringCloseGivesUpAfterTheLingerTime) {
  ConnectionOptions options;
  options.max_frame_bytes = 1024;
  options.reply_to_bad_frames = true;
  options.linger_ms = 50;
  Open(options);
  std::string header;
  base::PutFixed32(&header, 5000);
  WriteAll(header);
  // The peer never closes: the connection must close on its own after linger_ms.
  ASSERT_TRUE(WaitUntil([&] { return delegate_.is_closed(); }, 1000));
  EXPECT_TRUE(delegate_.close_reason.IsTooLarge());
}

TEST_F(ConnectionTest, PeerThatNeverReadsIsPausedAtTheHighWaterMarkAndResumedWhenDrained) {
  ConnectionOptions options;
  options.high_water_bytes = 64 << 10;
  options.low_water_bytes = 16 << 10;
  Open(options);
  delegate_.reply_bytes = 8 << 10;
  // Shrink the kernel buffers so the backlog lands in our output buffer quickly.
  int small = 16 << 10;
  ::setsockopt(peer_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  loop()->RunSync([&] { ::setsockopt(ours_, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)); });
  const int kRequests = 400;  // 400 x 8 KiB = 3.2 MiB of replies
  std::string bytes;
  for (int i = 0; i < kRequests; ++i) AppendFrame(&bytes, 0x10, 0, static_cast<uint32_t>(i), "get");
  WriteAll(bytes);
  ASSERT_TRUE(WaitUntil([&] {
    bool paused = false;
    loop()->RunSync([&] { paused = conn_->paused(); });
    return paused;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  size_t pending = 0;
  loop()->RunSync([&] { pending = conn_->pending_output(); });
  EXPECT_LE(pending, options.high_water_bytes + delegate_.reply_bytes + 64);
  EXPECT_LT(delegate_.frame_count(), static_cast<size_t>(kRequests));
  EXPECT_LE(counters_.output_buffered.load(), options.high_water_bytes + delegate_.reply_bytes + 64);

  // Now drain everything: every request gets its reply, in order.
  std::string buf;
  for (int i = 0; i < kRequests; ++i) {
    Frame reply;
    ASSERT_TRUE(ReadFrame(&buf, &reply)) << i;
    ASSERT_EQ(reply.request_id, static_cast<uint32_t>(i));
    ASSERT_EQ(reply.body.size(), 1 + delegate_.reply_bytes);
  }
  EXPECT_EQ(delegate_.frame_count(), static_cast<size_t>(kRequests));
  EXPECT_GE(counters_.paused.load(), 1u);
  ASSERT_TRUE(WaitUntil([&] { return counters_.output_buffered.load() == 0; }));
}

TEST_F(ConnectionTest, HalfClosedPeerStillGetsRepliesToItsLastRequests) {
  Open({});
  delegate_.reply_bytes = 10;
  std::string bytes;
  for (uint32_t i = 1; i <= 3; ++i) AppendFrame(&bytes, 0x10, 0, i, "k");
  WriteAll(bytes);
  ASSERT_EQ(::shutdown(peer_, SHUT_WR), 0);
  std::string buf;
  for (uint32_t i = 1; i <= 3; ++i) {
    Frame reply;
    ASSERT_TRUE(ReadFrame(&buf, &reply));
    EXPECT_EQ(reply.request_id, i);
  }
  Frame none;
  EXPECT_FALSE(ReadFrame(&buf, &none));
  ASSERT_TRUE(WaitUntil([&] { return delegate_.is_closed(); }));
}

TEST_F(ConnectionTest, PeerHangingUpWhilePausedIsNoticed) {
  ConnectionOptions options;
  options.high_water_bytes = 1024;
  options.low_water_bytes = 512;
  Open(options);
  delegate_.reply_bytes = 4096;
  int small = 4096;
  loop()->RunSync([&] { ::setsockopt(ours_, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)); });
  std::string bytes;
  for (uint32_t i = 0; i < 200; ++i) AppendFrame(&bytes, 0x10, 0, i, "k");
  WriteAll(bytes);
  ASSERT_TRUE(WaitUntil([&] {
    bool paused = false;
    loop()->RunSync([&] { paused = conn_->paused(); });
    return paused;
  }));
  ::close(peer_);
  peer_ = -1;
  ASSERT_TRUE(WaitUntil([&] { return delegate_.is_closed(); }));
}

}  // namespace
}  // namespace kvring::net
