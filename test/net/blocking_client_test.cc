// BlockingClient: connect errors, calls, pipelining, timeouts, lost connections,
// and a server whose HELLO reply names another protocol version (a fake server).
#include "net/blocking_client.h"

#include <gtest/gtest.h>
#include <map>
#include <thread>

#include "net/socket.h"
#include "test/net/raw_socket.h"
#include "test/net/test_handler.h"
#include "test/util/test_util.h"

namespace kvring::net {
namespace {

using base::Status;
using testing::DelayedBody;
using testing::TestServer;

constexpr uint8_t kPing = static_cast<uint8_t>(Opcode::kPing);

TEST(BlockingClientTest, ConnectToAClosedPortFailsNamingTheAddress) {
  std::string address = "127.0.0.1:" + std::to_string(test::PickFreePort());
  BlockingClient client;
  Status s = client.Connect(address, 1000);
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_NE(s.message().find(address), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("refused"), std::string::npos) << s.ToString();
  EXPECT_FALSE(client.connected());
  EXPECT_TRUE(client.Call(kPing, "", 100).status().IsUnavailable());
}

TEST(BlockingClientTest, MalformedAddressIsInvalidArgument) {
  BlockingClient client;
  for (const char* bad : {"localhost", "127.0.0.1:", "127.0.0.1:70000", "example.com:80", ":80", "[::1"}) {
    Status s = client.Connect(bad, 100);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad << ": " << s.ToString();
    EXPECT_NE(s.message().find(bad), std::string::npos) << s.ToString();
  }
}

TEST(BlockingClientTest, PipelinedRequestsAreAllAnsweredAndMatchedById) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  std::map<uint32_t, std::string> sent;
  for (int i = 0; i < 100; ++i) {
    std::string body = "b" + std::to_string(i);
    sent[client.Send(i % 2 ? testing::kEcho : testing::kDeferThread, i % 2 ? body : DelayedBody(5, body))] = body;
  }
  for (int i = 0; i < 100; ++i) {
    auto reply = client.Receive(5000);
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(sent.count(reply->request_id), 1u);
    EXPECT_EQ(reply->payload, sent[reply->request_id]);
    sent.erase(reply->request_id);
  }
  EXPECT_TRUE(client.Call(kPing, "after pipelining", 2000).ok());
}

TEST(BlockingClientTest, CallTimesOutNamingTheAddressAndALateReplyIsSkipped) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  auto slow = client.Call(testing::kDeferThread, DelayedBody(200, "slow"), 50);
  ASSERT_TRUE(slow.status().IsTimedOut()) << slow.status().ToString();
  EXPECT_EQ(slow.status().message(), "request to " + ts.address() + " timed out after 50ms");
  // The slow reply arrives while this call waits; it must not be taken for ours.
  auto next = client.Call(testing::kDeferThread, DelayedBody(300, "mine"), 2000);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, "mine");
}

TEST(BlockingClientTest, ServerGoingAwayIsReportedAsALostConnection) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  client.Send(testing::kNever, "");
  ASSERT_TRUE(client.Flush(1000).ok());
  ts.Stop(0);
  auto reply = client.Receive(2000);
  ASSERT_TRUE(reply.status().IsUnavailable()) << reply.status().ToString();
  EXPECT_EQ(reply.status().message().rfind("connection to " + ts.address() + " lost", 0), 0u)
      << reply.status().ToString();
  EXPECT_FALSE(client.connected());
}

TEST(BlockingClientTest, SourceAddressIsUsedForTheConnection) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client({.id = "src", .source_address = "127.0.0.3"});
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  auto who = client.Call(testing::kWhoAmI, "", 2000);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->rfind("127.0.0.3:", 0), 0u) << *who;
}

TEST(BlockingClientTest, HelloReplyWithAnotherProtocolVersionIsRefused) {
  std::string payload, frame;
  AppendStatus(&payload, Status::OK());
  EncodeHelloReply(&payload, HelloReply{kProtocolVersion + 1, "kvring", "future-node"});
  AppendFrame(&frame, static_cast<uint8_t>(Opcode::kHello), kFlagReply, 0, payload);
  testing::OneShotServer fake(frame);
  BlockingClient client;
  Status s = client.Connect(fake.address(), 2000);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_NE(s.message().find("version " + std::to_string(kProtocolVersion + 1)), std::string::npos) << s.ToString();
  EXPECT_FALSE(client.connected());
}

TEST(BlockingClientTest, GarbageFromTheServerIsCorruptionNotACrash) {
  testing::OneShotServer fake(std::string("\x03\x00\x00\x00garbage", 10));  // length 3 < header
  BlockingClient client;
  Status s = client.Connect(fake.address(), 2000);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

}  // namespace
}  // namespace kvring::net
