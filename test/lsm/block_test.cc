#include "lsm/block.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/random.h"
#include "lsm/block_builder.h"
#include "test/lsm/table_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using testing::IKey;
using testing::UserKey;

// Builds a block of n entries key(i)@seq 100 -> "v<i>" and returns it readable.
std::unique_ptr<Block> BuildBlock(int n, int restart_interval, std::vector<std::string>* keys = nullptr) {
  BlockBuilder builder(restart_interval);
  for (int i = 0; i < n; ++i) {
    std::string k = IKey(UserKey(i * 2), 100);  // even numbers: odd ones fall between
    builder.Add(k, "v" + std::to_string(i));
    if (keys != nullptr) keys->push_back(k);
  }
  std::string_view raw = builder.Finish();
  BlockContents contents;
  contents.heap = std::make_unique<char[]>(raw.size());
  std::memcpy(contents.heap.get(), raw.data(), raw.size());
  contents.data = std::string_view(contents.heap.get(), raw.size());
  return std::make_unique<Block>(std::move(contents));
}

std::unique_ptr<Block> BlockFromBytes(const std::string& raw) {
  BlockContents contents;
  contents.heap = std::make_unique<char[]>(raw.size());
  std::memcpy(contents.heap.get(), raw.data(), raw.size());
  contents.data = std::string_view(contents.heap.get(), raw.size());
  return std::make_unique<Block>(std::move(contents));
}

TEST(BlockTest, FastCompareAgreesWithInternalKeyCompare) {
  base::Random rnd(test::TestSeed("BlockTest.FastCompare"));
  auto sign = [](int r) { return (r > 0) - (r < 0); };
  for (int i = 0; i < 20000; ++i) {
    // Short alphabets and lengths: many shared prefixes, equal keys, bytes >= 0x80.
    auto user = [&] {
      std::string s(rnd.Uniform(20), '\0');
      for (auto& c : s) c = static_cast<char>(rnd.OneIn(2) ? 'a' + rnd.Uniform(2) : 0x7f + rnd.Uniform(3));
      return s;
    };
    std::string a = IKey(user(), rnd.Uniform(4)), b = IKey(user(), rnd.Uniform(4));
    if (rnd.OneIn(4)) b = a;
    ASSERT_EQ(sign(InternalKeyCompare(a, b)), sign(CompareInternalKeys(a, b)));
  }
}

TEST(BlockTest, EmptyBlockHasNoEntries) {
  auto block = BuildBlock(0, 16);
  ASSERT_TRUE(block->well_formed());
  auto it = block->NewIterator();
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->Seek(IKey("anything", 5));
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TEST(BlockTest, IteratesEveryEntryInOrder) {
  for (int interval : {1, 2, 16, 1000}) {
    std::vector<std::string> keys;
    auto block = BuildBlock(100, interval, &keys);
    auto it = block->NewIterator();
    int i = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
      ASSERT_LT(i, 100);
      EXPECT_EQ(keys[i], it->key()) << "interval " << interval;
      EXPECT_EQ("v" + std::to_string(i), it->value());
    }
    EXPECT_EQ(100, i) << "interval " << interval;
    EXPECT_TRUE(it->status().ok());
  }
}

TEST(BlockTest, SeekFindsEachKeyAndTheNextKeyBetweenKeys) {
  for (int interval : {1, 3, 16}) {
    std::vector<std::string> keys;
    auto block = BuildBlock(97, interval, &keys);  // 97: last restart interval is partial
    BlockCursor cursor(block.get());
    for (int i = 0; i < 97; ++i) {
      cursor.Seek(keys[i]);
      ASSERT_TRUE(cursor.Valid()) << i;
      EXPECT_EQ(keys[i], cursor.key());
      // An odd user key lies between entries i and i+1.
      cursor.Seek(IKey(UserKey(i * 2 + 1), 100));
      if (i + 1 < 97) {
        ASSERT_TRUE(cursor.Valid()) << i;
        EXPECT_EQ(keys[i + 1], cursor.key());
      } else {
        EXPECT_FALSE(cursor.Valid());
      }
    }
    EXPECT_FALSE(cursor.corrupt());
  }
}

TEST(BlockTest, SeekOnRestartBoundariesLandsExactly) {
  std::vector<std::string> keys;
  auto block = BuildBlock(64, 16, &keys);
  BlockCursor cursor(block.get());
  for (int i : {0, 15, 16, 17, 31, 32, 47, 48, 63}) {
    cursor.Seek(keys[i]);
    ASSERT_TRUE(cursor.Valid());
    EXPECT_EQ(keys[i], cursor.key()) << i;
    // The same user key at a newer sequence sorts just before: lands on entry i too.
    cursor.Seek(IKey(UserKey(i * 2), 500));
    ASSERT_TRUE(cursor.Valid());
    EXPECT_EQ(keys[i], cursor.key()) << i;
  }
}

