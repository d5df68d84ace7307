// The small state files' envelope (base/sealed_file.h): magic, version, body and
// a masked crc32c pinned as bytes; every kind of damage refused with a message
// naming the file and what is wrong.
#include "base/sealed_file.h"

#include <gtest/gtest.h>

#include <string>

#include "test/util/test_util.h"

namespace kvring::base {
namespace {

constexpr uint8_t kMaxVersion = 2;

std::string Sealed(uint8_t version, std::string_view body) {
  std::string bytes;
  SealFile("KVXX", version, body, &bytes);
  return bytes;
}

Status Open(std::string_view bytes, uint8_t* version, std::string_view* body) {
  return OpenSealedFile(bytes, "KVXX", kMaxVersion, "test file", version, body);
}

Status Open(std::string_view bytes) {
  uint8_t version = 0;
  std::string_view body;
  return Open(bytes, &version, &body);
}

TEST(SealedFile, IsTheMagicTheVersionTheBodyThenTheMaskedCrcOfThemAll) {
  // crc32c("KVXX" 01 "ab") = 0xefc05837 (RFC 3720's polynomial), masked as in
  // docs/formats/wal.md: 0x52f2ca58, little-endian.
  EXPECT_EQ("4b 56 58 58 01 61 62 58 ca f2 52", test::Hex(Sealed(1, "ab")));
  std::string appended = "head";
  SealFile("KVXX", 1, "ab", &appended);
  EXPECT_EQ("head" + Sealed(1, "ab"), appended) << "the checksum covers only what SealFile appended";
}

TEST(SealedFile, OpensToItsVersionAndBody) {
  for (uint8_t v : {uint8_t{1}, kMaxVersion}) {
    for (std::string_view b : {std::string_view(""), std::string_view("body bytes")}) {
      const std::string bytes = Sealed(v, b);
      uint8_t version = 0;
      std::string_view body;
      ASSERT_TRUE(Open(bytes, &version, &body).ok());
      EXPECT_EQ(v, version);
      EXPECT_EQ(b, body);
    }
  }
}

TEST(SealedFile, RefusesAShortFileABadMagicAndAFlippedBit) {
  const std::string good = Sealed(1, "body");
  EXPECT_EQ("Corruption: test file: truncated (8 bytes)", Open(good.substr(0, 8)).ToString());
  for (size_t n = 9; n < good.size(); ++n) EXPECT_TRUE(Open(good.substr(0, n)).IsCorruption()) << n << " bytes";
  EXPECT_EQ("Corruption: test file: checksum mismatch", Open(good + "x").ToString());
  std::string magic = good;
  magic[0] = 'X';
  EXPECT_EQ("Corruption: test file: bad magic", Open(magic).ToString());
  for (size_t byte = 4; byte < good.size(); ++byte) {
    std::string flipped = good;
    flipped[byte] ^= 0x04;
    EXPECT_EQ("Corruption: test file: checksum mismatch", Open(flipped).ToString()) << "byte " << byte;
  }
}

TEST(SealedFile, RefusesVersionZeroAndANewerVersion) {
  EXPECT_EQ("Corruption: test file: bad format version 0", Open(Sealed(0, "body")).ToString());
  Status newer = Open(Sealed(kMaxVersion + 1, "body"));
  EXPECT_EQ(Status::Code::kNotSupported, newer.code());
  EXPECT_EQ("test file: format version 3 is newer than this build reads (2)", newer.message());
}

}  // namespace
}  // namespace kvring::base
