#include "base/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace kvring::base {
namespace {

TEST(Coding, FixedRoundTripIsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  ASSERT_EQ(12u, s.size());
  EXPECT_EQ('\x01', s[0]);
  EXPECT_EQ('\x04', s[3]);
  EXPECT_EQ('\x08', s[11]);
  std::string_view in(s);
  uint32_t a;
  uint64_t b;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_EQ(0x04030201u, a);
  EXPECT_EQ(0x0807060504030201ull, b);
  EXPECT_FALSE(GetFixed32(&in, &a));
}

TEST(Coding, Varint64RoundTripOverPowersOfTwo) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 300, std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 64; ++i) {
    values.push_back((1ull << i) - 1);
    values.push_back(1ull << i);
    values.push_back((1ull << i) + 1);
  }
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  std::string_view in(s);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(v, got);
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, VarintLengthMatchesEncoding) {
  for (uint64_t v : {0ull, 127ull, 128ull, 16383ull, 16384ull, ~0ull}) {
    std::string s;
    PutVarint64(&s, v);
    EXPECT_EQ(static_cast<int>(s.size()), VarintLength(v));
  }
  std::string max;
  PutVarint64(&max, ~0ull);
  EXPECT_EQ(10u, max.size());
}

TEST(Coding, Varint32RejectsTruncatedAndOverlongInput) {
  std::string s;
  PutVarint32(&s, 0xffffffffu);
  for (size_t cut = 0; cut < s.size(); ++cut) {
    std::string_view in(s.data(), cut);
    uint32_t v;
    EXPECT_FALSE(GetVarint32(&in, &v)) << "cut at " << cut;
  }
  std::string overlong(6, '\xff');
  std::string_view in(overlong);
  uint32_t v;
  EXPECT_FALSE(GetVarint32(&in, &v));
}

TEST(Coding, LengthPrefixedRejectsLengthPastEnd) {
  std::string s;
  PutLengthPrefixed(&s, "hello");
  std::string_view in(s);
  std::string_view out;
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ("hello", out);
  std::string bad;
  PutVarint32(&bad, 100);
  bad += "short";
  std::string_view bad_in(bad);
  EXPECT_FALSE(GetLengthPrefixed(&bad_in, &out));
}

TEST(Coding, BigEndianPreservesNumericOrder) {
  char a[8], b[8];
  EncodeBigEndian64(a, 0x00ff000000000000ull);
  EncodeBigEndian64(b, 0x0100000000000000ull);
  EXPECT_LT(std::string_view(a, 8), std::string_view(b, 8));
  EXPECT_EQ(0x00ff000000000000ull, DecodeBigEndian64(a));
}

}  // namespace
}  // namespace kvring::base
