// Replicated clusters of real kvnode processes: every key written through one
// node is readable through every coordinator (replicas and non-replicas), each
// key lives on exactly N nodes, deletes replicate, receipts name the replicas,
// and R/W beyond the replica count is a clear InvalidArgument.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

// Writes `keys` keys, spreading the coordinators over every node.
std::map<std::string, std::string> WriteSpread(Cluster& cluster, const std::string& prefix, int keys, uint8_t w) {
  std::map<std::string, std::string> pairs;
  for (int i = 0; i < keys; ++i) {
    const std::string key = Key(prefix, i), value = Value(prefix, i);
    auto put = cluster.client(static_cast<size_t>(i) % cluster.size()).Put(key, value, w);
    EXPECT_TRUE(put.ok()) << key << ": " << put.status().ToString();
    if (put.ok()) pairs[key] = value;
  }
  return pairs;
}

// How many nodes hold `key` in their own store.
int LocalCopies(Cluster& cluster, const std::string& key, std::vector<std::string>* holders = nullptr) {
  int copies = 0;
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (cluster.client(i).GetLocal(key).ok()) {
      copies++;
      if (holders != nullptr) holders->push_back(cluster.node(i).id());
    }
  }
  return copies;
}

TEST(ClusterReplicationTest, ThreeNodesEveryKeyIsReadableThroughEveryNode) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  auto pairs = WriteSpread(cluster, "three", 60, kTwo);
  ASSERT_EQ(60u, pairs.size());
  for (size_t i = 0; i < cluster.size(); ++i) EXPECT_EQ("", CheckReadable(cluster.client(i), pairs, kTwo));
}

TEST(ClusterReplicationTest, FiveNodesEveryKeyIsReadableThroughEveryNodeAndLivesOnExactlyThree) {
  Cluster cluster({.nodes = 5, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  auto pairs = WriteSpread(cluster, "five", 60, kTwo);
  ASSERT_EQ(60u, pairs.size());
  // Through every coordinator, including the two that hold no replica of a key.
  for (size_t i = 0; i < cluster.size(); ++i) EXPECT_EQ("", CheckReadable(cluster.client(i), pairs, kTwo));
  // The third replica of a W=2 write gets it asynchronously: wait for it.
  std::map<std::string, int> holders_per_node;
  for (const auto& [key, value] : pairs) {
    EXPECT_TRUE(WaitFor([&] { return LocalCopies(cluster, key) >= 3; }, 10'000)) << key;
    std::vector<std::string> holders;
    EXPECT_EQ(3, LocalCopies(cluster, key, &holders)) << key;
    for (const auto& h : holders) holders_per_node[h]++;
  }
  // Over 60 keys every node holds some replicas (the ring spreads them).
  for (const auto& id : cluster.ids()) EXPECT_GT(holders_per_node[id], 0) << id << " holds no replica";
}

TEST(ClusterReplicationTest, WriteReceiptsNameTheReplicasThatAcknowledged) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  auto all = cluster.client(0).Put("receipt-all", "v", kAll);
  KV_ASSERT_OK(all);
  std::vector<std::string> acks = all->acks;
  std::sort(acks.begin(), acks.end());
  EXPECT_EQ((std::vector<std::string>{"n1", "n2", "n3"}), acks);
  auto one = cluster.client(1).Put("receipt-one", "v", kOne);
  KV_ASSERT_OK(one);
  ASSERT_GE(one->acks.size(), 1u);
  for (const auto& a : one->acks) EXPECT_TRUE(a == "n1" || a == "n2" || a == "n3") << a;
  auto two = cluster.client(2).Put("receipt-two", "v", kTwo);
  KV_ASSERT_OK(two);
  EXPECT_GE(two->acks.size(), 2u);
}

TEST(ClusterReplicationTest, DeletesReplicate) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  auto pairs = WriteSpread(cluster, "del", 20, kAll);
  ASSERT_EQ(20u, pairs.size());
  for (int i = 0; i < 20; i += 2) KV_ASSERT_OK(cluster.client(0).DeleteSeen(Key("del", i), kTwo));
  for (size_t via = 0; via < cluster.size(); ++via) {
    for (int i = 0; i < 20; ++i) {
      auto get = cluster.client(via).Get(Key("del", i), kTwo);
      if (i % 2 == 0) {
        EXPECT_TRUE(get.status().IsNotFound()) << Key("del", i) << " via n" << via + 1 << ": "
                                               << (get.ok() ? "still there" : get.status().ToString());
      } else {
        KV_EXPECT_OK(get);
      }
    }
  }
  // Once the tombstones reached every replica, even R=1 anywhere says not found.
  for (size_t via = 0; via < cluster.size(); ++via) {
    EXPECT_TRUE(WaitFor([&] { return cluster.client(via).Get(Key("del", 0), kOne).status().IsNotFound(); }, 10'000))
        << "n" << via + 1;
  }
}

TEST(ClusterReplicationTest, OneReplicaPerKeyServesThroughEveryNodeAndRefusesLargerQuorums) {
  Cluster cluster({.nodes = 3, .n = 1, .r = "ONE", .w = "ONE"});
  KV_ASSERT_OK(cluster.Start());
  auto pairs = WriteSpread(cluster, "single", 30, net::kConsistencyDefault);
  ASSERT_EQ(30u, pairs.size());
  for (size_t i = 0; i < cluster.size(); ++i) {
    EXPECT_EQ("", CheckReadable(cluster.client(i), pairs, net::kConsistencyDefault));
  }
  for (const auto& [key, value] : pairs) EXPECT_EQ(1, LocalCopies(cluster, key)) << key;

  auto put = cluster.client(0).Put("single-0", "x", kTwo);
  ASSERT_TRUE(put.status().IsInvalidArgument()) << put.status().ToString();
  EXPECT_NE(std::string::npos, put.status().message().find("w=2 needs 2 replicas but the key has 1"))
      << put.status().ToString();
  auto get = cluster.client(1).Get("single-0", kThree);
  ASSERT_TRUE(get.status().IsInvalidArgument()) << get.status().ToString();
  EXPECT_NE(std::string::npos, get.status().message().find("r=3 needs 3 replicas but the key has 1"))
      << get.status().ToString();
  auto del = cluster.client(2).DeleteSeen("single-0", kAll);
  KV_EXPECT_OK(del);  // ALL is every replica there is: one
  // The refused put changed nothing.
  EXPECT_TRUE(cluster.client(0).Get("single-0").status().IsNotFound());
}

TEST(ClusterReplicationTest, ConsistencyBeyondTheReplicaCountIsInvalidArgument) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  auto put = cluster.client(0).Put("k", "v", 4);
  ASSERT_TRUE(put.status().IsInvalidArgument()) << put.status().ToString();
  EXPECT_NE(std::string::npos, put.status().message().find("w=4 needs 4 replicas but the key has 3"))
      << put.status().ToString();
  auto get = cluster.client(1).Get("k", 5);
  ASSERT_TRUE(get.status().IsInvalidArgument()) << get.status().ToString();
  EXPECT_NE(std::string::npos, get.status().message().find("r=5")) << get.status().ToString();
}

}  // namespace
}  // namespace kvring::test
