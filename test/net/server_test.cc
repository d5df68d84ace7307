// Server tests over real loopback sockets with a test handler: HELLO rules,
// synchronous and deferred replies, pipelining with out-of-order replies, many
// connections, limits, idle timeouts, backpressure and graceful shutdown.
#include "net/server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "base/random.h"
#include "net/blocking_client.h"
#include "test/net/raw_socket.h"
#include "test/net/test_handler.h"
#include "test/util/test_util.h"

namespace kvring::net {
namespace {

using base::Status;
using testing::DelayedBody;
using testing::Fixed32Body;
using testing::RawSocket;
using testing::TestServer;
using testing::WaitUntil;

constexpr uint8_t kPing = static_cast<uint8_t>(Opcode::kPing);

TEST(ServerTest, PingEchoesItsBodyAndHelloReplyNamesTheNode) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  EXPECT_EQ(client.server_node_id(), "test-node");
  EXPECT_EQ(client.server_cluster(), "kvring");
  auto reply = client.Call(kPing, "hello", 2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "hello");
}

TEST(ServerTest, StartFailsWithAClearErrorWhenThePortIsTaken) {
  TestServer first;
  ASSERT_TRUE(first.Start().ok());
  ServerOptions o;
  o.listen = first.address();
  testing::TestHandler handler;
  Server second(o, &handler);
  Status s = second.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("listen on " + first.address()), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.ToString();
}

TEST(ServerTest, BadListenAddressIsRejected) {
  ServerOptions o;
  o.listen = "nonsense";
  testing::TestHandler handler;
  Server server(o, &handler);
  Status s = server.Start();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("nonsense"), std::string::npos);
}

TEST(ServerTest, VersionMismatchIsRejectedNamingBothVersionsAndCloses) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  ASSERT_TRUE(raw.SendHello(7, PeerRole::kClient, "", "old-client"));
  auto reply = raw.ReadReply(2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->opcode, static_cast<uint8_t>(Opcode::kHello));
  EXPECT_TRUE(reply->status.IsInvalidArgument());
  EXPECT_NE(reply->status.message().find("version 7"), std::string::npos) << reply->status.ToString();
  EXPECT_NE(reply->status.message().find("versions 1 to " + std::to_string(kProtocolVersion)), std::string::npos) << reply->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(2000));
  EXPECT_GE(ts.server()->stats().protocol_errors, 1u);
}

TEST(ServerTest, VersionOneClientIsAcceptedAndAnsweredInVersionOne) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  ASSERT_TRUE(raw.SendHello(kMinProtocolVersion, PeerRole::kClient, "", "old-client"));
  auto reply = raw.ReadReply(2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(reply->status.ok()) << reply->status.ToString();
  HelloReply hello;
  ASSERT_TRUE(DecodeHelloReply(reply->payload, &hello));
  EXPECT_EQ(hello.version, kMinProtocolVersion);  // the version the server chose for this connection
}

TEST(ServerTest, NodePeerSpeakingAnOlderVersionIsRefused) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  ASSERT_TRUE(raw.SendHello(kMinProtocolVersion, PeerRole::kNode, "kvring", "old-node"));
  auto reply = raw.ReadReply(2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_TRUE(reply->status.IsInvalidArgument());
  EXPECT_NE(reply->status.message().find("node peers must speak version " + std::to_string(kProtocolVersion)), std::string::npos)
      << reply->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(2000));
}

TEST(ServerTest, ClusterMismatchIsRejectedNamingBothClusters) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client({.cluster = "staging", .id = "c1"});
  Status s = client.Connect(ts.address(), 2000);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("'staging'"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("'kvring'"), std::string::npos) << s.ToString();
  EXPECT_FALSE(client.connected());
}

