// Size limits in a replicated cluster (N=3) of real kvnode processes: a key whose
// concurrent versions together outgrow the frame limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace kvring::test
