// test/lsm/merkle_index_test.cc — MerkleIndex: boundaries, leaf lookup, dirty
// tracking, split changes and the file format (docs/formats/merkle.md).
#include "lsm/merkle_index.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "base/coding.h"
#include "base/hash.h"

namespace kvring::lsm {
namespace {

std::string Hex(std::string_view bytes) {
  std::string hex;
  for (unsigned char c : bytes) {
    char buf[3];
    std::snprintf(buf, sizeof(buf), "%02x", c);
    hex += buf;
  }
  return hex;
}

TEST(MerkleIndex, KeyPrefixIsBigEndianZeroPadded) {
  EXPECT_EQ(0x0102030405060708ull, MerkleIndex::KeyPrefix(std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9)));
  EXPECT_EQ(0x6162000000000000ull, MerkleIndex::KeyPrefix("ab"));
  EXPECT_EQ(0u, MerkleIndex::KeyPrefix(""));
  EXPECT_EQ("ab", MerkleIndex::PrefixStartKey(0x6162000000000000ull));
  EXPECT_EQ("", MerkleIndex::PrefixStartKey(0));
  // Every key at or above the start key has a prefix at or above it, and none below.
  EXPECT_GE(MerkleIndex::KeyPrefix("ab"), 0x6162000000000000ull);
  EXPECT_LT(MerkleIndex::KeyPrefix("aa\xff"), 0x6162000000000000ull);
}

TEST(MerkleIndex, EntryHashIsHashOfKeyThenDigest) {
  std::string buf = "key";
  base::PutFixed64(&buf, 99);
  EXPECT_EQ(base::Hash64(buf), MerkleIndex::EntryHash("key", 99));
  EXPECT_NE(MerkleIndex::EntryHash("key", 99), MerkleIndex::EntryHash("key", 98));
}

TEST(MerkleIndex, GridAndSplitsMakeTheBoundaries) {
  MerkleIndex index(2, {0x4000000000000000ull /* on the grid */, 0x1000000000000000ull, 0x1000000000000000ull,
                        0xf000000000000000ull});
  ASSERT_EQ(6u, index.num_leaves());
  const uint64_t expect[] = {0, 0x1000000000000000ull, 0x4000000000000000ull, 0x8000000000000000ull,
                             0xc000000000000000ull, 0xf000000000000000ull};
  for (size_t i = 0; i < 6; i++) EXPECT_EQ(expect[i], index.LeafBegin(i)) << i;
  EXPECT_EQ(0u, index.LeafEnd(5));  // 2^64
  EXPECT_EQ(0u, index.LeafOf(0));
  EXPECT_EQ(0u, index.LeafOf(0x0fffffffffffffffull));
  EXPECT_EQ(1u, index.LeafOf(0x1000000000000000ull));
  EXPECT_EQ(1u, index.LeafOf(0x3fffffffffffffffull));
  EXPECT_EQ(4u, index.LeafOf(0xefffffffffffffffull));
  EXPECT_EQ(5u, index.LeafOf(~0ull));
  EXPECT_EQ(6u, index.dirty_leaves());
}

TEST(MerkleIndex, ZeroLeafBitsIsOneLeafPlusSplits) {
  MerkleIndex index(0, {5, 10});
  ASSERT_EQ(3u, index.num_leaves());
  EXPECT_EQ(0u, index.LeafOf(4));
  EXPECT_EQ(1u, index.LeafOf(5));
  EXPECT_EQ(2u, index.LeafOf(~0ull));
}

TEST(MerkleIndex, StoreOnlyWhenNoWriteMarkedSinceTheEpochWasRead) {
  MerkleIndex index(1, {});
  const uint64_t e0 = index.leaf(0).epoch;
  index.MarkDirty(1);  // a write lands during the recompute
  EXPECT_FALSE(index.StoreIfUnchanged(0, e0, 7, 1, 10));
  EXPECT_TRUE(index.leaf(0).dirty);
  EXPECT_TRUE(index.StoreIfUnchanged(0, index.leaf(0).epoch, 7, 1, 10));
  EXPECT_FALSE(index.leaf(0).dirty);
  EXPECT_EQ(1u, index.dirty_leaves());
  index.MarkDirty(2);
  EXPECT_TRUE(index.leaf(0).dirty);
  EXPECT_EQ(2u, index.dirty_leaves());
}

TEST(MerkleIndex, SetSplitsKeepsUnchangedLeavesAndDirtiesTheOthers) {
  MerkleIndex index(1, {});
  index.StoreIfUnchanged(0, index.leaf(0).epoch, 1, 1, 1);
  index.StoreIfUnchanged(1, index.leaf(1).epoch, 2, 2, 1);
  const uint64_t generation = index.generation();
  index.SetSplits({0xc000000000000000ull});  // splits the second leaf only
  EXPECT_NE(generation, index.generation());
  ASSERT_EQ(3u, index.num_leaves());
  EXPECT_FALSE(index.leaf(0).dirty);
  EXPECT_EQ(1u, index.leaf(0).hash);
  EXPECT_TRUE(index.leaf(1).dirty);
  EXPECT_TRUE(index.leaf(2).dirty);
  EXPECT_EQ(2u, index.dirty_leaves());
}

MerkleIndex GoldenIndex() {
  // docs/formats/merkle.md, "Worked example".
  MerkleIndex index(1, {0x4000000000000000ull});
  index.StoreIfUnchanged(0, index.leaf(0).epoch, 0x1122334455667788ull, 3, 40);
  index.StoreIfUnchanged(2, index.leaf(2).epoch, 0, 0, 41);
  return index;
}

TEST(MerkleIndex, GoldenBytesMatchTheMerkleDoc) {
  const std::string encoded = GoldenIndex().Encode({7, 42});
  EXPECT_EQ("4b564d45524b4c45" "01000000" "01000000" "0700000000000000" "2a00000000000000"
            "01000000" "0000000000000040"
            "03000000"
            "8877665544332211" "0300000000000000" "00"
            "0000000000000000" "0000000000000000" "01"
            "0000000000000000" "0000000000000000" "00"
            "6202a372",
            Hex(encoded));
}

TEST(MerkleIndex, EncodeWritesLeavesComputedAfterTheSequenceAsDirty) {
  MerkleIndex index = GoldenIndex();
  MerkleIndex decoded(1, {});
  MerkleIndex::FileState state;
  ASSERT_TRUE(decoded.Decode(index.Encode({7, 40}), 1, &state).ok());
  EXPECT_FALSE(decoded.leaf(0).dirty);  // computed at 40
  EXPECT_TRUE(decoded.leaf(2).dirty);   // computed at 41: its writes may be lost
}

TEST(MerkleIndex, DecodeRoundTrips) {
  MerkleIndex decoded(1, {});
  MerkleIndex::FileState state;
  ASSERT_TRUE(decoded.Decode(GoldenIndex().Encode({7, 42}), 1, &state).ok());
  EXPECT_EQ(7u, state.log_number);
  EXPECT_EQ(42u, state.sequence);
  ASSERT_EQ(3u, decoded.num_leaves());
  EXPECT_EQ(std::vector<uint64_t>{0x4000000000000000ull}, decoded.splits());
  EXPECT_EQ(0x1122334455667788ull, decoded.leaf(0).hash);
  EXPECT_EQ(3u, decoded.leaf(0).keys);
  EXPECT_TRUE(decoded.leaf(1).dirty);
  EXPECT_FALSE(decoded.leaf(2).dirty);
  EXPECT_EQ(1u, decoded.dirty_leaves());
}

TEST(MerkleIndex, DecodeRejectsDamageWithErrorsNamingIt) {
  const std::string good = GoldenIndex().Encode({7, 42});
  MerkleIndex index(1, {});
  MerkleIndex::FileState state;
  base::Status s = index.Decode(good.substr(0, 20), 1, &state);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("truncated")) << s.ToString();
  std::string flipped = good;
  flipped[60] ^= 1;
  s = index.Decode(flipped, 1, &state);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("checksum")) << s.ToString();
  std::string magic = good;
  magic[0] = 'X';
  s = index.Decode(magic, 1, &state);
  EXPECT_NE(std::string::npos, s.ToString().find("magic")) << s.ToString();
  s = index.Decode(good, 2, &state);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("leaf_bits")) << s.ToString();
  EXPECT_EQ(2u, index.num_leaves());  // unchanged by the failures
}

}  // namespace
}  // namespace kvring::lsm
