// The server's bounds per connection (issue 11), over real loopback sockets with
// the test handler: requests in flight and deferred replies counted by flow
// control, the limit on unsent replies, frames that never complete (a stalled
// sender, a slowloris), the handshake timeout, the frame size before HELLO, and
// the budget for unfinished frames of all connections together.
#include "net/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/logging.h"
#include "net/blocking_client.h"
#include "test/net/raw_socket.h"
#include "test/net/test_handler.h"

namespace kvring::net {
namespace {

using base::Status;
using testing::Fixed32Body;
using testing::RawSocket;
using testing::TestServer;
using testing::WaitUntil;

constexpr uint8_t kPing = static_cast<uint8_t>(Opcode::kPing);

// Keeps every log line, for tests that check what a close was logged with.
class CapturingLogger : public base::Logger {
 public:
  CapturingLogger() : Logger(2, "test", base::LogLevel::kInfo) {}
  bool Saw(const std::string& part) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& line : lines_) {
      if (line.find(part) != std::string::npos) return true;
    }
    return false;
  }

 protected:
  void Write(const std::string& line) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(line);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

uint64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count());
}

std::string Frames(uint8_t opcode, int count, std::string_view body = "") {
  std::string out;
  for (int i = 1; i <= count; ++i) AppendFrame(&out, opcode, 0, static_cast<uint32_t>(i), body);
  return out;
}

bool Connected(RawSocket* raw, uint16_t port, PeerRole role = PeerRole::kClient) {
  return raw->Connect(port) && raw->SendHello(kProtocolVersion, role, "kvring", "raw") && raw->ReadReply(3000).ok();
}

// A round trip on another connection: once it is answered, the loop has finished
// with whatever the other connections had sent before it.
void RoundTripOnAnotherConnection(TestServer* ts) {
  BlockingClient other;
  ASSERT_TRUE(other.Connect(ts->address(), 2000).ok());
  ASSERT_TRUE(other.Call(kPing, "", 2000).ok());
}

// Answers the held kNever requests until `total` replies were read on raw.
void AnswerAndRead(TestServer* ts, RawSocket* raw, size_t total) {
  size_t read = 0;
  const auto start = std::chrono::steady_clock::now();
  while (read < total && ElapsedMs(start) < 10'000) {
    ASSERT_TRUE(WaitUntil([&] { return ts->server()->stats().requests_inflight > 0; }));
    const size_t answered = ts->handler()->AnswerNever();
    for (size_t i = 0; i < answered; ++i) {
      auto reply = raw->ReadReply(3000);
      ASSERT_TRUE(reply.ok()) << read << ": " << reply.status().ToString();
      ASSERT_TRUE(reply->status.ok()) << reply->status.ToString();
      ++read;
    }
  }
  EXPECT_EQ(read, total);
}

TEST(ServerLimitsTest, AFreshClientHasSixteenRequestsInFlightUntilItsRepliesShowTheirSize) {
  TestServer ts;  // high-water mark 1 MiB: each unknown reply is charged 64 KiB
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(Connected(&raw, ts.port()));
  ASSERT_TRUE(raw.Write(Frames(testing::kNever, 100)));
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().requests_inflight == 16; }));
  RoundTripOnAnotherConnection(&ts);
  EXPECT_EQ(ts.server()->stats().requests_inflight, 16u);
  EXPECT_EQ(ts.server()->stats().connections_paused, 1u);
  // Small replies lower the estimate: every request is read and answered in the end.
  AnswerAndRead(&ts, &raw, 100);
  EXPECT_EQ(ts.server()->stats().connections_paused, 0u);
}

