#include "cmd/kvbench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::cmd::kvbench {
namespace {

// The exact value at quantile q of sorted values, by the histogram's definition:
// the smallest value with at least q of the values at or below it.
uint64_t ExactPercentile(const std::vector<uint64_t>& sorted, double q) {
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void ExpectPercentilesWithinOnePercent(const std::vector<uint64_t>& values) {
  Histogram h;
  for (uint64_t v : values) h.Record(v);
  std::vector<uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    const double exact = static_cast<double>(ExactPercentile(sorted, q));
    const double got = static_cast<double>(h.Percentile(q));
    EXPECT_LE(std::fabs(got - exact), exact * 0.01) << "q=" << q << " exact=" << exact << " got=" << got;
  }
  EXPECT_EQ(h.max(), sorted.back());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.count(), values.size());
}

TEST(KvbenchHistogram, EmptyHistogramReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), 0u);
  EXPECT_EQ(h.Percentile(1.0), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(KvbenchHistogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 256; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.5), 127u);
  EXPECT_EQ(h.Percentile(0.99), 253u);
  EXPECT_EQ(h.Percentile(1.0), 255u);
  EXPECT_DOUBLE_EQ(h.Mean(), 127.5);
}

TEST(KvbenchHistogram, EveryBucketIsNarrowerThanOnePercentOfItsValues) {
  base::Random rng(test::TestSeed("KvbenchHistogram.Buckets"));
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = rng.Next64() >> rng.Uniform(64);
    if (v >= Histogram::kMaxTrackable) continue;
    const int b = Histogram::BucketIndex(v);
    ASSERT_GE(b, 0);
    ASSERT_LT(b, Histogram::kBucketCount);
    ASSERT_LE(Histogram::BucketLow(b), v);
    ASSERT_GE(Histogram::BucketHigh(b), v);
    const double width = static_cast<double>(Histogram::BucketHigh(b) - Histogram::BucketLow(b) + 1);
    ASSERT_LE(width, std::max(1.0, static_cast<double>(Histogram::BucketLow(b)) / 128.0)) << v;
  }
  // Buckets tile the range without gaps.
  for (int b = 1; b < Histogram::kBucketCount; ++b) {
    ASSERT_EQ(Histogram::BucketLow(b), Histogram::BucketHigh(b - 1) + 1) << b;
  }
}

TEST(KvbenchHistogram, UniformLatenciesPercentilesWithinOnePercent) {
  base::Random rng(test::TestSeed("KvbenchHistogram.Uniform"));
  std::vector<uint64_t> values(100000);
  for (auto& v : values) v = rng.Range(20'000, 5'000'000);  // 20 µs .. 5 ms in ns
  ExpectPercentilesWithinOnePercent(values);
}

TEST(KvbenchHistogram, HeavyTailedLatenciesPercentilesWithinOnePercent) {
  base::Random rng(test::TestSeed("KvbenchHistogram.LogNormal"));
  std::vector<uint64_t> values(100000);
  for (auto& v : values) {
    // Log-normal around 300 µs spanning several decades (Box-Muller).
    const double z = std::sqrt(-2 * std::log(1 - rng.NextDouble())) * std::cos(6.283185307 * rng.NextDouble());
    v = static_cast<uint64_t>(std::exp(std::log(300'000.0) + 1.5 * z));
  }
  ExpectPercentilesWithinOnePercent(values);
}

TEST(KvbenchHistogram, MergeEqualsRecordingEverythingInOne) {
  base::Random rng(test::TestSeed("KvbenchHistogram.Merge"));
  Histogram a, b, both;
  for (int i = 0; i < 50000; ++i) {
    const uint64_t v = rng.Range(1, 10'000'000);
    (i % 3 == 0 ? a : b).Record(v);
    both.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.max(), both.max());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_DOUBLE_EQ(a.Mean(), both.Mean());
  for (double q : {0.5, 0.9, 0.99, 0.999}) EXPECT_EQ(a.Percentile(q), both.Percentile(q)) << q;
}

TEST(KvbenchHistogram, MaxIsExactEvenBeyondTheTrackableRange) {
  Histogram h;
  h.Record(1000);
  h.Record(Histogram::kMaxTrackable * 4 + 7);
  EXPECT_EQ(h.max(), Histogram::kMaxTrackable * 4 + 7);
  EXPECT_EQ(h.Percentile(1.0), h.max());
  EXPECT_NEAR(static_cast<double>(h.Percentile(0.5)), 1000.0, 1000.0 / 256);  // its bucket's midpoint
  EXPECT_EQ(h.count(), 2u);
}

TEST(KvbenchHistogram, ClearForgetsEverything) {
  Histogram h;
  h.Record(5);
  h.Record(500000);
  h.Clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  h.Record(42);
  EXPECT_EQ(h.min(), 42u);
  EXPECT_EQ(h.Percentile(0.5), 42u);
}

}  // namespace
}  // namespace kvring::cmd::kvbench
