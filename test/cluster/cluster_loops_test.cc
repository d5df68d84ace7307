// kvnode --loops 2: connections are spread over two event loops, each with its
// own coordinator and RPC client over the shared engine and replica store. A
// 3-node cluster must behave exactly as with one loop: writes from many
// connections at once are all readable through every node, cluster status and
// membership (which live on loop 0) answer from connections on either loop, and
// STATS counts every loop's requests.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/protocol.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr int kClientsPerNode = 4;  // round-robin: two land on each loop
constexpr int kKeysPerClient = 150;

TEST(ClusterLoopsTest, TwoLoopsPerNodeServeConcurrentClientsWithEveryWriteReadableEverywhere) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--loops", "2"}});
  KV_ASSERT_OK(cluster.Start());

  std::mutex mu;
  std::map<std::string, std::string> acked;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (size_t node = 0; node < cluster.size(); ++node) {
    for (int c = 0; c < kClientsPerNode; ++c) {
      threads.emplace_back([&, node, c] {
        KvClient client(cluster.node(node).address());
        const std::string prefix = "loops-n" + std::to_string(node) + "-c" + std::to_string(c);
        for (int i = 0; i < kKeysPerClient; ++i) {
          const std::string key = Key(prefix, i), value = Value(prefix, i);
          auto put = client.Put(key, value, kTwo);
          std::lock_guard<std::mutex> l(mu);
          if (put.ok()) {
            acked[key] = value;
          } else {
            failures.push_back(key + ": " + put.status().ToString());
          }
        }
        // Cluster status is answered by loop 0 whichever loop holds this connection.
        auto status = client.ClusterStatus();
        std::lock_guard<std::mutex> l(mu);
        if (!status.ok()) {
          failures.push_back("status via " + client.address() + ": " + status.status().ToString());
        } else if (status->size() != 3) {
          failures.push_back("status via " + client.address() + ": " + std::to_string(status->size()) + " members");
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  ASSERT_EQ(static_cast<size_t>(3 * kClientsPerNode * kKeysPerClient), acked.size());

  // Every write is readable through every coordinator, from connections on both loops.
  for (size_t node = 0; node < cluster.size(); ++node) {
    KvClient second(cluster.node(node).address());
    EXPECT_EQ("", CheckReadable(cluster.client(node), acked, kTwo));
    EXPECT_EQ("", CheckReadable(second, acked, kTwo));
  }

  // Membership polls between the nodes reached loop 0 from either loop: all up.
  for (size_t node = 0; node < cluster.size(); ++node) {
    auto status = cluster.client(node).ClusterStatus();
    KV_ASSERT_OK(status);
    for (const auto& m : *status) EXPECT_NE(repl::Liveness::kDown, m.liveness) << m.state.node.id;
  }

  // STATS sums the coordinators of both loops: node 0 coordinated its clients' puts.
  auto stats = cluster.client(0).Call(static_cast<uint8_t>(net::Opcode::kStats), "");
  KV_ASSERT_OK(stats);
  const std::string want = "coordinator_puts " + std::to_string(kClientsPerNode * kKeysPerClient) + "\n";
  EXPECT_NE(std::string::npos, stats->find(want)) << *stats;
}

}  // namespace
}  // namespace kvring::test