TEST(ServerLimitsTest, AfterALargeDeferredReplyFewerRequestsAreLetInFlight) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(Connected(&raw, ts.port()));
  std::string big;
  AppendFrame(&big, testing::kBigLater, 0, 1, Fixed32Body(300 << 10));
  ASSERT_TRUE(raw.Write(big));
  auto reply = raw.ReadReply(3000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_EQ(reply->payload.size(), 300u << 10);
  // Each request in flight is now charged ~300 KiB against the 1 MiB mark: the
  // fourth one pauses the connection.
  ASSERT_TRUE(raw.Write(Frames(testing::kNever, 20)));
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().requests_inflight == 4; }));
  RoundTripOnAnotherConnection(&ts);
  EXPECT_EQ(ts.server()->stats().requests_inflight, 4u);
  AnswerAndRead(&ts, &raw, 20);
}

TEST(ServerLimitsTest, ANodePeerIsHeldAtTheInflightLimitAndResumedWhenRepliesDrain) {
  ServerOptions o;
  o.max_inflight_per_connection = 50;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  RawSocket peer;
  ASSERT_TRUE(Connected(&peer, ts.port(), PeerRole::kNode));  // nodes are not charged an estimate
  ASSERT_TRUE(peer.Write(Frames(testing::kNever, 120)));
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().requests_inflight == 50; }));
  RoundTripOnAnotherConnection(&ts);
  EXPECT_EQ(ts.server()->stats().requests_inflight, 50u);
  EXPECT_EQ(ts.server()->stats().connections_paused, 1u);
  AnswerAndRead(&ts, &peer, 120);
}

TEST(ServerLimitsTest, AConnectionOwingMoreThanTheLimitOfUnsentRepliesIsClosedWithALoggedReason) {
  CapturingLogger logger;
  ServerOptions o;
  o.max_unsent_reply_bytes = 2 << 20;
  o.logger = &logger;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  RawSocket hog;
  ASSERT_TRUE(Connected(&hog, ts.port()));
  // 16 deferred replies of 1 MiB (then the connection is paused) for a client that never reads.
  ASSERT_TRUE(hog.Write(Frames(testing::kBigLater, 64, Fixed32Body(1 << 20))));
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().output_limit_closes == 1; }, 5000));
  EXPECT_TRUE(hog.WaitForClose(3000));
  EXPECT_TRUE(logger.Saw("bytes of replies unsent, over the limit of 2097152 per connection")) << "not logged";
  EXPECT_TRUE(WaitUntil([&] { return ts.server()->stats().output_buffered_bytes == 0; }));
  BlockingClient good;
  ASSERT_TRUE(good.Connect(ts.address(), 2000).ok());
  EXPECT_TRUE(good.Call(kPing, "still here", 2000).ok());
}

TEST(ServerLimitsTest, AFrameIncompleteAtTheFrameTimeoutIsAnsweredAndTheConnectionClosed) {
  ServerOptions o;
  o.frame_timeout_ms = 300;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  RawSocket stalled;
  ASSERT_TRUE(Connected(&stalled, ts.port()));
  std::string frame;
  AppendFrame(&frame, testing::kEcho, 0, 7, std::string(1000, 'x'));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(stalled.Write(frame.substr(0, 500)));
  auto reply = stalled.ReadReply(5000);
  const uint64_t took_ms = ElapsedMs(start);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(reply->status.IsTimedOut()) << reply->status.ToString();
  EXPECT_EQ(reply->request_id, 7u);
  EXPECT_NE(reply->status.message().find("frame incomplete after 300ms: 500 of 1010 bytes received"),
            std::string::npos)
      << reply->status.ToString();
  EXPECT_GE(took_ms, 300u);
  EXPECT_LT(took_ms, 2000u);
  EXPECT_TRUE(stalled.WaitForClose(3000));
  EXPECT_EQ(ts.server()->stats().frame_timeouts, 1u);
}

