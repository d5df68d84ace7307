#include "base/crypto.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::base {
namespace {

using test::HexDigits;

// RFC 4231, test cases 1, 2 and 6 (a key longer than SHA-256's block is hashed first).
const std::string kKey1(20, '\x0b');
const char kMac1[] = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
const char kMac2[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
const char kMac6[] = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";

TEST(Crypto, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(kMac1, HexDigits(HmacSha256(kKey1, "Hi There")));
  EXPECT_EQ(kMac2, HexDigits(HmacSha256("Jefe", "what do ya want for nothing?")));
  EXPECT_EQ(kMac2, HexDigits(HmacSha256("Jefe", {"what do ya ", "", "want for nothing?"}))) << "pieces are concatenated";
  EXPECT_EQ(kMac6, HexDigits(HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")));
}

// FIPS 180-2's "abc"; RFC 7914 section 11's PBKDF2-HMAC-SHA256 (first 32 bytes of
// its 64) and the widely published c = 4096 vector.
TEST(Crypto, Sha256AndPbkdf2MatchPublishedVectors) {
  EXPECT_EQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HexDigits(Sha256("abc")));
  EXPECT_EQ("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc",
            HexDigits(Pbkdf2Sha256("passwd", "salt", 1)));
  EXPECT_EQ("c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
            HexDigits(Pbkdf2Sha256("password", "salt", 4096)));
}

// Against OpenSSL's own one-shot HMAC: keys and messages of every size around the
// block boundaries (0..130 bytes), random bytes.
TEST(Crypto, HmacSha256AgreesWithOpenSslForAllSizes) {
  base::Random rnd(test::TestSeed("HmacSha256AgreesWithOpenSslForAllSizes"));
  auto bytes = [&rnd](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rnd.Uniform(256));
    return s;
  };
  for (size_t klen = 0; klen <= 130; klen += 13) {
    for (size_t mlen = 0; mlen <= 130; ++mlen) {
      const std::string key = bytes(klen), msg = bytes(mlen);
      unsigned char want[32];
      unsigned int len = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
           msg.size(), want, &len);
      ASSERT_EQ(HexDigits(std::string_view(reinterpret_cast<char*>(want), len)), HexDigits(HmacSha256(key, msg)))
          << "key " << klen << " bytes, message " << mlen << " bytes";
    }
  }
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
