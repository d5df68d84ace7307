#include "base/random.h"

#include <gtest/gtest.h>

namespace kvring::base {
namespace {

TEST(Random, SameSeedSameSequence) {
  Random a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next64();
    EXPECT_EQ(x, b.Next64());
    differs |= x != c.Next64();
  }
  EXPECT_TRUE(differs);
}

TEST(Random, UniformStaysInRangeAndCoversIt) {
  Random r(1);
  int seen[10] = {};
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = r.Uniform(10);
    ASSERT_LT(v, 10u);
    seen[v]++;
  }
  for (int count : seen) EXPECT_GT(count, 800);
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = r.Range(5, 7);
    EXPECT_GE(v, 5u);
    EXPECT_LE(v, 7u);
  }
}

}  // namespace
}  // namespace kvring::base
