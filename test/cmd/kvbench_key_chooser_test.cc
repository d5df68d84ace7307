#include "cmd/kvbench/key_chooser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <vector>

#include "cmd/kvbench/zipfian.h"
#include "test/util/test_util.h"

namespace kvring::cmd::kvbench {
namespace {

// Share of the draws that fell on the `top` most drawn keys.
double TopShare(std::vector<uint64_t> counts, size_t top, uint64_t draws) {
  std::sort(counts.begin(), counts.end(), std::greater<>());
  double sum = 0;
  for (size_t i = 0; i < top; ++i) sum += static_cast<double>(counts[i]);
  return sum / static_cast<double>(draws);
}

TEST(KvbenchZipfian, ZetaMatchesTheSumBeyondTheExactRange) {
  EXPECT_DOUBLE_EQ(ZipfianGenerator::Zeta(1, 0.99), 1.0);
  EXPECT_DOUBLE_EQ(ZipfianGenerator::Zeta(2, 0.5), 1.0 + 1.0 / std::sqrt(2.0));
  double exact = 0;
  for (uint64_t i = 1; i <= 2'500'000; ++i) exact += std::pow(static_cast<double>(i), -0.99);
  EXPECT_NEAR(ZipfianGenerator::Zeta(2'500'000, 0.99), exact, 1e-9 * exact);
}

TEST(KvbenchZipfian, RankFrequenciesMatchTheZipfLaw) {
  base::Random rng(test::TestSeed("KvbenchZipfian.Ranks"));
  constexpr uint64_t kN = 1000;
  constexpr int kDraws = 1'000'000;
  for (double theta : {0.5, 0.99, 1.0, 1.5}) {
    ZipfianGenerator z(kN, theta);
    std::vector<uint64_t> counts(kN);
    for (int i = 0; i < kDraws; ++i) {
      const uint64_t r = z.Next(&rng);
      ASSERT_LT(r, kN);
      ++counts[r];
    }
    const double zeta = ZipfianGenerator::Zeta(kN, theta);
    for (uint64_t r : {0, 1, 2, 5, 20, 100}) {
      const double p = std::pow(static_cast<double>(r + 1), -theta) / zeta;
      const double sigma = std::sqrt(kDraws * p * (1 - p));
      EXPECT_NEAR(static_cast<double>(counts[r]), kDraws * p, 5 * sigma) << "theta " << theta << " rank " << r;
    }
  }
}

TEST(KvbenchKeyChooser, ZipfianTopOnePercentOfKeysGetsTheExpectedShare) {
  base::Random rng(test::TestSeed("KvbenchKeyChooser.ZipfianTop"));
  for (uint64_t keys : {1000ull, 100000ull}) {
    auto chooser = KeyChooser::Make(Distribution::kZipfian, keys, 0.99);
    std::vector<uint64_t> counts(keys);
    constexpr uint64_t kDraws = 1'000'000;
    for (uint64_t i = 0; i < kDraws; ++i) {
      const uint64_t k = i % 2 ? chooser->NextRead(&rng) : chooser->NextWrite(&rng);
      ASSERT_LT(k, keys);
      ++counts[k];
    }
    // theta 0.99: the hottest 1% gets H(n/100)/H(n): 38.3% of 1000 keys, 60.5% of 100k.
    const double expected = ZipfianGenerator::Zeta(keys / 100, 0.99) / ZipfianGenerator::Zeta(keys, 0.99);
    EXPECT_NEAR(TopShare(counts, keys / 100, kDraws), expected, 0.005) << keys << " keys";
    // Scrambled: the hot keys are not the first keys of the space.
    uint64_t first_percent = 0;
    for (uint64_t k = 0; k < keys / 100; ++k) first_percent += counts[k];
    EXPECT_LT(static_cast<double>(first_percent) / kDraws, expected / 2);
  }
}

TEST(KvbenchKeyChooser, UniformCoversEveryKeyEvenly) {
  base::Random rng(test::TestSeed("KvbenchKeyChooser.Uniform"));
  constexpr uint64_t kKeys = 1000;
  auto chooser = KeyChooser::Make(Distribution::kUniform, kKeys, 0.99);
  std::vector<uint64_t> counts(kKeys);
  constexpr int kDraws = 500'000;
  for (int i = 0; i < kDraws; ++i) ++counts[i % 2 ? chooser->NextRead(&rng) : chooser->NextWrite(&rng)];
  const double mean = static_cast<double>(kDraws) / kKeys, sigma = std::sqrt(mean);
  for (uint64_t k = 0; k < kKeys; ++k) EXPECT_NEAR(static_cast<double>(counts[k]), mean, 5 * sigma) << k;
  EXPECT_NEAR(TopShare(counts, kKeys / 100, kDraws), 0.01, 0.002);
}

TEST(KvbenchKeyChooser, LatestWritesWalkTheKeySpaceAndReadsFavourTheNewest) {
  base::Random rng(test::TestSeed("KvbenchKeyChooser.Latest"));
  constexpr uint64_t kKeys = 1000;
  auto chooser = KeyChooser::Make(Distribution::kLatest, kKeys, 0.99);
  // The preload wrote 0..999, so writes continue at 0, 1, 2, ... and wrap.
  for (uint64_t i = 0; i < 2 * kKeys + 5; ++i) ASSERT_EQ(chooser->NextWrite(&rng), i % kKeys);
  const uint64_t latest = (2 * kKeys + 4) % kKeys;  // the last key written: 4
  std::vector<uint64_t> by_age(kKeys);  // draws per distance behind the latest write
  constexpr int kDraws = 500'000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t k = chooser->NextRead(&rng);
    ASSERT_LT(k, kKeys);
    ++by_age[(latest + kKeys - k) % kKeys];
  }
  const double zeta = ZipfianGenerator::Zeta(kKeys, 0.99);
  EXPECT_NEAR(static_cast<double>(by_age[0]) / kDraws, 1 / zeta, 0.005);  // the newest key: ~13%
  double newest_percent = 0;
  for (uint64_t a = 0; a < kKeys / 100; ++a) newest_percent += static_cast<double>(by_age[a]);
  EXPECT_NEAR(newest_percent / kDraws, ZipfianGenerator::Zeta(kKeys / 100, 0.99) / zeta, 0.005);
}

TEST(KvbenchKeyChooser, ScramblerIsABijection) {
  for (uint64_t n : {1ull, 2ull, 3ull, 10ull, 1000ull, 1024ull, 65536ull, 999983ull}) {
    KeyScrambler s(n);
    std::vector<bool> seen(n);
    for (uint64_t r = 0; r < n; ++r) {
      const uint64_t k = s.Map(r);
      ASSERT_LT(k, n);
      ASSERT_FALSE(seen[k]) << "n=" << n << " rank " << r;
      seen[k] = true;
    }
  }
}

TEST(KvbenchKeyChooser, ParsesDistributionNames) {
  Distribution d;
  ASSERT_TRUE(ParseDistribution("zipfian", &d));
  EXPECT_EQ(d, Distribution::kZipfian);
  ASSERT_TRUE(ParseDistribution("latest", &d));
  EXPECT_EQ(d, Distribution::kLatest);
  ASSERT_TRUE(ParseDistribution("uniform", &d));
  EXPECT_EQ(d, Distribution::kUniform);
  EXPECT_FALSE(ParseDistribution("zipf", &d));
  EXPECT_STREQ(DistributionName(Distribution::kLatest), "latest");
}

}  // namespace
}  // namespace kvring::cmd::kvbench
