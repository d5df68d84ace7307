#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::base::crc32c {
namespace {

// Known answers from RFC 3720 (iSCSI), B.4.
TEST(Crc32c, MatchesRfc3720Vectors) {
  std::string zeros(32, '\0');
  EXPECT_EQ(0x8a9136aau, Value(zeros.data(), zeros.size()));
  std::string ones(32, '\xff');
  EXPECT_EQ(0x62a8ab43u, Value(ones.data(), ones.size()));
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(0x46dd794eu, Value(inc.data(), inc.size()));
  EXPECT_EQ(0xe3069283u, Value("123456789", 9));
}

TEST(Crc32c, HardwareAndPortableAgreeOnRandomInput) {
  Random rnd(42);
  for (int i = 0; i < 200; ++i) {
    std::string s = rnd.RandomString(rnd.Uniform(300));
    uint32_t seed = rnd.Next32();
    EXPECT_EQ(ExtendPortable(seed, s.data(), s.size()), Extend(seed, s.data(), s.size()));
  }
}

// Every length from 0 to 2 KiB and lengths around the interleaved chunk sizes
// (3 x 256 and 3 x 8192 bytes) and a 4 KiB block, at every alignment mod 8,
// from random registers: the fast path must equal the byte-at-a-time table.
TEST(Crc32c, InterleavedPathMatchesPortableOnManyLengths) {
  const uint64_t seed = test::TestSeed("Crc32c.InterleavedPathMatchesPortableOnManyLengths");
  Random rnd(seed);
  const std::string data = rnd.RandomString(3 * 8192 * 2 + 64);
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 2048; ++n) lengths.push_back(n);
  for (size_t base : {size_t{3 * 256}, size_t{2 * 3 * 256}, size_t{4096}, size_t{3 * 8192}, size_t{2 * 3 * 8192}}) {
    for (size_t d = 0; d < 17; ++d) {
      lengths.push_back(base + d);
      lengths.push_back(base - d);
    }
  }
  lengths.push_back(3 * 8192 + 5 * 3 * 256 + 7);
  for (size_t n : lengths) {
    for (size_t offset = 0; offset < 8; ++offset) {
      const uint32_t init = rnd.Next32();
      ASSERT_EQ(ExtendPortable(init, data.data() + offset, n), Extend(init, data.data() + offset, n))
          << "length " << n << " offset " << offset << " seed " << seed;
    }
  }
}

TEST(Crc32c, ExtendEqualsWholeValue) {
  std::string s = "hello world, this is a crc test";
  uint32_t whole = Value(s.data(), s.size());
  uint32_t parts = Extend(Value(s.data(), 7), s.data() + 7, s.size() - 7);
  EXPECT_EQ(whole, parts);
}

TEST(Crc32c, MaskRoundTripsAndDiffers) {
  uint32_t crc = Value("foo", 3);
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
}

}  // namespace
}  // namespace kvring::base::crc32c
