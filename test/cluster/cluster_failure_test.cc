// Node failures in a 3-node cluster (N=3, R=2, W=2) of real kvnode processes:
// with one node killed (-9) reads and writes keep working; with two killed they
// fail with "quorum not reached" naming the down nodes; after both restart,
// every write acknowledged before and during the outage is readable everywhere.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ClusterFailureTest, QuorumsSurviveOneKilledNodeFailClearlyWithTwoAndNothingAckedIsLost) {
  Cluster cluster({.nodes = 3, .n = 3, .r = "QUORUM", .w = "QUORUM"});
  KV_ASSERT_OK(cluster.Start());
  std::map<std::string, std::string> acked;
  auto write = [&](size_t via, const std::string& key, const std::string& value) {
    auto put = cluster.client(via).Put(key, value, kTwo);
    if (put.ok()) acked[key] = value;
    return put;
  };

  // All up.
  for (int i = 0; i < 30; ++i) KV_ASSERT_OK(write(i % 3, Key("before", i), Value("before", i)));

  // n3 killed: W=2 and R=2 keep working through n1 and n2.
  cluster.node(2).Kill();
  for (int i = 0; i < 30; ++i) KV_ASSERT_OK(write(i % 2, Key("one-down", i), Value("one-down", i)));
  // A rewrite during the outage (with the context of a read) must win after the restart too.
  KV_ASSERT_OK(cluster.client(0).Replace(Key("before", 0), "rewritten-while-n3-down", kTwo));
  acked[Key("before", 0)] = "rewritten-while-n3-down";
  for (size_t via : {0, 1}) EXPECT_EQ("", CheckReadable(cluster.client(via), acked, kTwo));

  // n2 killed too: only n1 is left; W=2 and R=2 fail, naming both down nodes
  // (once n1's failure detector has declared them down).
  cluster.node(1).Kill();
  KV_ASSERT_OK(cluster.WaitUntilSeenDown(0, 1));
  KV_ASSERT_OK(cluster.WaitUntilSeenDown(0, 2));
  auto put = cluster.client(0).Put("two-down", "never-acked", kTwo);
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(put.status().IsUnavailable()) << put.status().ToString();
  EXPECT_TRUE(Contains(put.status().message(), "quorum not reached")) << put.status().ToString();
  EXPECT_TRUE(Contains(put.status().message(), "n2 down")) << put.status().ToString();
  EXPECT_TRUE(Contains(put.status().message(), "n3 down")) << put.status().ToString();
  auto get = cluster.client(0).Get(Key("before", 1), kTwo);
  ASSERT_FALSE(get.ok());
  EXPECT_TRUE(get.status().IsUnavailable()) << get.status().ToString();
  EXPECT_TRUE(Contains(get.status().message(), "quorum not reached")) << get.status().ToString();
  EXPECT_TRUE(Contains(get.status().message(), "n2")) << get.status().ToString();
  EXPECT_TRUE(Contains(get.status().message(), "n3")) << get.status().ToString();
  // A delete that misses its quorum is not acknowledged (it may still take effect).
  auto seen = cluster.client(0).Read(Key("before", 2), kOne);
  KV_ASSERT_OK(seen);
  auto del = cluster.client(0).Delete(Key("before", 2), kTwo, seen->context);
  EXPECT_TRUE(del.status().IsUnavailable()) << del.status().ToString();
  acked.erase(Key("before", 2));
  // ONE still works with the one node left.
  auto one = cluster.client(0).Get(Key("before", 3), kOne);
  KV_ASSERT_OK(one);
  EXPECT_EQ(std::vector<std::string>{Value("before", 3)}, one->values());

  // Both back: everything acknowledged is readable through every node.
  KV_ASSERT_OK(cluster.node(1).Restart());
  KV_ASSERT_OK(cluster.node(2).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  for (size_t via = 0; via < 3; ++via) EXPECT_EQ("", CheckReadable(cluster.client(via), acked, kTwo));
  // The failed put was stored on n1 alone: it may show up, but only as itself.
  auto maybe = cluster.client(1).Get("two-down", kTwo);
  if (maybe.ok()) {
    EXPECT_EQ(std::vector<std::string>{"never-acked"}, maybe->values());
  } else {
    EXPECT_TRUE(maybe.status().IsNotFound()) << maybe.status().ToString();
  }
  auto deleted = cluster.client(2).Get(Key("before", 2), kTwo);
  if (deleted.ok()) {
    EXPECT_EQ(std::vector<std::string>{Value("before", 2)}, deleted->values());
  } else {
    EXPECT_TRUE(deleted.status().IsNotFound()) << deleted.status().ToString();
  }
  // Every node takes writes at W=ALL again.
  for (size_t via = 0; via < 3; ++via) KV_EXPECT_OK(cluster.client(via).Put(Key("after", 0), "ok", kAll));
}

