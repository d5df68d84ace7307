#include "lsm/compression.h"

#include <gtest/gtest.h>

#include <string>

#include "base/random.h"

namespace kvring::lsm {
namespace {

std::string Uncompress(const std::string& payload) {
  std::unique_ptr<char[]> out;
  size_t n = 0;
  base::Status s = UncompressBlock(Compression::kLz4, payload, &out, &n);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return s.ok() ? std::string(out.get(), n) : std::string();
}

TEST(CompressionTest, CompressibleDataRoundTripsAndShrinks) {
  std::string raw;
  for (int i = 0; i < 200; ++i) raw += "key" + std::to_string(i % 7) + " value value value ";
  std::string compressed;
  ASSERT_TRUE(CompressBlock(Compression::kLz4, raw, &compressed));
  EXPECT_LT(compressed.size(), raw.size() / 2);
  EXPECT_EQ(raw, Uncompress(compressed));
}

TEST(CompressionTest, IncompressibleDataIsLeftRaw) {
  base::Random rnd(1);
  std::string raw(4096, '\0');
  for (auto& c : raw) c = static_cast<char>(rnd.Next32());
  std::string compressed;
  EXPECT_FALSE(CompressBlock(Compression::kLz4, raw, &compressed));
}

TEST(CompressionTest, SavingLessThanAnEighthIsNotWorthIt) {
  // 95% random bytes and 5% zeros: LZ4 saves about 5%, under the 1/8 threshold.
  base::Random rnd(2);
  std::string raw(4000, '\0');
  for (size_t i = 0; i < 3800; ++i) raw[i] = static_cast<char>(rnd.Next32());
  std::string compressed;
  EXPECT_FALSE(CompressBlock(Compression::kLz4, raw, &compressed));
}

TEST(CompressionTest, NoneNeverCompresses) {
  std::string out;
  EXPECT_FALSE(CompressBlock(Compression::kNone, std::string(1000, 'a'), &out));
}

TEST(CompressionTest, EmptyAndTinyInputsRoundTripWhenCompressed) {
  std::string compressed;
  EXPECT_FALSE(CompressBlock(Compression::kLz4, "", &compressed));
  EXPECT_FALSE(CompressBlock(Compression::kLz4, "abc", &compressed));
  std::string zeros(100000, '\0');
  ASSERT_TRUE(CompressBlock(Compression::kLz4, zeros, &compressed));
  EXPECT_EQ(zeros, Uncompress(compressed));
}

TEST(CompressionTest, GarbagePayloadIsCorruptionNotACrash) {
  std::string raw(3000, 'x');
  std::string compressed;
  ASSERT_TRUE(CompressBlock(Compression::kLz4, raw, &compressed));
  std::unique_ptr<char[]> out;
  size_t n = 0;
  // Truncated payload.
  EXPECT_TRUE(UncompressBlock(Compression::kLz4, compressed.substr(0, compressed.size() / 2), &out, &n).IsCorruption());
  // A declared size far beyond what the payload could expand to.
  std::string huge = "\xff\xff\xff\xff\x0f" + compressed.substr(2);
  EXPECT_TRUE(UncompressBlock(Compression::kLz4, huge, &out, &n).IsCorruption());
  // Random bytes.
  base::Random rnd(3);
  for (int i = 0; i < 500; ++i) {
    std::string junk = rnd.RandomString(rnd.Uniform(64));
    base::Status s = UncompressBlock(Compression::kLz4, junk, &out, &n);
    if (s.ok()) {
      EXPECT_LE(n, junk.size() * 255 + 16);
    }
  }
  // An unknown type.
  EXPECT_TRUE(UncompressBlock(static_cast<Compression>(7), compressed, &out, &n).IsCorruption());
}

}  // namespace
}  // namespace kvring::lsm
