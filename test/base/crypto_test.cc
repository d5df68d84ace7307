#include "base/crypto.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test/util/test_util.h"

namespace kvring::base {
namespace {

using test::HexDigits;

// RFC 4231, test cases 1 and 2.
const std::string kKey1(20, '\x0b');
const char kMac1[] = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
const char kMac2[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

TEST(Crypto, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(kMac1, HexDigits(HmacSha256(kKey1, "Hi There")));
  EXPECT_EQ(kMac2, HexDigits(HmacSha256("Jefe", "what do ya want for nothing?")));
  EXPECT_EQ(kMac2, HexDigits(HmacSha256("Jefe", {"what do ya ", "", "want for nothing?"}))) << "pieces are concatenated";
}

// Each thread keeps keyed contexts for its recent keys: a MAC never depends on
// which keys came before it, however many.
TEST(Crypto, ManyKeysInTurnAndManyThreadsGetTheSameMacs) {
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 20; ++k) HmacSha256(std::string(32, static_cast<char>('a' + k)), "filler");
    EXPECT_EQ(kMac1, HexDigits(HmacSha256(kKey1, "Hi There")));
    EXPECT_EQ(kMac2, HexDigits(HmacSha256("Jefe", "what do ya want for nothing?")));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        wrong += HexDigits(HmacSha256(kKey1, "Hi There")) != kMac1;
        wrong += HexDigits(HmacSha256("Jefe", "what do ya want for nothing?")) != kMac2;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, wrong.load());
}

TEST(Crypto, ConstantTimeEqualComparesSizeAndBytes) {
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_EQ(16u, RandomBytes(16).size());
  EXPECT_NE(RandomBytes(16), RandomBytes(16));
}

}  // namespace
}  // namespace kvring::base