TEST(ServerLimitsTest, ASlowlorisThatKeepsSendingIsClosedAtTheFrameTimeoutWhileOthersAreServed) {
  ServerOptions o;
  o.frame_timeout_ms = 300;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  RawSocket slow;
  ASSERT_TRUE(Connected(&slow, ts.port()));
  std::string frame;
  AppendFrame(&frame, testing::kEcho, 0, 1, std::string(1000, 'x'));
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::thread sender([&] {
    for (char byte : frame) {  // one byte every 10 ms: never idle, never done (10 s)
      if (stop.load() || !slow.Write(std::string_view(&byte, 1))) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  // Stops and joins the sender on every way out (a failed ASSERT returns early).
  auto stop_sender = [&] {
    stop = true;
    if (sender.joinable()) sender.join();
  };
  struct Joiner {
    std::function<void()> fn;
    ~Joiner() { fn(); }
  } joiner{stop_sender};
  BlockingClient good;
  ASSERT_TRUE(good.Connect(ts.address(), 2000).ok());
  int served = 0;
  while (ts.server()->stats().frame_timeouts == 0 && ElapsedMs(start) < 5000) {
    ASSERT_TRUE(good.Call(kPing, "ok", 2000).ok());
    ++served;
  }
  const uint64_t took_ms = ElapsedMs(start);
  stop_sender();
  EXPECT_EQ(ts.server()->stats().frame_timeouts, 1u);
  EXPECT_GE(took_ms, 300u);
  EXPECT_LT(took_ms, 2000u);
  EXPECT_GT(served, 0);
  EXPECT_TRUE(slow.WaitForClose(3000));
}

TEST(ServerLimitsTest, TheFrameTimeoutDoesNotRunWhileTheServerIsNotReadingTheConnection) {
  ServerOptions o;
  o.frame_timeout_ms = 200;
  o.max_inflight_per_connection = 1;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  RawSocket held;
  ASSERT_TRUE(Connected(&held, ts.port()));
  std::string echo;
  AppendFrame(&echo, testing::kEcho, 0, 2, "finally");
  // A request that holds the connection (1 in flight), then half a frame behind it.
  std::string bytes;
  AppendFrame(&bytes, testing::kNever, 0, 1, "");
  ASSERT_TRUE(held.Write(bytes + echo.substr(0, 8)));
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().requests_inflight == 1; }));
  // A second connection stalls mid-frame after that; once it has timed out, the
  // held connection's half frame is older than the timeout too.
  RawSocket control;
  ASSERT_TRUE(Connected(&control, ts.port()));
  ASSERT_TRUE(control.Write(echo.substr(0, 8)));
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().frame_timeouts == 1; }));
  EXPECT_TRUE(control.WaitForClose(3000));
  // The held connection was not reading: it is still open, and finishes its frame.
  ASSERT_EQ(ts.handler()->AnswerNever(), 1u);
  auto first = held.ReadReply(3000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->request_id, 1u);
  ASSERT_TRUE(held.Write(echo.substr(8)));
  auto second = held.ReadReply(3000);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->payload, "finally");
  EXPECT_EQ(ts.server()->stats().frame_timeouts, 1u);
}

