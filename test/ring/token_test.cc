#include "ring/token.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace kvring::ring {
namespace {

constexpr Token kMax = std::numeric_limits<Token>::max();

TEST(TokenOf, IsXxh64OfTheKeyWithSeedZero) {
  // A string_view: Hash64("user:42", 0) would pick the (pointer, length) overload.
  EXPECT_EQ(base::Hash64(std::string_view("user:42"), 0), TokenOf("user:42"));
  EXPECT_EQ(0xEF46DB3751D8E999ull, TokenOf(""));  // XXH64 reference vector
}

TEST(VnodeToken, HashesIdHashIndex) {
  EXPECT_EQ(base::Hash64("n1#0"), VnodeToken("n1", 0));
  EXPECT_EQ(base::Hash64("n1#255"), VnodeToken("n1", 255));
  EXPECT_EQ(base::Hash64("a#1#2"), VnodeToken("a#1", 2));
}

TEST(VnodeToken, DistinctIdsAndIndexesGiveDistinctTokens) {
  std::set<Token> tokens;
  for (const char* id : {"a", "a#1", "a#12", "b"}) {
    for (uint32_t i = 0; i < 300; ++i) tokens.insert(VnodeToken(id, i));
  }
  EXPECT_EQ(1200u, tokens.size());
}

TEST(TokenRange, ContainsIsOpenAtStartClosedAtEnd) {
  const TokenRange r{10, 20};
  EXPECT_FALSE(r.wraps());
  EXPECT_FALSE(r.Contains(10));
  EXPECT_TRUE(r.Contains(11));
  EXPECT_TRUE(r.Contains(20));
  EXPECT_FALSE(r.Contains(21));
  EXPECT_EQ(10u, r.width());
}

TEST(TokenRange, WrappingRangeCoversBothEndsOfTheTokenSpace) {
  const TokenRange r{kMax - 5, 3};
  EXPECT_TRUE(r.wraps());
  EXPECT_FALSE(r.Contains(kMax - 5));
  EXPECT_TRUE(r.Contains(kMax));
  EXPECT_TRUE(r.Contains(0));
  EXPECT_TRUE(r.Contains(3));
  EXPECT_FALSE(r.Contains(4));
  EXPECT_FALSE(r.Contains(kMax / 2));
  EXPECT_EQ(9u, r.width());
}

TEST(TokenRange, EqualEndsMeanTheWholeRing) {
  const TokenRange r{77, 77};
  EXPECT_TRUE(r.full());
  for (Token t : {Token{0}, Token{76}, Token{77}, Token{78}, kMax}) EXPECT_TRUE(r.Contains(t)) << t;
  EXPECT_DOUBLE_EQ(1.0, r.Fraction());
}

TEST(TokenRange, FractionIsShareOfTwoToTheSixtyFour) {
  EXPECT_DOUBLE_EQ(0.5, (TokenRange{0, Token{1} << 63}).Fraction());
  EXPECT_DOUBLE_EQ(0.25, (TokenRange{kMax - (Token{1} << 62) + 1, 0}).Fraction());
  EXPECT_EQ("(0x000000000000000a, 0x0000000000000014]", (TokenRange{10, 20}).ToString());
}

}  // namespace
}  // namespace kvring::ring
