// Size limits in a replicated cluster (N=3) of real kvnode processes: a key whose
// concurrent versions together outgrow the frame limit; replica writes from a
// peer that breaks the bounds a client write is held to.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "net/blocking_client.h"
#include "repl/messages.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

// Regression: siblings used to be capped by count only (--max-siblings 64), and
// 64 x --max-value is far over --max-frame. A set that outgrew a frame made every
// write to the key fail its quorum (yet be stored on its coordinator), every GET
// fail, and healthy peers look down. Now a coordinated write that would leave
// the key's encoded set over a quarter of --max-frame is refused with TooLarge
// before anything is stored, so the key stays readable and resolvable.
TEST(ClusterLimitsTest, AKeyWhoseSiblingsOutgrowTheFrameLimitStaysReadable) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--max-value", "64k", "--max-frame", "1m"}});
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("big", "base", kAll));
  auto base = cluster.client(0).Get("big", kAll);
  KV_ASSERT_OK(base);
  // 20 writers that all start from "base": 20 siblings of 60,000 bytes = 1.2 MB,
  // while a key's set may take 256 KiB (a quarter of the 1 MiB frame).
  std::vector<std::string> acked;
  for (int i = 0; i < 20; ++i) {
    const std::string value = std::string(1, static_cast<char>('a' + i)) + std::string(59'999, 'x');
    auto put = cluster.client(static_cast<size_t>(i) % 3).Put("big", value, kTwo, base->context);
    if (put.ok()) {
      acked.push_back(value);
    } else {
      EXPECT_TRUE(put.status().IsTooLarge()) << "put " << i << ": " << put.status().ToString();
    }
  }
  ASSERT_GE(acked.size(), 3u);
  ASSERT_LT(acked.size(), 20u) << "nothing was refused: the byte limit did not apply";
  // The key stays readable with every acknowledged version...
  for (size_t via = 0; via < 3; ++via) {
    auto get = cluster.client(via).Get("big", kTwo);
    KV_ASSERT_OK(get);
    std::vector<std::string> values = get->values();
    for (const auto& v : acked) {
      EXPECT_TRUE(std::find(values.begin(), values.end(), v) != values.end()) << "an acknowledged sibling is missing";
    }
  }
  // ...no healthy node is reported down, and a put with the context resolves it.
  KV_EXPECT_OK(cluster.WaitUntilConnected(5000));
  auto all = cluster.client(0).Get("big", kAll);
  KV_ASSERT_OK(all);
  KV_ASSERT_OK(cluster.client(1).Put("big", "resolved", kAll, all->context));
  auto after = cluster.client(2).Get("big", kAll);
  KV_ASSERT_OK(after);
  EXPECT_EQ(std::vector<std::string>{"resolved"}, after->values());
}

repl::SiblingSet SetOf(std::vector<repl::Sibling> siblings) {
  repl::VersionVector history;
  for (const auto& s : siblings) history.Witness(s.dot.node, s.dot.counter, 1'700'000'000);
  auto set = repl::SiblingSet::FromParts(std::move(history), std::move(siblings));
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return set.ok() ? std::move(set).value() : repl::SiblingSet();
}

repl::Sibling Version(std::string node, uint64_t counter, std::string value) {
  repl::Sibling s;
  s.dot = repl::Dot{std::move(node), counter};
  s.timestamp_micros = 1'700'000'000'000'000ull;
  s.value = std::move(value);
  return s;
}

// A peer that says HELLO as a node (buggy, or lying: until nodes authenticate,
// anyone who knows the cluster name can) sends replica sets no well-behaved
// coordinator produces. Each is refused naming the bound, nothing is stored, and
// the key stays writable.
TEST(ClusterLimitsTest, ReplicaWritesOverTheBoundsOfAClientWriteAreRefusedAndChangeNothing) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--max-value", "64k", "--max-siblings", "8"}});
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("victim", "v1", kAll));
  std::vector<repl::Sibling> many;
  for (uint64_t i = 1; i <= 33; ++i) many.push_back(Version("n" + std::to_string(10 + i), 1, "x"));
  const struct {
    const char* what;
    repl::SiblingSet set;
    const char* message;
  } cases[] = {
      {"a counter at 2^64-1", SetOf({Version("n9", std::numeric_limits<uint64_t>::max(), "evil")}), "beyond any"},
      {"a value over --max-value", SetOf({Version("n9", 1, std::string(100'000, 'v'))}), "--max-value 65536"},
      {"33 siblings, over 4 x --max-siblings", SetOf(many), "4 x --max-siblings"},
  };
  net::BlockingClient peer(net::BlockingClientOptions{.cluster = "kvring", .id = "n9", .role = net::PeerRole::kNode});
  KV_ASSERT_OK(peer.Connect(cluster.node(0).address(), 5000));
  for (const auto& c : cases) {
    std::string body;
    repl::EncodeReplicaWrite(&body, "victim", c.set);
    auto replica = peer.Call(repl::Op(repl::ClusterOpcode::kReplicaWrite), body, 5000);
    ASSERT_FALSE(replica.ok()) << c.what;
    EXPECT_TRUE(replica.status().IsInvalidArgument()) << c.what << ": " << replica.status().ToString();
    EXPECT_NE(std::string::npos, replica.status().message().find(c.message)) << replica.status().ToString();
    std::string hinted_body;
    repl::EncodeHintedWrite(&hinted_body, "n2", body);
    auto hinted = peer.Call(repl::Op(repl::ClusterOpcode::kHintedWrite), hinted_body, 5000);
    ASSERT_FALSE(hinted.ok()) << c.what;
    EXPECT_TRUE(hinted.status().IsInvalidArgument()) << c.what << ": " << hinted.status().ToString();
  }
  EXPECT_EQ(6, StatsCounter(cluster.client(0), "peer_sets_refused"));
  auto local = cluster.client(0).GetLocal("victim");
  KV_ASSERT_OK(local);
  EXPECT_EQ(std::vector<std::string>{"v1"}, local->values());
  KV_ASSERT_OK(cluster.client(0).Replace("victim", "v2", kAll));
  auto after = cluster.client(1).Get("victim", kAll);
  KV_ASSERT_OK(after);
  EXPECT_EQ(std::vector<std::string>{"v2"}, after->values());
}

}  // namespace
}  // namespace kvring::test