TEST(ClusterFailureTest, AWriteThroughANonReplicaIsForwardedAroundAKilledReplica) {
  // 5 nodes, N=3: n1 forwards writes of keys it holds no replica of. Pick keys
  // whose replicas exclude n1 and include n5, kill n5, and write them via n1.
  Cluster cluster({.nodes = 5, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  std::map<std::string, std::string> acked;
  for (int i = 0; i < 60; ++i) {
    const std::string key = Key("fwd", i);
    auto receipt = cluster.client(0).Put(key, Value("fwd", i), kAll);  // the receipt names all 3 replicas
    KV_ASSERT_OK(receipt);
    bool has_n1 = false, has_n5 = false;
    for (const auto& a : receipt->acks) {
      has_n1 |= a == "n1";
      has_n5 |= a == "n5";
    }
    if (!has_n1 && has_n5) acked[key] = Value("fwd", i);
  }
  ASSERT_GE(acked.size(), 3u) << "too few keys replicated on n5 but not n1 to test forwarding";
  cluster.node(4).Kill();
  for (auto& [key, value] : acked) {
    value += "-v2";
    auto put = cluster.client(0).Replace(key, value, kTwo);
    KV_EXPECT_OK(put);
    if (put.ok()) {
      for (const auto& a : put->acks) EXPECT_NE("n5", a) << key;
    }
  }
  for (size_t via = 0; via < 4; ++via) EXPECT_EQ("", CheckReadable(cluster.client(via), acked, kTwo));
}

TEST(ClusterFailureTest, AcknowledgedWritesSurviveRepeatedKillsUnderLoad) {
  const uint64_t seed = TestSeed("AcknowledgedWritesSurviveRepeatedKillsUnderLoad");
  base::Random rnd(seed);
  Cluster cluster({.nodes = 3, .n = 3, .r = "QUORUM", .w = "QUORUM", .sync = "always"});
  KV_ASSERT_OK(cluster.Start());
  // One writer per coordinator, unique keys, W=2; a write through a dead
  // coordinator fails and the writer goes on with the next key.
  std::mutex mu;
  std::map<std::string, std::string> acked;  // GUARDED_BY(mu)
  std::atomic<bool> stop{false};
  std::atomic<int> acks{0};
  std::vector<std::thread> writers;
  for (size_t t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      KvClient client(cluster.node(t).address(), 3000);
      for (int i = 0; !stop; ++i) {
        const std::string key = Key("load-n" + std::to_string(t + 1), i), value = Value(key, i);
        if (!client.Put(key, value, kTwo).ok()) {
          SleepMs(10);
          continue;
        }
        std::lock_guard<std::mutex> l(mu);
        acked[key] = value;
        acks++;
      }
    });
  }
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
    const int before = acks.load();
    ASSERT_TRUE(WaitFor([&] { return acks.load() >= before + 20; }, 30'000)) << "writes stalled";
    SleepMs(rnd.Uniform(200));
    const size_t victim = rnd.Uniform(3);
    cluster.node(victim).Kill();
    // The two survivors keep acknowledging writes at W=2.
    const int during = acks.load();
    ASSERT_TRUE(WaitFor([&] { return acks.load() >= during + 20; }, 30'000))
        << "no W=2 write succeeded with n" << victim + 1 << " down";
    KV_ASSERT_OK(cluster.node(victim).Restart());
    KV_ASSERT_OK(cluster.WaitUntilConnected());
  }
  stop = true;
  for (auto& w : writers) w.join();
  std::map<std::string, std::string> all;
  {
    std::lock_guard<std::mutex> l(mu);
    all = acked;
  }
  ASSERT_GT(all.size(), 100u);
  for (size_t via = 0; via < 3; ++via) EXPECT_EQ("", CheckReadable(cluster.client(via), all, kTwo));
}

TEST(ClusterFailureTest, AHungReplicaTimesOutAndIsNamedWhileQuorumsStillWork) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--request-timeout-ms", "500"}});
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("hung", "v1", kAll));
  // n2 stops answering but keeps its connections open (SIGSTOP, not a crash).
  ASSERT_EQ(0, ::kill(cluster.node(1).pid(), SIGSTOP));
  auto two = cluster.client(0).Replace("hung", "v2", kTwo);
  KV_EXPECT_OK(two);
  auto all = cluster.client(0).Replace("hung", "v3", kAll, kTwo);
  ASSERT_FALSE(all.ok());
  EXPECT_TRUE(Contains(all.status().message(), "quorum not reached")) << all.status().ToString();
  EXPECT_TRUE(Contains(all.status().message(), "n2 timeout")) << all.status().ToString();
  EXPECT_TRUE(Contains(all.status().message(), "500ms")) << all.status().ToString();
  auto read = cluster.client(2).Get("hung", kTwo);
  KV_EXPECT_OK(read);
  ASSERT_EQ(0, ::kill(cluster.node(1).pid(), SIGCONT));
  // Once it runs again it catches up with the writes it missed on the next write.
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  // A read at ALL sees v3 too (a failed write may still be stored): v4 replaces everything.
  EXPECT_TRUE(WaitFor([&] { return cluster.client(0).Replace("hung", "v4", kAll, kAll).ok(); }, kClusterSettleTimeoutMs));
  for (size_t via = 0; via < 3; ++via) EXPECT_EQ("", CheckReadable(cluster.client(via), {{"hung", "v4"}}, kAll));
}

TEST(ClusterFailureTest, AWholeClusterStoppedWithSigtermRestartsWithItsData) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  std::map<std::string, std::string> pairs;
  for (int i = 0; i < 50; ++i) {
    pairs[Key("whole", i)] = Value("whole", i);
    KV_ASSERT_OK(cluster.client(i % 3).Put(Key("whole", i), Value("whole", i), kTwo));
  }
  for (size_t i = 0; i < 3; ++i) {
    auto code = cluster.node(i).Terminate();
    KV_ASSERT_OK(code);
    EXPECT_EQ(0, code.value()) << cluster.node(i).id();
  }
  // Restarted in reverse order: each finds its members in its data directory.
  for (size_t i = 3; i-- > 0;) KV_ASSERT_OK(cluster.node(i).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  for (size_t via = 0; via < 3; ++via) EXPECT_EQ("", CheckReadable(cluster.client(via), pairs, kTwo));
}

}  // namespace
}  // namespace kvring::test