TEST(ServerLimitsTest, AConnectionThatNeverSendsHelloIsToldAndClosedAtTheHandshakeTimeout) {
  ServerOptions o;
  o.hello_timeout_ms = 200;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient quiet;  // said HELLO, then nothing: not a handshake problem
  ASSERT_TRUE(quiet.Connect(ts.address(), 2000).ok());
  RawSocket silent, half;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(silent.Connect(ts.port()));
  ASSERT_TRUE(half.Connect(ts.port()));
  std::string hello;
  HelloRequest h;
  std::string body;
  EncodeHello(&body, h);
  AppendFrame(&hello, static_cast<uint8_t>(Opcode::kHello), 0, 0, body);
  ASSERT_TRUE(half.Write(hello.substr(0, 5)));
  for (RawSocket* raw : {&silent, &half}) {
    auto reply = raw->ReadReply(5000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_EQ(reply->opcode, static_cast<uint8_t>(Opcode::kHello));
    EXPECT_EQ(reply->request_id, 0u);
    EXPECT_TRUE(reply->status.IsTimedOut()) << reply->status.ToString();
    EXPECT_NE(reply->status.message().find("no HELLO within 200ms"), std::string::npos) << reply->status.ToString();
    EXPECT_TRUE(raw->WaitForClose(3000));
  }
  const uint64_t took_ms = ElapsedMs(start);
  EXPECT_GE(took_ms, 200u);
  EXPECT_LT(took_ms, 2000u);
  EXPECT_EQ(ts.server()->stats().hello_timeouts, 2u);
  EXPECT_TRUE(quiet.Call(kPing, "", 2000).ok());
}

TEST(ServerLimitsTest, AFrameOverFourKibibytesBeforeHelloIsRefusedAndLargeFramesWorkAfterIt) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  std::string frame;
  AppendFrame(&frame, static_cast<uint8_t>(Opcode::kHello), 0, 0, std::string(5000, 'h'));
  ASSERT_TRUE(raw.Write(frame.substr(0, 4)));  // the length alone is refused
  auto reply = raw.ReadReply(3000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(reply->status.IsTooLarge()) << reply->status.ToString();
  EXPECT_NE(reply->status.message().find("frame of 5006 bytes exceeds the maximum of 4096 before HELLO"),
            std::string::npos)
      << reply->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(3000));
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  auto echo = client.Call(testing::kEcho, std::string(100 << 10, 'e'), 3000);
  ASSERT_TRUE(echo.ok()) << echo.status().ToString();
  EXPECT_EQ(echo->size(), 100u << 10);
}

TEST(ServerLimitsTest, UnfinishedFramesOverTheBudgetDropTheConnectionHoldingTheMost) {
  ServerOptions o;
  o.max_partial_frame_bytes = 1 << 20;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  auto echo_frame = [](size_t body_bytes) {
    std::string frame;
    AppendFrame(&frame, testing::kEcho, 0, 9, std::string(body_bytes, 'p'));
    return frame;
  };
  const std::string big = echo_frame(900 << 10), mid = echo_frame(400 << 10), small = echo_frame(300 << 10);
  RawSocket a, b, c;
  ASSERT_TRUE(Connected(&a, ts.port()));
  ASSERT_TRUE(Connected(&b, ts.port()));
  ASSERT_TRUE(Connected(&c, ts.port()));
  auto held = [&] { return ts.server()->stats().input_buffered_bytes; };
  ASSERT_TRUE(a.Write(big.substr(0, 600 << 10)));
  ASSERT_TRUE(WaitUntil([&] { return held() == 600u << 10; }));
  ASSERT_TRUE(b.Write(mid.substr(0, 300 << 10)));
  ASSERT_TRUE(WaitUntil([&] { return held() == 900u << 10; }));
  ASSERT_TRUE(c.Write(small.substr(0, 200 << 10)));  // 1.1 MiB in all: over the budget
  auto dropped = a.ReadReply(3000);
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_TRUE(dropped->status.IsBusy()) << dropped->status.ToString();
  EXPECT_NE(dropped->status.message().find("dropping the connection holding the most (614400 of 921610 bytes)"),
            std::string::npos)
      << dropped->status.ToString();
  EXPECT_TRUE(a.WaitForClose(3000));
  EXPECT_EQ(ts.server()->stats().input_budget_closes, 1u);
  EXPECT_TRUE(WaitUntil([&] { return held() == 500u << 10; })) << held();
  // The others keep their frames (together within the budget) and are answered
  // once they finish them.
  ASSERT_TRUE(b.Write(mid.substr(300 << 10)));
  ASSERT_TRUE(c.Write(small.substr(200 << 10)));
  for (auto [raw, body_bytes] : {std::pair{&b, size_t{400} << 10}, std::pair{&c, size_t{300} << 10}}) {
    auto reply = raw->ReadReply(3000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_TRUE(reply->status.ok()) << reply->status.ToString();
    EXPECT_EQ(reply->payload.size(), body_bytes);
  }
  EXPECT_EQ(held(), 0u);
  EXPECT_EQ(ts.server()->stats().input_budget_closes, 1u);
}

}  // namespace
}  // namespace kvring::net