TEST(ServerTest, ClientMayOmitTheClusterButANodeMustNameIt) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client({.cluster = "", .id = "kvctl"});
  EXPECT_TRUE(client.Connect(ts.address(), 2000).ok());
  BlockingClient node({.cluster = "", .id = "n2", .role = PeerRole::kNode});
  Status s = node.Connect(ts.address(), 2000);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  BlockingClient good_node({.cluster = "kvring", .id = "n2", .role = PeerRole::kNode});
  ASSERT_TRUE(good_node.Connect(ts.address(), 2000).ok());
  auto who = good_node.Call(testing::kWhoAmI, "", 2000);
  ASSERT_TRUE(who.ok());
  EXPECT_NE(who->find(" node n2"), std::string::npos) << *who;
}

TEST(ServerTest, FirstFrameOtherThanHelloIsRejectedAndCloses) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  std::string frame;
  AppendFrame(&frame, kPing, 0, 5, "x");
  ASSERT_TRUE(raw.Write(frame));
  auto reply = raw.ReadReply(2000);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->request_id, 5u);
  EXPECT_NE(reply->status.message().find("expected HELLO"), std::string::npos) << reply->status.ToString();
  EXPECT_NE(reply->status.message().find("PING"), std::string::npos) << reply->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(2000));
  EXPECT_EQ(ts.handler()->requests(), 0u);
}

TEST(ServerTest, ReplyFrameFromAClientIsAProtocolError) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  ASSERT_TRUE(raw.SendHello(kProtocolVersion, PeerRole::kClient, "", "c"));
  ASSERT_TRUE(raw.ReadReply(2000).ok());
  std::string frame;
  AppendFrame(&frame, kPing, kFlagReply, 3, "");
  ASSERT_TRUE(raw.Write(frame));
  auto reply = raw.ReadReply(2000);
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->status.IsInvalidArgument()) << reply->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(2000));
}

TEST(ServerTest, UnknownOpcodeAndUnansweredRequestsGetErrorReplies) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  auto unknown = client.Call(0x7f, "", 2000);
  EXPECT_TRUE(unknown.status().code() == Status::Code::kNotSupported) << unknown.status().ToString();
  auto unanswered = client.Call(testing::kNoAnswer, "", 2000);
  EXPECT_TRUE(unanswered.status().IsAborted()) << unanswered.status().ToString();
  // The connection is still fine afterwards.
  EXPECT_TRUE(client.Call(kPing, "still here", 2000).ok());
}

TEST(ServerTest, DeferredReplyFromAnotherThreadArrives) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  auto reply = client.Call(testing::kDeferThread, DelayedBody(20, "later"), 2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "later");
}

TEST(ServerTest, ThousandPipelinedRequestsOnOneConnectionAllGetTheirOwnRepliesOutOfOrder) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  base::Random rnd(test::TestSeed("ThousandPipelinedRequests"));
  std::map<uint32_t, std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    std::string tag = "req-" + std::to_string(i);
    uint32_t id;
    switch (rnd.Uniform(3)) {
      case 0: id = client.Send(testing::kEcho, tag); break;  // answered at once
      case 1: id = client.Send(testing::kDeferTimer, DelayedBody(static_cast<uint32_t>(rnd.Uniform(30)), tag)); break;
      default: id = client.Send(testing::kDeferThread, DelayedBody(static_cast<uint32_t>(rnd.Uniform(30)), tag)); break;
    }
    expected[id] = tag;
  }
  std::vector<uint32_t> arrival;
  for (int i = 0; i < 1000; ++i) {
    auto reply = client.Receive(5000);
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    ASSERT_TRUE(reply->status.ok());
    auto it = expected.find(reply->request_id);
    ASSERT_NE(it, expected.end()) << "unexpected or duplicate id " << reply->request_id;
    EXPECT_EQ(reply->payload, it->second);
    expected.erase(it);
    arrival.push_back(reply->request_id);
  }
  EXPECT_TRUE(expected.empty());
  EXPECT_FALSE(std::is_sorted(arrival.begin(), arrival.end())) << "replies should overtake each other";
}

