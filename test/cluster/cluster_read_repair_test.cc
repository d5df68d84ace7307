// Read repair in a 3-node cluster (N=3) of real kvnode processes: a replica that
// missed writes while it was down (SIGKILL) is repaired by an R=ALL read through
// any node, which a replica-local read (GET with the local flag) then shows.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/coding.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr uint64_t kRepairTimeoutMs = 10'000;  // the repair is asynchronous

TEST(ClusterReadRepairTest, AnAllReplicaReadRepairsAReplicaThatMissedWrites) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--no-hinted-handoff"}});  // repair alone brings replicas back
  KV_ASSERT_OK(cluster.Start());
  // Stale, not just missing: n3 holds the first version of these keys.
  std::map<std::string, std::string> pairs;
  std::vector<std::string> old_contexts;
  for (int i = 0; i < 10; ++i) {
    auto old = cluster.client(0).Put(Key("stale", i), "old", kAll);
    KV_ASSERT_OK(old);
    old_contexts.push_back(old->context);
  }
  cluster.node(2).Kill();
  for (int i = 0; i < 10; ++i) {
    pairs[Key("stale", i)] = Value("stale", i);
    KV_ASSERT_OK(cluster.client(i % 2).Put(Key("stale", i), Value("stale", i), kTwo, old_contexts[i]));
  }
  for (int i = 0; i < 20; ++i) {
    pairs[Key("missing", i)] = Value("missing", i);
    KV_ASSERT_OK(cluster.client(i % 2).Put(Key("missing", i), Value("missing", i), kTwo));
  }
  KV_ASSERT_OK(cluster.node(2).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());

  // n3's own store lacks the new versions.
  KvClient& n3 = cluster.client(2);
  for (const auto& [key, value] : pairs) {
    auto local = n3.GetLocal(key);
    if (key.rfind("missing", 0) == 0) {
      EXPECT_TRUE(local.status().IsNotFound()) << key << ": " << local.status().ToString();
    } else {
      KV_ASSERT_OK(local);
      EXPECT_EQ(std::vector<std::string>{"old"}, local->values()) << key;
    }
  }
  const int64_t repairs_before = StatsCounter(cluster.client(0), "coordinator_read_repairs") +
                                 StatsCounter(cluster.client(1), "coordinator_read_repairs");

  // An R=ALL read through n1 or n2 answers with the new value...
  int via = 0;
  for (const auto& [key, value] : pairs) {
    auto get = cluster.client(via++ % 2).Get(key, kAll);
    KV_ASSERT_OK(get);
    EXPECT_EQ(std::vector<std::string>{value}, get->values()) << key;
  }
  // ...and, shortly after, n3's own store has it.
  for (const auto& [key, value] : pairs) {
    std::string last;
    bool repaired = WaitFor(
        [&] {
          auto local = n3.GetLocal(key);
          if (!local.ok()) {
            last = local.status().ToString();
            return false;
          }
          last = std::to_string(local->siblings.size()) + " sibling(s)" +
                 (local->siblings.empty() ? "" : ", first " + local->siblings[0].value);
          return local->values() == std::vector<std::string>{value};
        },
        kRepairTimeoutMs);
    EXPECT_TRUE(repaired) << key << " not repaired on n3: " << last;
  }
  const int64_t repairs_after = StatsCounter(cluster.client(0), "coordinator_read_repairs") +
                                StatsCounter(cluster.client(1), "coordinator_read_repairs");
  EXPECT_GE(repairs_after - repairs_before, static_cast<int64_t>(pairs.size()));
}

TEST(ClusterReadRepairTest, AReadThatFindsEveryReplicaCurrentRepairsNothing) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--no-hinted-handoff"}});  // repair alone brings replicas back
  KV_ASSERT_OK(cluster.Start());
  for (int i = 0; i < 10; ++i) KV_ASSERT_OK(cluster.client(0).Put(Key("calm", i), "v", kAll));
  const int64_t before = StatsCounter(cluster.client(1), "coordinator_read_repairs");
  ASSERT_GE(before, 0);
  for (int i = 0; i < 10; ++i) KV_ASSERT_OK(cluster.client(1).Get(Key("calm", i), kAll));
  EXPECT_EQ(before, StatsCounter(cluster.client(1), "coordinator_read_repairs"));
}

TEST(ClusterReadRepairTest, AReadRepairsADeleteAReplicaMissed) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--no-hinted-handoff"}});  // repair alone brings replicas back
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("gone", "v", kAll));
  cluster.node(2).Kill();
  KV_ASSERT_OK(cluster.client(0).DeleteSeen("gone", kTwo));
  KV_ASSERT_OK(cluster.node(2).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  KvClient& n3 = cluster.client(2);
  KV_ASSERT_OK(n3.GetLocal("gone"));  // still has the live value
  EXPECT_TRUE(cluster.client(1).Get("gone", kAll).status().IsNotFound());
  EXPECT_TRUE(WaitFor([&] { return n3.GetLocal("gone").status().IsNotFound(); }, kRepairTimeoutMs))
      << "n3 still serves the deleted value from its own store";
}

TEST(ClusterReadRepairTest, AReadThroughTheStaleReplicaRepairsItsOwnStore) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--no-hinted-handoff"}});  // repair alone brings replicas back
  KV_ASSERT_OK(cluster.Start());
  auto old = cluster.client(0).Put("self", "old", kAll);
  KV_ASSERT_OK(old);
  cluster.node(2).Kill();
  KV_ASSERT_OK(cluster.client(0).Put("self", "new", kTwo, old->context));
  KV_ASSERT_OK(cluster.node(2).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  KvClient& n3 = cluster.client(2);
  auto stale = n3.GetLocal("self");
  KV_ASSERT_OK(stale);
  ASSERT_EQ(std::vector<std::string>{"old"}, stale->values());
  // n3 coordinates the read: its own reply is stale, the merge is not.
  auto get = n3.Get("self", kAll);
  KV_ASSERT_OK(get);
  EXPECT_EQ(std::vector<std::string>{"new"}, get->values());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto local = n3.GetLocal("self");
        return local.ok() && local->values() == std::vector<std::string>{"new"};
      },
      kRepairTimeoutMs))
      << "n3 did not repair its own replica";
}

}  // namespace
}  // namespace kvring::test
