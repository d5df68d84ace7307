// Gossip membership and failure detection with real kvnode processes on
// loopback: a node that knows one seed learns the whole cluster and every node
// builds the same ring; a node of another cluster is refused and both sides say
// why; a SIGSTOPped node is declared down by every other node and up again after
// SIGCONT; a killed node is down, and up with a new generation once restarted; an
// observer that was itself paused accuses nobody when it wakes; and nobody is
// declared down while the cluster serves a saturating load.
//
// These tests check what must happen within generous deadlines (a loaded CI
// machine, ASan): the detection-time figures (<= 3 s at the defaults) are
// measured by bench/run-failure-detection.sh and recorded in docs/performance.md.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "repl/messages.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr uint64_t kDetectTimeoutMs = 15'000;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// How node `observer` sees member `id` (nullopt when it is not listed).
std::optional<repl::MemberReport> Seen(KvnodeProcess& observer, const std::string& id) {
  auto members = observer.ClusterStatus();
  if (!members.ok()) return std::nullopt;
  for (const auto& m : *members) {
    if (m.state.node.id == id) return m;
  }
  return std::nullopt;
}

// Waits until every running node but `target` sees it in `state`; returns the
// milliseconds each took (from `since_ms`), or fails the test.
std::map<std::string, uint64_t> WaitUntilAllSee(Cluster& cluster, size_t target, repl::Liveness state,
                                                uint64_t since_ms) {
  std::map<std::string, uint64_t> took;
  const std::string id = cluster.node(target).id();
  const bool ok = WaitFor(
      [&] {
        for (size_t i = 0; i < cluster.size(); ++i) {
          if (i == target || took.count(cluster.node(i).id()) || !cluster.node(i).running()) continue;
          auto seen = Seen(cluster.node(i), id);
          if (seen && seen->liveness == state) took[cluster.node(i).id()] = NowMs() - since_ms;
        }
        return took.size() + 1 == cluster.size();
      },
      kDetectTimeoutMs);
  EXPECT_TRUE(ok) << "not every node saw " << id << " " << repl::LivenessName(state) << "; " << took.size()
                  << " did\n" << cluster.LogTails(10);
  return took;
}

std::string Describe(const std::map<std::string, uint64_t>& took) {
  std::string out;
  for (const auto& [id, ms] : took) out += " " + id + "=" + std::to_string(ms) + "ms";
  return out;
}

uint64_t RingFingerprint(KvClient& client, size_t* members) {
  auto reply = client.Call(repl::Op(repl::ClusterOpcode::kRing), "");
  repl::RingDescription ring;
  if (!reply.ok() || !repl::DecodeRingDescription(reply.value(), &ring)) return 0;
  *members = ring.members.size();
  return ring.fingerprint;
}

TEST(ClusterGossipTest, ANodeThatKnowsOneSeedLearnsTheWholeClusterAndEveryNodeBuildsTheSameRing) {
  Cluster cluster({.nodes = 5, .n = 3, .single_seed = true});
  KV_ASSERT_OK(cluster.Start());
  std::set<uint64_t> fingerprints;
  for (size_t i = 0; i < cluster.size(); ++i) {
    size_t members = 0;
    fingerprints.insert(RingFingerprint(cluster.client(i), &members));
    EXPECT_EQ(5u, members) << "n" << i + 1;
  }
  EXPECT_EQ(1u, fingerprints.size()) << "nodes place keys differently";
  EXPECT_EQ(0u, fingerprints.count(0));
  // And the ring is the one reads and writes use: every node serves every key.
  for (int i = 0; i < 20; ++i) KV_ASSERT_OK(cluster.client(static_cast<size_t>(i) % 5).Put(Key("spread", i), "v", kAll));
  for (int i = 0; i < 20; ++i) KV_ASSERT_OK(cluster.client(static_cast<size_t>(i + 2) % 5).Get(Key("spread", i), kAll));
}

TEST(ClusterGossipTest, ANodeOfAnotherClusterIsRefusedAndBothSidesSayWhy) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  TempDir dir;
  KvnodeOptions o;
  o.id = "stranger";
  o.n = 3;
  o.seeds = {cluster.node(0).address()};
  o.extra_flags = {"--cluster", "elsewhere"};
  KvnodeProcess stranger(dir.path(), o);
  KV_ASSERT_OK(stranger.Start());
  EXPECT_TRUE(WaitFor([&] { return Contains(stranger.LogTail(100), "cluster name mismatch"); }, kDetectTimeoutMs))
      << stranger.LogTail();
  EXPECT_TRUE(WaitFor([&] { return Contains(cluster.node(0).LogTail(200), "cluster name mismatch"); }, kDetectTimeoutMs))
      << cluster.node(0).LogTail();
  for (size_t i = 0; i < cluster.size(); ++i) EXPECT_FALSE(Seen(cluster.node(i), "stranger")) << "n" << i + 1;
  size_t members = 0;
  RingFingerprint(cluster.client(1), &members);
  EXPECT_EQ(3u, members);
}