TEST(ServerTest, HundredConcurrentConnectionsAreAllServed) {
  ServerOptions o;
  o.loops = 2;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  constexpr int kThreads = 10, kClientsPerThread = 10, kCalls = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<BlockingClient>> clients;
      for (int c = 0; c < kClientsPerThread; ++c) {
        clients.push_back(std::make_unique<BlockingClient>(BlockingClientOptions{.id = "c" + std::to_string(t)}));
        if (!clients.back()->Connect(ts.address(), 5000).ok()) return;
      }
      for (int i = 0; i < kCalls; ++i) {
        for (auto& client : clients) {
          std::string body = std::to_string(t) + "/" + std::to_string(i);
          auto reply = client->Call(testing::kEcho, body, 5000);
          if (reply.ok() && *reply == body) ok.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kClientsPerThread * kCalls);
  ServerStats stats = ts.server()->stats();
  EXPECT_EQ(stats.connections_total, static_cast<uint64_t>(kThreads * kClientsPerThread));
  EXPECT_EQ(stats.frames_in, static_cast<uint64_t>(kThreads * kClientsPerThread * (kCalls + 1)));  // + HELLO
  EXPECT_EQ(ts.handler()->distinct_threads(), 2u) << "both loops should have served connections";
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().connections_current == 0; }));
}

TEST(ServerTest, ClientDisconnectingMidFrameLeavesTheServerServingOthers) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  for (int i = 0; i < 10; ++i) {
    RawSocket raw;
    ASSERT_TRUE(raw.Connect(ts.port()));
    ASSERT_TRUE(raw.SendHello(kProtocolVersion, PeerRole::kClient, "", "quitter"));
    std::string frame;
    AppendFrame(&frame, testing::kEcho, 0, 1, std::string(1000, 'q'));
    ASSERT_TRUE(raw.Write(std::string_view(frame).substr(0, 1 + i * 97)));  // part of a frame
    raw.Close();
  }
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  EXPECT_TRUE(client.Call(kPing, "ok", 2000).ok());
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().connections_current == 1; }));
}

TEST(ServerTest, OversizedFrameGetsAnErrorReplyNamingTheLimitAndCloses) {
  ServerOptions o;
  o.connection.max_frame_bytes = 4096;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  auto reply = client.Call(testing::kEcho, std::string(10000, 'x'), 2000);
  ASSERT_FALSE(reply.ok());
  EXPECT_TRUE(reply.status().IsTooLarge()) << reply.status().ToString();
  EXPECT_NE(reply.status().message().find("4096"), std::string::npos) << reply.status().ToString();
  // The server closed this connection; a new one works.
  EXPECT_FALSE(client.Call(kPing, "", 500).ok());
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  EXPECT_TRUE(client.Call(kPing, "", 2000).ok());
}

// The server stops reading at the bad header, so most of this frame is still unread
// when it closes: a plain close() would reset the connection and could destroy the
// reply. The lingering close must deliver it, every time.
TEST(ServerTest, FrameFarOverTheLimitStillGetsItsErrorReplyNotAReset) {
  ServerOptions o;
  o.connection.max_frame_bytes = 16 << 10;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  for (int i = 0; i < 20; ++i) {
    BlockingClient client;
    ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
    auto reply = client.Call(testing::kEcho, std::string(1 << 20, 'x'), 5000);
    ASSERT_TRUE(reply.status().IsTooLarge()) << i << ": " << reply.status().ToString();
    EXPECT_NE(reply.status().message().find("16384"), std::string::npos) << reply.status().ToString();
  }
  EXPECT_EQ(ts.server()->stats().protocol_errors, 20u);
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().connections_current == 0; }));
}

