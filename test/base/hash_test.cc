#include "base/hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace kvring::base {
namespace {

// Reference values of XXH64 (seed 0) from the algorithm's published test vectors.
TEST(Hash64, MatchesXxh64ReferenceValues) {
  EXPECT_EQ(0xEF46DB3751D8E999ull, Hash64("", 0, 0));
  EXPECT_EQ(0xD24EC4F1A98C6E5Bull, Hash64("a", 1, 0));
  EXPECT_EQ(0x44BC2CF5AD770999ull, Hash64("abc", 3, 0));
  // A literal with a seed picks the string_view overload: the whole literal is hashed.
  EXPECT_EQ(Hash64("abc", 3, 0), Hash64("abc", 0));
}

TEST(Hash64, LongInputsUseAllBytes) {
  std::string a(100, 'x'), b(100, 'x');
  b[99] = 'y';
  EXPECT_NE(Hash64(a), Hash64(b));
  b = a;
  b[0] = 'y';
  EXPECT_NE(Hash64(a), Hash64(b));
  EXPECT_NE(Hash64(a, 1), Hash64(a, 2));
}

TEST(Hash64, SpreadsSequentialKeysOverTheTopBits) {
  // Ring tokens take the whole 64-bit space; sequential keys must not cluster.
  int buckets[16] = {};
  for (int i = 0; i < 16000; ++i) buckets[Hash64("key" + std::to_string(i)) >> 60]++;
  for (int count : buckets) {
    EXPECT_GT(count, 800);
    EXPECT_LT(count, 1200);
  }
}

}  // namespace
}  // namespace kvring::base
