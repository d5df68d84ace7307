#include "net/hello_auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "test/util/test_util.h"

namespace kvring::net {
namespace {

using test::Hex;

std::string Nonce(int first) {
  std::string n;
  for (int i = 0; i < 16; ++i) n.push_back(static_cast<char>(first + i));
  return n;
}

// docs/protocol.md section 6.1: the worked handshake of node n2 joining cluster
// kvring with the secret "correct horse battery staple" (values cross-checked
// with Python's hmac module).
const ClusterSecret kSecret = ClusterSecret::FromMaterial("correct horse battery staple");
const std::string kClientNonce = Nonce(0x00), kServerNonce = Nonce(0x10);

TEST(HelloAuth, TheWorkedExampleMatchesTheDocumentedBytes) {
  EXPECT_EQ("3d 50 eb 20 b6 df cd 8c 18 9f 35 63 d8 bb d0 56 be 6e 3b 75 de 4f a6 f8 12 92 eb ad 37 2d ad fc",
            Hex(kSecret.key()));
  EXPECT_EQ("ae 13 0a ea 6f 38 12 0b 8a fb d1 88 06 0a ce d4 30 e9 96 30 25 43 1e 52 69 fc fb fd a4 40 82 1c",
            Hex(HelloProof(kSecret, HelloSide::kServer, "kvring", "n2", kClientNonce, kServerNonce)));
  EXPECT_EQ("5d 16 ad c5 dc c7 93 f6 2d a8 94 7b 7e 40 dd c4 3d 47 c9 9e bc 45 64 0c 25 44 64 19 36 e3 19 76",
            Hex(HelloProof(kSecret, HelloSide::kClient, "kvring", "n2", kClientNonce, kServerNonce)));
}

TEST(HelloAuth, AProofChecksOnlyForItsSideSecretClusterIdAndNonces) {
  const std::string proof = HelloProof(kSecret, HelloSide::kClient, "kvring", "n2", kClientNonce, kServerNonce);
  EXPECT_TRUE(CheckHelloProof(kSecret, HelloSide::kClient, "kvring", "n2", kClientNonce, kServerNonce, proof));
  const ClusterSecret other = ClusterSecret::FromMaterial("another secret of enough bytes");
  EXPECT_FALSE(CheckHelloProof(other, HelloSide::kClient, "kvring", "n2", kClientNonce, kServerNonce, proof));
  EXPECT_FALSE(CheckHelloProof(kSecret, HelloSide::kServer, "kvring", "n2", kClientNonce, kServerNonce, proof))
      << "a client's proof must not pass as the server's (reflection)";
  EXPECT_FALSE(CheckHelloProof(kSecret, HelloSide::kClient, "other", "n2", kClientNonce, kServerNonce, proof));
  EXPECT_FALSE(CheckHelloProof(kSecret, HelloSide::kClient, "kvring", "n3", kClientNonce, kServerNonce, proof));
  EXPECT_FALSE(CheckHelloProof(kSecret, HelloSide::kClient, "kvring", "n2", Nonce(1), kServerNonce, proof));
  EXPECT_FALSE(CheckHelloProof(kSecret, HelloSide::kClient, "kvring", "n2", kClientNonce, Nonce(0x11), proof));
  EXPECT_FALSE(CheckHelloProof(kSecret, HelloSide::kClient, "kvring", "n2", kClientNonce, kServerNonce, ""));
  // lp() framing: moving a byte from the cluster to the id changes the proof.
  EXPECT_NE(HelloProof(kSecret, HelloSide::kClient, "kvringn", "2", kClientNonce, kServerNonce), proof);
}

TEST(HelloAuth, NoncesAreFreshRandomBytes) {
  const std::string a = HelloNonce(), b = HelloNonce();
  EXPECT_EQ(kHelloNonceBytes, a.size());
  EXPECT_NE(a, b);
}

class SecretFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& content, mode_t mode) {
    const std::string path = dir_.path() + "/secret";
    std::ofstream(path, std::ios::trunc) << content;
    EXPECT_EQ(0, ::chmod(path.c_str(), mode));
    return path;
  }
  test::TempDir dir_;
};

TEST_F(SecretFileTest, ASecretFileIsReadWithoutItsTrailingNewline) {
  auto secret = ClusterSecret::FromFile(Write("correct horse battery staple\n", 0600));
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_EQ("correct horse battery staple", secret->material());
  EXPECT_EQ(kSecret.key(), secret->key());
}

TEST_F(SecretFileTest, ShortOpenOrMissingSecretFilesAreRefusedNamingTheFix) {
  auto short_secret = ClusterSecret::FromFile(Write("too short\n", 0600));
  ASSERT_FALSE(short_secret.ok());
  EXPECT_NE(std::string::npos, short_secret.status().message().find("9 bytes, at least 16"))
      << short_secret.status().ToString();
  auto open = ClusterSecret::FromFile(Write("correct horse battery staple", 0644));
  ASSERT_FALSE(open.ok());
  EXPECT_NE(std::string::npos, open.status().message().find("chmod 600")) << open.status().ToString();
  auto missing = ClusterSecret::FromFile(dir_.path() + "/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string::npos, missing.status().message().find("/none")) << missing.status().ToString();
}

}  // namespace
}  // namespace kvring::net