TEST(BlockTest, SeekPastTheEndIsInvalidAndBeforeTheStartIsFirst) {
  std::vector<std::string> keys;
  auto block = BuildBlock(40, 4, &keys);
  BlockCursor cursor(block.get());
  cursor.Seek(IKey("zzz", 1));
  EXPECT_FALSE(cursor.Valid());
  EXPECT_FALSE(cursor.corrupt());
  // The same user key at an older sequence sorts after the last entry.
  cursor.Seek(IKey(UserKey(78), 99));
  EXPECT_FALSE(cursor.Valid());
  cursor.Seek(IKey("a", 1));
  ASSERT_TRUE(cursor.Valid());
  EXPECT_EQ(keys[0], cursor.key());
}

TEST(BlockTest, VersionsOfOneUserKeyComeNewestFirst) {
  BlockBuilder builder(2);
  for (SequenceNumber seq : {9, 7, 5, 3}) builder.Add(IKey("k", seq), "v" + std::to_string(seq));
  builder.Add(IKey("l", 1), "x");
  auto block = BlockFromBytes(std::string(builder.Finish()));
  BlockCursor cursor(block.get());
  cursor.Seek(MakeLookupKey("k", 6));  // a snapshot at 6 sees version 5
  ASSERT_TRUE(cursor.Valid());
  EXPECT_EQ("v5", cursor.value());
  cursor.Seek(MakeLookupKey("k", 2));
  ASSERT_TRUE(cursor.Valid());
  EXPECT_EQ("l", ExtractUserKey(cursor.key()));
}

TEST(BlockTest, LongKeysAndValuesRoundTrip) {
  BlockBuilder builder(4);
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    keys.push_back(IKey(std::string(300, 'p') + UserKey(i), 1));  // past the inline key buffer
    builder.Add(keys.back(), std::string(1000 + i, 'v'));
  }
  auto block = BlockFromBytes(std::string(builder.Finish()));
  BlockCursor cursor(block.get());
  for (int i = 0; i < 20; ++i) {
    cursor.Seek(keys[i]);
    ASSERT_TRUE(cursor.Valid());
    EXPECT_EQ(keys[i], cursor.key());
    EXPECT_EQ(1000u + i, cursor.value().size());
  }
}

TEST(BlockTest, BuilderResetStartsAFreshBlock) {
  BlockBuilder builder(16);
  builder.Add(IKey("zz", 1), "old");
  builder.Finish();
  builder.Reset();
  EXPECT_TRUE(builder.empty());
  builder.Add(IKey("aa", 1), "new");
  auto block = BlockFromBytes(std::string(builder.Finish()));
  auto it = block->NewIterator();
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("new", it->value());
  it->Next();
  EXPECT_FALSE(it->Valid());
}

TEST(BlockTest, TooShortOrBadRestartCountIsMalformed) {
  EXPECT_FALSE(BlockFromBytes("")->well_formed());
  EXPECT_FALSE(BlockFromBytes("ab")->well_formed());
  std::string raw;
  base::PutFixed32(&raw, 1000);  // 1000 restarts in a 4-byte block
  auto block = BlockFromBytes(raw);
  EXPECT_FALSE(block->well_formed());
  auto it = block->NewIterator();
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption());
}

TEST(BlockTest, EntryRunningPastTheEndIsCorruptionNotACrash) {
  BlockBuilder builder(16);
  builder.Add(IKey("key1", 1), "value1");
  builder.Add(IKey("key2", 1), "value2");
  std::string raw(builder.Finish());
  raw[0] = 0;      // shared
  raw[1] = 100;    // unshared: far past the end of the entries
  const std::string label = "sstable x.sst";
  auto block = BlockFromBytes(raw);
  auto it = block->NewIterator(&label, 4096);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  ASSERT_TRUE(it->status().IsCorruption());
  EXPECT_NE(std::string::npos, it->status().message().find("sstable x.sst: corrupt block at offset 4096"))
      << it->status().ToString();
}

TEST(BlockTest, RestartPointingPastTheEntriesIsCorruption) {
  BlockBuilder builder(1);
  for (int i = 0; i < 4; ++i) builder.Add(IKey(UserKey(i), 1), "v");
  std::string raw(builder.Finish());
  // Restart array: 4 entries then the count; point restart 2 past the entries.
  base::EncodeFixed32(raw.data() + raw.size() - 4 - 2 * 4, 60000);
  auto block = BlockFromBytes(raw);
  ASSERT_TRUE(block->well_formed());
  BlockCursor cursor(block.get());
  cursor.Seek(IKey(UserKey(3), 1));
  EXPECT_FALSE(cursor.Valid());
  EXPECT_TRUE(cursor.corrupt());
}

TEST(BlockTest, RandomGarbageNeverCrashes) {
  base::Random rnd(7);
  for (int round = 0; round < 2000; ++round) {
    std::string raw = rnd.RandomString(rnd.Uniform(200));
    if (raw.size() >= 4 && rnd.OneIn(2)) base::EncodeFixed32(raw.data() + raw.size() - 4, rnd.Uniform(4) + 1);
    auto block = BlockFromBytes(raw);
    auto it = block->NewIterator();
    int steps = 0;
    for (it->SeekToFirst(); it->Valid() && steps < 1000; it->Next()) ++steps;
    it->Seek(IKey("m", 5));
    (void)it->status();
  }
}

}  // namespace
}  // namespace kvring::lsm