TEST(ServerTest, RejectedHelloIsDeliveredEvenWithRequestsQueuedBehindIt) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  for (int i = 0; i < 20; ++i) {
    RawSocket raw;
    ASSERT_TRUE(raw.Connect(ts.port()));
    HelloRequest h;
    h.cluster = "wrong";
    std::string body, bytes;
    EncodeHello(&body, h);
    AppendFrame(&bytes, static_cast<uint8_t>(Opcode::kHello), 0, 0, body);
    AppendFrame(&bytes, testing::kEcho, 0, 1, std::string(1 << 20, 'p'));  // pipelined behind HELLO
    std::thread writer([&] { raw.Write(bytes); });
    auto reply = raw.ReadReply(5000);
    writer.join();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    EXPECT_NE(reply->status.message().find("cluster name mismatch"), std::string::npos) << reply->status.ToString();
    EXPECT_TRUE(raw.WaitForClose(3000));
  }
}

TEST(ServerTest, ConnectionsOverTheLimitAreRefusedWithBusy) {
  ServerOptions o;
  o.max_connections = 2;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient a, b, c;
  ASSERT_TRUE(a.Connect(ts.address(), 2000).ok());
  ASSERT_TRUE(b.Connect(ts.address(), 2000).ok());
  Status s = c.Connect(ts.address(), 2000);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find("too many connections"), std::string::npos) << s.ToString();
  EXPECT_EQ(ts.server()->stats().connections_refused, 1u);
  a.Close();
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().connections_current == 1; }));
  EXPECT_TRUE(c.Connect(ts.address(), 2000).ok());
}

TEST(ServerTest, IdleConnectionIsClosedAfterTheIdleTimeout) {
  ServerOptions o;
  o.idle_timeout_ms = 100;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient idle, busy;
  ASSERT_TRUE(idle.Connect(ts.address(), 2000).ok());
  ASSERT_TRUE(busy.Connect(ts.address(), 2000).ok());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(busy.Call(kPing, "", 2000).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto reply = idle.Call(kPing, "", 1000);
  EXPECT_TRUE(reply.status().IsUnavailable()) << reply.status().ToString();
  EXPECT_TRUE(busy.Call(kPing, "", 2000).ok());
}

TEST(ServerTest, ConnectionWithADeferredRequestIsNotIdle) {
  ServerOptions o;
  o.idle_timeout_ms = 50;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  auto reply = client.Call(testing::kDeferThread, DelayedBody(300, "slow"), 3000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, "slow");
}

// A client that sends many requests with big replies and never reads: the server
// stops reading from it, so its buffered output stays near the high-water mark
// instead of growing with the number of requests.
TEST(ServerTest, ClientThatNeverReadsDoesNotGrowServerMemoryWithoutBound) {
  ServerOptions o;
  o.connection.high_water_bytes = 256 << 10;
  o.connection.low_water_bytes = 64 << 10;
  TestServer ts(o);
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  ASSERT_TRUE(raw.SendHello(kProtocolVersion, PeerRole::kClient, "", "hog"));
  ASSERT_TRUE(raw.ReadReply(2000).ok());
  constexpr uint32_t kReplyBytes = 64 << 10;
  constexpr int kRequests = 2000;  // 2000 x 64 KiB = 125 MiB of replies if nobody stopped it
  std::string one;
  AppendFrame(&one, testing::kBig, 0, 1, Fixed32Body(kReplyBytes));
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    std::string batch;
    for (int i = 0; i < kRequests; ++i) batch += one;
    raw.Write(batch);  // blocks once the server stops reading; ends when we drain below
    writing = false;
  });
  uint64_t max_buffered = 0;
  for (int i = 0; i < 300; ++i) {
    max_buffered = std::max(max_buffered, ts.server()->stats().output_buffered_bytes);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  uint64_t answered_while_stuck = ts.handler()->requests();
  EXPECT_LT(answered_while_stuck, static_cast<uint64_t>(kRequests));
  EXPECT_LE(max_buffered, o.connection.high_water_bytes + kReplyBytes + 1024);
  EXPECT_GE(ts.server()->stats().backpressure_pauses, 1u);
  // Drain: every request is answered in the end.
  for (int i = 0; i < kRequests; ++i) {
    auto reply = raw.ReadReply(5000);
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    ASSERT_EQ(reply->payload.size(), kReplyBytes);
  }
  writer.join();
  EXPECT_EQ(ts.handler()->requests(), static_cast<uint64_t>(kRequests));
}

