// Two datacenters with real kvnode processes (issue 14): with two replicas of
// every key in each (--replication dc1:2,dc2:2), SIGKILLing every node of dc2
// leaves LOCAL_QUORUM writes and reads through dc1 working; when dc2 comes back,
// hints and a repair bring every key to every replica. Everything acknowledged is
// read back replica-local on all four nodes.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr uint8_t kLocalQuorum = net::kConsistencyLocalQuorum;

ClusterOptions TwoDatacenters() {
  ClusterOptions o{.nodes = 4, .n = 3};
  o.extra_flags = {"--replication", "dc1:2,dc2:2", "--vnodes", "16"};
  o.node_flags = {{"--dc", "dc1"}, {"--dc", "dc1"}, {"--dc", "dc2"}, {"--dc", "dc2"}};
  return o;
}

TEST(ClusterDcTest, LosingAWholeDatacenterLeavesLocalQuorumWorkingInTheOtherAndItConvergesOnReturn) {
  Cluster cluster(TwoDatacenters());
  KV_ASSERT_OK(cluster.Start());
  std::map<std::string, std::string> acked;
  int failures = 0;
  std::string first_error;
  auto write = [&](const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      auto put = cluster.client(static_cast<size_t>(i) % 2).Put(Key(prefix, i), Value(prefix, i), kLocalQuorum);
      if (put.ok()) {
        acked[Key(prefix, i)] = Value(prefix, i);
      } else if (failures++ == 0) {
        first_error = put.status().ToString();
      }
    }
  };
  write("before", 300);
  EXPECT_EQ(0, failures) << first_error;
  cluster.node(2).Kill();
  cluster.node(3).Kill();
  // At once, before anyone holds dc2 down: LOCAL_QUORUM needs dc1 alone.
  write("dc2-gone", 600);
  EXPECT_EQ(0, failures) << first_error;
  size_t unread = 0;
  for (const auto& [key, value] : acked) {
    auto got = cluster.client(1).Get(key, kLocalQuorum);
    if (!got.ok() || got->values() != std::vector<std::string>{value}) unread++;
  }
  EXPECT_EQ(0u, unread) << "acknowledged keys not read back at LOCAL_QUORUM in dc1";
  // EACH_QUORUM cannot be met without dc2, and says so.
  auto each = cluster.client(0).Put("each", "v", net::kConsistencyEachQuorum);
  EXPECT_FALSE(each.ok());

  KV_ASSERT_OK(cluster.node(2).Start());
  KV_ASSERT_OK(cluster.node(3).Start());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  for (size_t i : {2u, 3u}) {
    ProgramResult repair =
        RunProgram({BinaryPath("kvctl"), "--host", cluster.node(i).address(), "repair", "--wait"}, "", 120'000);
    EXPECT_EQ(0, repair.exit_code) << repair.ToString();
  }
  for (size_t i = 0; i < 4; ++i) {
    size_t missing = 0;
    std::string first;
    for (const auto& [key, value] : acked) {
      auto local = cluster.client(i).GetLocal(key);
      if (local.ok() && local->found && local->values() == std::vector<std::string>{value}) continue;
      if (missing++ == 0) first = key;
    }
    EXPECT_EQ(0u, missing) << cluster.node(i).id() << " lacks " << first;
  }
}

}  // namespace
}  // namespace kvring::test
