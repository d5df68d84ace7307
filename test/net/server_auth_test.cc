// The cluster handshake (docs/protocol.md section 6.1) over real loopback sockets:
// a server with a cluster secret takes node peers only once they proved they hold
// it, names itself only to them, and reads nothing else from a peer before; both
// clients (blocking and RPC) run the handshake and refuse a server that cannot
// prove it holds the secret.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "net/blocking_client.h"
#include "net/hello_auth.h"
#include "net/loop_thread.h"
#include "net/rpc_client.h"
#include "net/server.h"
#include "test/net/raw_socket.h"
#include "test/net/test_handler.h"

namespace kvring::net {
namespace {

using base::Status;
using testing::RawSocket;
using testing::TestServer;

constexpr uint8_t kPing = static_cast<uint8_t>(Opcode::kPing);
const ClusterSecret kSecret = ClusterSecret::FromMaterial("the cluster secret, 32 bytes....");
const ClusterSecret kOtherSecret = ClusterSecret::FromMaterial("another cluster's secret, 32 b..");

ServerOptions WithSecret(const ClusterSecret* secret) {
  ServerOptions o;
  o.secret = secret;
  return o;
}

BlockingClientOptions Node(const ClusterSecret* secret, std::string id = "n2") {
  return BlockingClientOptions{.cluster = "kvring", .id = std::move(id), .role = PeerRole::kNode, .secret = secret};
}

TEST(ServerAuthTest, ANodeWithTheSecretIsAcceptedAndLearnsWhoTheServerIs) {
  TestServer ts(WithSecret(&kSecret));
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient node(Node(&kSecret));
  Status s = node.Connect(ts.address(), 2000);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ("test-node", node.server_node_id());
  EXPECT_EQ("kvring", node.server_cluster());
  auto reply = node.Call(kPing, "hi", 2000);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ("hi", *reply);
}

TEST(ServerAuthTest, ANodeWithoutTheSecretIsRefusedBeforeAnythingElseIsRead) {
  TestServer ts(WithSecret(&kSecret));
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient node(Node(nullptr));
  Status s = node.Connect(ts.address(), 2000);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsPermissionDenied()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("--secret-file")) << s.ToString();
  EXPECT_EQ(0u, ts.handler()->requests());
}

TEST(ServerAuthTest, ANodeWithAnotherSecretRefusesTheServerAndTheServerRefusesItsProof) {
  TestServer ts(WithSecret(&kSecret));
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient node(Node(&kOtherSecret));
  Status s = node.Connect(ts.address(), 2000);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsPermissionDenied()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("proof does not match")) << s.ToString();
  // The server's own check: a raw peer answers the challenge with a made-up proof.
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  std::string hello;
  EncodeHello(&hello, HelloRequest{kProtocolVersion, PeerRole::kNode, "kvring", "liar", std::string(16, 'n')});
  std::string frame;
  AppendFrame(&frame, static_cast<uint8_t>(Opcode::kHello), 0, 0, hello);
  ASSERT_TRUE(raw.Write(frame));
  auto challenge = raw.ReadReply(2000);
  ASSERT_TRUE(challenge.ok() && challenge->status.ok()) << challenge.status().ToString();
  HelloReply info;
  ASSERT_TRUE(DecodeHelloReply(challenge->payload, &info));
  EXPECT_EQ("", info.cluster) << "the challenge names nothing";
  EXPECT_EQ("", info.node_id);
  EXPECT_EQ(kHelloNonceBytes + kHelloProofBytes, info.challenge.size());
  std::string auth;
  EncodeAuth(&auth, std::string(32, 'p'));
  frame.clear();
  AppendFrame(&frame, static_cast<uint8_t>(Opcode::kAuth), 0, 0, auth);
  ASSERT_TRUE(raw.Write(frame));
  auto refused = raw.ReadReply(2000);
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->status.IsPermissionDenied()) << refused->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(2000));
  EXPECT_EQ(0u, ts.handler()->requests());
}

TEST(ServerAuthTest, AnyFrameButAuthAfterTheChallengeIsRefusedAndNeverHandled) {
  TestServer ts(WithSecret(&kSecret));
  ASSERT_TRUE(ts.Start().ok());
  RawSocket raw;
  ASSERT_TRUE(raw.Connect(ts.port()));
  std::string hello, frames;
  EncodeHello(&hello, HelloRequest{kProtocolVersion, PeerRole::kNode, "kvring", "eager", std::string(16, 'n')});
  AppendFrame(&frames, static_cast<uint8_t>(Opcode::kHello), 0, 0, hello);
  AppendFrame(&frames, kPing, 0, 1, "sent before proving anything");
  ASSERT_TRUE(raw.Write(frames));
  auto challenge = raw.ReadReply(2000);
  ASSERT_TRUE(challenge.ok() && challenge->status.ok());
  auto refused = raw.ReadReply(2000);
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->status.IsPermissionDenied()) << refused->status.ToString();
  EXPECT_NE(std::string::npos, refused->status.message().find("expected AUTH")) << refused->status.ToString();
  EXPECT_TRUE(raw.WaitForClose(2000));
  EXPECT_EQ(0u, ts.handler()->requests());
}

TEST(ServerAuthTest, ClientsAreServedAsBeforeAndAMismatchedClusterIsNotNamed) {
  TestServer ts(WithSecret(&kSecret));
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient client;
  ASSERT_TRUE(client.Connect(ts.address(), 2000).ok());
  EXPECT_TRUE(client.Call(kPing, "x", 2000).ok());
  BlockingClient stranger(BlockingClientOptions{.cluster = "guess", .id = "c"});
  Status s = stranger.Connect(ts.address(), 2000);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(std::string::npos, s.message().find("'kvring'")) << s.ToString();
}

TEST(ServerAuthTest, ANodeWithASecretRefusesAServerWithoutOne) {
  TestServer ts;  // no secret: it cannot prove anything
  ASSERT_TRUE(ts.Start().ok());
  BlockingClient node(Node(&kSecret));
  Status s = node.Connect(ts.address(), 2000);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsPermissionDenied()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("did not prove")) << s.ToString();
}

// The RPC client holds calls made while it authenticates and sends them after AUTH.
TEST(ServerAuthTest, RpcCallsMadeDuringTheHandshakeAreSentOnceItSucceeds) {
  TestServer ts(WithSecret(&kSecret));
  ASSERT_TRUE(ts.Start().ok());
  auto thread = LoopThread::Start("auth-test");
  ASSERT_TRUE(thread.ok());
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  {
    RpcClientOptions o;
    o.cluster = "kvring";
    o.id = "n2";
    o.role = PeerRole::kNode;
    o.secret = &kSecret;
    RpcClient client((*thread)->loop(), o);
    for (int i = 0; i < 20; ++i) {
      client.Call(ts.address(), kPing, "p" + std::to_string(i), 2000, [&, i](const Status& s, std::string_view p) {
        std::lock_guard<std::mutex> lock(mu);
        ok += s.ok() && p == "p" + std::to_string(i);
        ++done;
        cv.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == 20; });
  }
  EXPECT_EQ(20, ok);
  (*thread)->Stop();
}

}  // namespace
}  // namespace kvring::net
