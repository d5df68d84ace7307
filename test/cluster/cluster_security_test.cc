// The outsider scenario of issue 11 on a 3-node cluster of real kvnode processes
// with a cluster secret: a connection that knows the cluster name but not the
// secret cannot say HELLO as a node, a client connection cannot send node-only
// messages, a node with another secret never joins, and the ring and the members
// files are unchanged afterwards while the cluster keeps serving.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "net/blocking_client.h"
#include "repl/gossip.h"
#include "repl/member_state.h"
#include "repl/messages.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr uint64_t kWaitMs = 10'000;

std::string WriteSecret(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::trunc) << content << "\n";
  EXPECT_EQ(0, ::chmod(path.c_str(), 0600));
  return path;
}

// The member ids a node's DATA/members file lists.
std::set<std::string> MembersFile(const std::string& data_dir) {
  std::ifstream in(data_dir + "/" + repl::kMembersFileName, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto states = repl::DecodeMembersFile(bytes.str());
  EXPECT_TRUE(states.ok()) << states.status().ToString();
  std::set<std::string> out;
  if (states.ok()) {
    for (const auto& m : *states) out.insert(m.node.id);
  }
  return out;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

uint64_t RingFingerprint(KvClient& client, size_t* members) {
  auto reply = client.Call(repl::Op(repl::ClusterOpcode::kRing), "");
  repl::RingDescription ring;
  if (!reply.ok() || !repl::DecodeRingDescription(reply.value(), &ring)) return 0;
  *members = ring.members.size();
  return ring.fingerprint;
}

repl::MemberState FakeMember() {
  repl::MemberState fake;
  fake.node = ring::NodeInfo{"intruder", "127.0.0.1:1", "dc1", "rack1", 64.0};
  fake.generation = 1;
  fake.version = 1;
  return fake;
}

TEST(ClusterSecurityTest, AnOutsiderWithoutTheSecretChangesNothingAndANodeWithAnotherSecretNeverJoins) {
  TempDir secrets;
  const std::string secret = WriteSecret(secrets.path() + "/secret", "this cluster's secret, 32 bytes.");
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--secret-file", secret}});
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("before", "v", kAll));
  size_t members = 0;
  const uint64_t ring = RingFingerprint(cluster.client(0), &members);
  ASSERT_EQ(3u, members);

  // 1. HELLO as a node with the cluster name, without the secret: refused.
  net::BlockingClient as_node(
      net::BlockingClientOptions{.cluster = "kvring", .id = "intruder", .role = net::PeerRole::kNode});
  base::Status s = as_node.Connect(cluster.node(0).address(), 5000);
  EXPECT_TRUE(s.IsPermissionDenied()) << s.ToString();
  EXPECT_TRUE(WaitFor([&] { return Contains(cluster.node(0).LogTail(50), "did not offer the cluster handshake"); },
                      kWaitMs))
      << cluster.node(0).LogTail();
  // 2. As a client: every node-only message is refused.
  net::BlockingClient as_client(net::BlockingClientOptions{.cluster = "kvring", .id = "intruder"});
  KV_ASSERT_OK(as_client.Connect(cluster.node(1).address(), 5000));
  std::string push;
  repl::EncodeGossipPush(&push, "kvring", "intruder", {FakeMember()});
  auto pushed = as_client.Call(repl::Op(repl::ClusterOpcode::kGossipPush), push, 5000);
  EXPECT_TRUE(pushed.status().IsInvalidArgument()) << pushed.status().ToString();
  std::string write;
  repl::EncodeReplicaWrite(&write, "before", repl::SiblingSet());
  auto written = as_client.Call(repl::Op(repl::ClusterOpcode::kReplicaWrite), write, 5000);
  EXPECT_FALSE(written.ok());
  // 3. A real kvnode with another secret, seeded at n1: never joins; both sides say why.
  const std::string other = WriteSecret(secrets.path() + "/other", "another cluster's secret, 32 by.");
  KvnodeOptions o;
  o.id = "n9";
  o.n = 3;
  o.seeds = {cluster.node(0).address()};
  o.extra_flags = {"--secret-file", other};
  KvnodeProcess stranger(secrets.path(), o);
  KV_ASSERT_OK(stranger.Start());
  EXPECT_TRUE(WaitFor([&] { return Contains(stranger.LogTail(100), "proof does not match"); }, kWaitMs))
      << stranger.LogTail();
  EXPECT_TRUE(WaitFor([&] { return Contains(cluster.node(0).LogTail(200), "'n9'"); }, kWaitMs))
      << cluster.node(0).LogTail();

  // Nothing changed: the same ring of three everywhere, no stranger in a members file.
  for (size_t i = 0; i < 3; ++i) {
    size_t now_members = 0;
    EXPECT_EQ(ring, RingFingerprint(cluster.client(i), &now_members)) << "n" << i + 1;
    EXPECT_EQ(3u, now_members) << "n" << i + 1;
    auto status = cluster.client(i).ClusterStatus();
    KV_ASSERT_OK(status);
    for (const auto& m : *status) {
      const std::string& id = m.state.node.id;
      EXPECT_TRUE(id != "intruder" && id != "n9") << id;
    }
  }
  KV_ASSERT_OK(stranger.Terminate());
  for (size_t i = 0; i < 3; ++i) KV_ASSERT_OK(cluster.node(i).Terminate());
  for (size_t i = 0; i < 3; ++i) {
    for (const auto& id : MembersFile(cluster.node(i).data_dir())) {
      EXPECT_TRUE(id == "n1" || id == "n2" || id == "n3") << "n" << i + 1 << "'s members file lists " << id;
    }
  }
  // The cluster serves as before once restarted.
  for (size_t i = 0; i < 3; ++i) KV_ASSERT_OK(cluster.node(i).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  auto before = cluster.client(2).Get("before", kAll);
  KV_ASSERT_OK(before);
  EXPECT_EQ(std::vector<std::string>{"v"}, before->values());
  KV_ASSERT_OK(cluster.client(1).Replace("before", "after", kAll));
}

}  // namespace
}  // namespace kvring::test
