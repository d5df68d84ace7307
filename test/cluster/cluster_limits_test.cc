// Size limits in a replicated cluster (N=3) of real kvnode processes: a key whose
// concurrent versions together outgrow the frame limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

// BUG (repl/ + cmd/kvnode, not fixed yet; run with --gtest_also_run_disabled_tests):
// siblings are capped by count (--max-siblings 64) but not by bytes, and 64 x
// --max-value is far over --max-frame. Once a key's sibling set encodes to more
// than --max-frame bytes:
//   - every write to it fails "quorum not reached: 1 of 2 write acks (n2 error:
//     frame of 1080349 bytes exceeds the maximum of 1048576, ...)" yet is stored on
//     its coordinator, so the key keeps growing;
//   - every GET fails "quorum not reached: 1 of 2 read replies (n3 down, n1 down)":
//     the replicas' REPLICA_READ replies are over the frame limit, the coordinator's
//     RPC client drops the connection, and healthy peers are reported (and shown by
//     `kvctl status`) as down;
//   - the key cannot be read, so no client can get the context that resolves it.
// Expected: a write that would make the key's versions exceed what one frame can
// carry is refused with TooLarge before anything is stored (like the sibling
// cap), so the key stays readable and no peer is falsely marked down.
TEST(ClusterLimitsTest, DISABLED_AKeyWhoseSiblingsOutgrowTheFrameLimitStaysReadable) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--max-value", "64k", "--max-frame", "1m"}});
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("big", "base", kAll));
  auto base = cluster.client(0).Get("big", kAll);
  KV_ASSERT_OK(base);
  // 20 writers that all start from "base": 20 siblings of 60,000 bytes = 1.2 MB.
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
  ASSERT_GE(acked.size(), 10u);
  // The key stays readable with every acknowledged version...
  for (size_t via = 0; via < 3; ++via) {
    auto get = cluster.client(via).Get("big", kTwo);
    KV_ASSERT_OK(get);
    std::vector<std::string> values = get->values();
    for (const auto& v : acked) {
      EXPECT_TRUE(std::find(values.begin(), values.end(), v) != values.end()) << "an acknowledged sibling is missing";
    }
  }
  // ...and no healthy node is reported down.
  KV_EXPECT_OK(cluster.WaitUntilConnected(5000));
}

}  // namespace
}  // namespace kvring::test