TEST(ClusterGossipTest, ASigstoppedNodeIsDownEverywhereAndUpAgainAfterSigcont) {
  Cluster cluster({.nodes = 5, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  const uint64_t stopped = NowMs();
  ASSERT_EQ(0, ::kill(cluster.node(2).pid(), SIGSTOP));
  auto down = WaitUntilAllSee(cluster, 2, repl::Liveness::kDown, stopped);
  std::fprintf(stderr, "SIGSTOP -> down:%s\n", Describe(down).c_str());
  // Who suspects it is gossiped: every observer lists another observer.
  auto seen = Seen(cluster.node(0), "n3");
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->detail.empty());
  const uint64_t resumed = NowMs();
  ASSERT_EQ(0, ::kill(cluster.node(2).pid(), SIGCONT));
  auto up = WaitUntilAllSee(cluster, 2, repl::Liveness::kUp, resumed);
  std::fprintf(stderr, "SIGCONT -> up:%s\n", Describe(up).c_str());
  KV_ASSERT_OK(cluster.client(2).Put("after-pause", "v", kAll));
}

TEST(ClusterGossipTest, AKilledNodeIsDownThenUpWithANewGenerationAfterARestart) {
  Cluster cluster({.nodes = 5, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  auto before = Seen(cluster.node(0), "n4");
  ASSERT_TRUE(before);
  const uint64_t killed = NowMs();
  cluster.node(3).Kill();
  auto down = WaitUntilAllSee(cluster, 3, repl::Liveness::kDown, killed);
  std::fprintf(stderr, "SIGKILL -> down:%s\n", Describe(down).c_str());
  KV_ASSERT_OK(cluster.node(3).Restart());
  WaitUntilAllSee(cluster, 3, repl::Liveness::kUp, NowMs());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  auto after = Seen(cluster.node(0), "n4");
  ASSERT_TRUE(after);
  EXPECT_GT(after->state.generation, before->state.generation);
}

TEST(ClusterGossipTest, AnObserverThatWasPausedFiveSecondsAccusesNoHealthyPeerWhenItWakes) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  ASSERT_EQ(0, ::kill(cluster.node(0).pid(), SIGSTOP));
  SleepMs(5000);
  ASSERT_EQ(0, ::kill(cluster.node(0).pid(), SIGCONT));
  // For the next 3 s, n1 must never show n2 or n3 down (they never stopped).
  std::string accused;
  const uint64_t until = NowMs() + 3000;
  while (NowMs() < until && accused.empty()) {
    for (const char* id : {"n2", "n3"}) {
      auto seen = Seen(cluster.node(0), id);
      if (seen && seen->liveness == repl::Liveness::kDown) accused = std::string(id) + ": " + seen->detail;
    }
    SleepMs(20);
  }
  EXPECT_EQ("", accused) << cluster.node(0).LogTail(30);
  KV_EXPECT_OK(cluster.client(0).Put("awake", "v", kAll));
}

TEST(ClusterGossipTest, NobodyIsDeclaredDownWhileTheClusterServesASaturatingLoad) {
  Cluster cluster({.nodes = 5, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  std::vector<std::string> argv = {BinaryPath("kvbench"), "--duration", "8", "--warmup", "0", "--keys", "20000",
                                   "--value-size", "100", "--connections", "20", "--quiet", "--no-staleness"};
  for (size_t i = 0; i < cluster.size(); ++i) argv.insert(argv.end(), {"--target", "kv://" + cluster.node(i).address()});
  std::atomic<bool> done{false};
  ProgramResult bench;
  std::thread load([&] {
    bench = RunProgram(argv, "", 60'000);
    done = true;
  });
  std::string accused;
  while (!done && accused.empty()) {
    for (size_t i = 0; i < cluster.size() && accused.empty(); ++i) {
      auto members = cluster.node(i).ClusterStatus();
      if (!members.ok()) continue;
      for (const auto& m : *members) {
        if (m.liveness == repl::Liveness::kDown) accused = cluster.node(i).id() + " holds " + m.state.node.id + " down: " + m.detail;
      }
    }
    SleepMs(100);
  }
  load.join();
  EXPECT_EQ("", accused);
  EXPECT_EQ(0, bench.exit_code) << bench.ToString();
}

}  // namespace
}  // namespace kvring::test