TEST(ServerTest, ReplyToAClosedConnectionIsSilentlyDropped) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  {
    BlockingClient client;
    ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
    client.Send(testing::kNever, "");
    ASSERT_TRUE(client.Flush(2000).ok());
    ASSERT_TRUE(WaitUntil([&] { return ts.handler()->requests() == 1; }));
  }
  ASSERT_TRUE(WaitUntil([&] { return ts.server()->stats().connections_current == 0; }));
  uint64_t frames_out = ts.server()->stats().frames_out;
  ts.handler()->AnswerNever();
  BlockingClient other;
  ASSERT_TRUE(other.Connect(ts.address(), 2000).ok());
  EXPECT_TRUE(other.Call(kPing, "", 2000).ok());
  EXPECT_EQ(ts.server()->stats().frames_out, frames_out + 2);  // HELLO + PING replies only
}

TEST(ServerTest, ResponderUsedAfterTheServerStoppedIsANoOp) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  client.Send(testing::kNever, "");
  ASSERT_TRUE(client.Flush(2000).ok());
  ASSERT_TRUE(WaitUntil([&] { return ts.handler()->requests() == 1; }));
  ts.Stop(0);
  ts.handler()->AnswerNever();  // must not crash or touch freed state
  auto reply = client.Receive(500);
  EXPECT_TRUE(reply.status().IsUnavailable()) << reply.status().ToString();
}

TEST(ServerTest, GracefulShutdownLetsDeferredRequestsFinish) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  uint32_t id = client.Send(testing::kDeferThread, DelayedBody(100, "finished"));
  ASSERT_TRUE(client.Flush(2000).ok());
  ASSERT_TRUE(WaitUntil([&] { return ts.handler()->requests() == 1; }));
  std::thread stopper([&] { ts.Stop(3000); });
  auto reply = client.Receive(3000);
  stopper.join();
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->request_id, id);
  EXPECT_EQ(reply->payload, "finished");
  // And then the server is gone.
  BlockingClient late;
  EXPECT_FALSE(late.Connect(ts.address(), 500).ok());
}

TEST(ServerTest, GracefulShutdownGivesUpAfterTheDrainTimeout) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  client.Send(testing::kNever, "");
  ASSERT_TRUE(client.Flush(2000).ok());
  ASSERT_TRUE(WaitUntil([&] { return ts.handler()->requests() == 1; }));
  auto start = std::chrono::steady_clock::now();
  ts.Stop(100);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(100));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_TRUE(client.Receive(1000).status().IsUnavailable());
}

TEST(ServerTest, StatsCountFramesBytesAndConnections) {
  TestServer ts;
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client.Call(kPing, "12345", 2000).ok());
  ServerStats s = ts.server()->stats();
  EXPECT_EQ(s.connections_current, 1u);
  EXPECT_EQ(s.connections_total, 1u);
  EXPECT_EQ(s.frames_in, 11u);
  EXPECT_EQ(s.frames_out, 11u);
  EXPECT_GE(s.bytes_in, 10u * (kFrameHeaderBytes + 5));
  EXPECT_GE(s.bytes_out, 10u * (kFrameHeaderBytes + 6));
  EXPECT_EQ(s.protocol_errors, 0u);
  std::string text = s.ToString();
  EXPECT_NE(text.find("frames_in 11\n"), std::string::npos) << text;
  EXPECT_NE(text.find("connections_current 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace kvring::net
