#include "lsm/bloom.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(i));
  return buf;
}

// Builds a filter over keys [0, n) and measures its false-positive rate on keys
// that were never added (the shape engine_bench's readmissing uses).
double FalsePositiveRate(int n, int bits_per_key, int* false_negatives) {
  BloomFilterBuilder builder(bits_per_key);
  for (int i = 0; i < n; ++i) builder.AddKey(Key(i));
  std::string data = builder.Finish();
  BloomFilter filter(data);
  *false_negatives = 0;
  for (int i = 0; i < n; ++i) {
    if (!filter.MayContain(Key(i))) ++*false_negatives;
  }
  const int probes = 100000;
  int positives = 0;
  for (int i = 0; i < probes; ++i) {
    if (filter.MayContain(Key(1000000000ull + i))) ++positives;
  }
  return static_cast<double>(positives) / probes;
}

TEST(BloomTest, TenBitsPerKeyGiveUnderTwoPercentFalsePositivesAndNoFalseNegatives) {
  for (int n : {100, 1000, 10000, 100000}) {
    int false_negatives = 0;
    double rate = FalsePositiveRate(n, 10, &false_negatives);
    std::fprintf(stderr, "n=%d bits/key=10: false-positive rate %.3f%%\n", n, rate * 100);
    EXPECT_EQ(0, false_negatives) << n;
    EXPECT_LT(rate, 0.02) << n;
  }
}

TEST(BloomTest, MoreBitsPerKeyMeansFewerFalsePositives) {
  int fn = 0;
  double r5 = FalsePositiveRate(20000, 5, &fn);
  EXPECT_EQ(0, fn);
  double r10 = FalsePositiveRate(20000, 10, &fn);
  double r20 = FalsePositiveRate(20000, 20, &fn);
  EXPECT_EQ(0, fn);
  EXPECT_GT(r5, r10);
  EXPECT_GT(r10, r20);
  EXPECT_LT(r20, 0.001);
}

TEST(BloomTest, RandomKeysHaveNoFalseNegatives) {
  base::Random rnd(test::TestSeed("BloomTest.RandomKeysHaveNoFalseNegatives"));
  BloomFilterBuilder builder(10);
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) {
    keys.push_back(rnd.RandomString(rnd.Uniform(40)));
    builder.AddKey(keys.back());
  }
  std::string data = builder.Finish();
  BloomFilter filter(data);
  for (const auto& k : keys) EXPECT_TRUE(filter.MayContain(k)) << k;
}

TEST(BloomTest, FilterSizeFollowsBitsPerKey) {
  BloomFilterBuilder builder(10);
  for (int i = 0; i < 10000; ++i) builder.AddKey(Key(i));
  std::string data = builder.Finish();
  // 100,000 bits rounded up to 512-bit lines, plus the 2-byte trailer.
  EXPECT_EQ((100000 + 511) / 512 * 64 + 2, data.size());
}

TEST(BloomTest, RepeatedKeysAreCountedOnce) {
  BloomFilterBuilder builder(10);
  for (int v = 0; v < 5; ++v) builder.AddKey("same");
  EXPECT_EQ(1u, builder.num_keys());
}

TEST(BloomTest, EmptyFilterContainsNothing) {
  BloomFilterBuilder builder(10);
  std::string data = builder.Finish();
  BloomFilter filter(data);
  EXPECT_TRUE(filter.usable());
  EXPECT_FALSE(filter.MayContain("x"));
}

TEST(BloomTest, UnreadableFilterSaysMayContainForEveryKey) {
  BloomFilterBuilder builder(10);
  builder.AddKey("a");
  std::string data = builder.Finish();
  std::string unknown_kind = data;
  unknown_kind.back() = 9;
  std::string odd_size = data.substr(1);
  for (const std::string& bad : {unknown_kind, odd_size, std::string(), std::string("xy")}) {
    BloomFilter filter(bad);
    EXPECT_FALSE(filter.usable());
    EXPECT_TRUE(filter.MayContain("definitely absent"));
  }
}

}  // namespace
}  // namespace kvring::lsm
