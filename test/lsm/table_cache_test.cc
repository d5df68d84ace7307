#include "lsm/table_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/fault_env.h"
#include "base/random.h"
#include "lsm/filename.h"
#include "lsm/table_builder.h"
#include "test/lsm/table_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using testing::IKey;
using testing::UserKey;

constexpr int kKeysPerFile = 200;

class TableCacheTest : public ::testing::Test {
 protected:
  // Writes table `number` holding user keys [number*1000, number*1000 + kKeysPerFile).
  uint64_t WriteTable(uint64_t number) {
    std::unique_ptr<base::WritableFile> file;
    EXPECT_TRUE(env_->NewWritableFile(TableFileName(db_dir_, number), &file).ok());
    TableBuilder builder(TableOptions(), file.get());
    for (int i = 0; i < kKeysPerFile; ++i) {
      builder.Add(IKey(UserKey(static_cast<int>(number) * 1000 + i), 1), "v" + std::to_string(number));
    }
    EXPECT_TRUE(builder.Finish().ok());
    EXPECT_TRUE(file->Close().ok());
    sizes_[number] = builder.FileSize();
    return builder.FileSize();
  }

  // The value found for user key in table number, or "" / "error: ...".
  std::string Get(TableCache* cache, uint64_t number, int user, const ReadOptions& ro = ReadOptions()) {
    std::string out;
    std::string key = UserKey(user);
    base::Status s = cache->Get(ro, number, sizes_[number], MakeLookupKey(key, 10),
                                [&](std::string_view k, std::string_view v) {
                                  if (ExtractUserKey(k) == key) out = std::string(v);
                                });
    return s.ok() ? out : "error: " + s.ToString();
  }

  // Tables on the real file system (mapped), unless a test switches to memory.
  void UseInMemoryEnv() {
    env_ = &memory_env_;
    db_dir_ = "/tables";
    ASSERT_TRUE(env_->CreateDir(db_dir_).ok());
  }

  base::Env* env_ = base::Env::Default();
  base::FaultEnv memory_env_;  // files read with copies, never mapped
  test::TempDir dir_;
  std::string db_dir_ = dir_.path();
  std::map<uint64_t, uint64_t> sizes_;
  Cache block_cache_{1 << 20};
};

TEST_F(TableCacheTest, GetsFromManyTables) {
  for (uint64_t n = 1; n <= 5; ++n) WriteTable(n);
  TableCache cache(env_, db_dir_, TableOptions(), 100, &block_cache_);
  for (uint64_t n = 1; n <= 5; ++n) {
    EXPECT_EQ("v" + std::to_string(n), Get(&cache, n, static_cast<int>(n) * 1000 + 7));
    EXPECT_EQ("", Get(&cache, n, static_cast<int>(n) * 1000 + 999));  // absent
  }
  EXPECT_EQ(5u, cache.open_tables());
  EXPECT_GT(cache.bloom_useful(), 0u);
}

TEST_F(TableCacheTest, OpenTablesStayWithinMaxOpenFiles) {
  for (uint64_t n = 1; n <= 20; ++n) WriteTable(n);
  TableCache cache(env_, db_dir_, TableOptions(), 4, &block_cache_);
  for (int round = 0; round < 3; ++round) {
    for (uint64_t n = 1; n <= 20; ++n) {
      ASSERT_EQ("v" + std::to_string(n), Get(&cache, n, static_cast<int>(n) * 1000 + 1));
      ASSERT_LE(cache.open_tables(), 4u);
    }
  }
}

TEST_F(TableCacheTest, IteratorKeepsItsTableAliveAfterEvictAndDelete) {
  WriteTable(3);
  TableCache cache(env_, db_dir_, TableOptions(), 10, &block_cache_);
  const Table* table = nullptr;
  auto it = cache.NewIterator(ReadOptions(), 3, sizes_[3], &table);
  ASSERT_NE(nullptr, table);
  EXPECT_EQ(3u, table->file_number());
  cache.Evict(3);
  ASSERT_TRUE(env_->RemoveFile(TableFileName(db_dir_, 3)).ok());
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  EXPECT_EQ(kKeysPerFile, n);
  EXPECT_TRUE(it->status().ok());
  it.reset();
  EXPECT_EQ(0u, cache.open_tables());
  // Gone for good now.
  EXPECT_NE(std::string::npos, Get(&cache, 3, 3001).find("000003.sst"));
}

TEST_F(TableCacheTest, MissingFileErrorNamesThePathAndIsNotCached) {
  TableCache cache(env_, db_dir_, TableOptions(), 10, &block_cache_);
  sizes_[9] = 1000;
  std::string err = Get(&cache, 9, 9001);
  EXPECT_NE(std::string::npos, err.find(TableFileName(db_dir_, 9))) << err;
  auto it = cache.NewIterator(ReadOptions(), 9, 1000);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_FALSE(it->status().ok());
  WriteTable(9);  // the file appears: the next attempt succeeds
  EXPECT_EQ("v9", Get(&cache, 9, 9001));
}

TEST_F(TableCacheTest, NoIoOnAClosedTableIsBusy) {
  WriteTable(2);
  TableCache cache(env_, db_dir_, TableOptions(), 10, &block_cache_);
  ReadOptions no_io;
  no_io.no_io = true;
  std::string r = Get(&cache, 2, 2005, no_io);
  EXPECT_NE(std::string::npos, r.find("Busy")) << r;
  EXPECT_EQ("v2", Get(&cache, 2, 2005));
  EXPECT_EQ("v2", Get(&cache, 2, 2005, no_io));  // open and cached now
}

TEST_F(TableCacheTest, ConcurrentGetsFromManyThreads) {
  for (uint64_t n = 1; n <= 8; ++n) WriteTable(n);
  Cache small_blocks(16 << 10);  // a few blocks: constant eviction
  TableCache cache(env_, db_dir_, TableOptions(), 3, &small_blocks);
  const uint64_t seed = test::TestSeed("TableCacheTest.ConcurrentGets");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      base::Random rnd(seed + t);
      for (int i = 0; i < 2000; ++i) {
        uint64_t n = rnd.Range(1, 8);
        int user = static_cast<int>(n) * 1000 + static_cast<int>(rnd.Uniform(kKeysPerFile));
        if (Get(&cache, n, user) != "v" + std::to_string(n)) ++wrong;
        if (rnd.OneIn(100)) cache.Evict(n);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, wrong.load());
  EXPECT_LE(small_blocks.TotalCharge(), (16u << 10) + 16 * 4200);
}

TEST_F(TableCacheTest, DataFarLargerThanTheCachesReadsBackCorrectly) {
  UseInMemoryEnv();  // blocks are copied into the cache and charged in full
  for (uint64_t n = 1; n <= 12; ++n) WriteTable(n);  // ~12 x 6 KiB of entries
  Cache tiny_blocks(8 << 10);                        // a couple of blocks
  TableCache cache(env_, db_dir_, TableOptions(), 2, &tiny_blocks);
  for (int round = 0; round < 2; ++round) {
    for (uint64_t n = 1; n <= 12; ++n) {
      for (int i = 0; i < kKeysPerFile; i += 7) {
        ASSERT_EQ("v" + std::to_string(n), Get(&cache, n, static_cast<int>(n) * 1000 + i));
      }
      int seen = 0;
      auto it = cache.NewIterator(ReadOptions(), n, sizes_[n]);
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++seen;
      ASSERT_EQ(kKeysPerFile, seen);
    }
  }
  EXPECT_LE(cache.open_tables(), 2u);
  EXPECT_LE(tiny_blocks.TotalCharge(), 8u << 10);
  EXPECT_GT(cache.stats().blocks_read.load(), 100u);  // the cache could not hold the data
}

// With mapped files, blocks are read in place and the cache holds small views
// (verified once); a table that closes takes its views out of the cache before
// it unmaps the file.
TEST_F(TableCacheTest, MappedTablesReadInPlaceAndTakeTheirCachedViewsWithThem) {
  for (uint64_t n = 1; n <= 12; ++n) WriteTable(n);
  Cache blocks(64 << 10);
  {
    TableCache cache(env_, db_dir_, TableOptions(), 3, &blocks);
    for (int round = 0; round < 2; ++round) {
      for (uint64_t n = 1; n <= 12; ++n) {
        for (int i = 0; i < kKeysPerFile; i += 3) {
          ASSERT_EQ("v" + std::to_string(n), Get(&cache, n, static_cast<int>(n) * 1000 + i));
        }
        int seen = 0;
        auto it = cache.NewIterator(ReadOptions(), n, sizes_[n]);
        for (it->SeekToFirst(); it->Valid(); it->Next()) ++seen;
        ASSERT_EQ(kKeysPerFile, seen);
      }
    }
    EXPECT_GT(blocks.TotalCharge(), 0u);
    EXPECT_LE(blocks.TotalCharge(), 64u << 10);
    EXPECT_LE(cache.open_tables(), 3u);
    // Only the open tables' views remain: the closed ones took theirs along.
    for (uint64_t n = 1; n <= 12; ++n) cache.Evict(n);
    EXPECT_EQ(0u, blocks.TotalCharge());
  }
}

// A scan reads a mapped table's uncompressed blocks in place without caching
// them (it would only churn the cache) but still checks every block's CRC.
TEST_F(TableCacheTest, ScansOfMappedTablesSkipTheCacheButStillCatchCorruption) {
  WriteTable(1);
  Cache blocks(1 << 20);
  {
    TableCache cache(env_, db_dir_, TableOptions(), 10, &blocks);
    int seen = 0;
    auto it = cache.NewIterator(ReadOptions(), 1, sizes_[1]);
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++seen;
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    EXPECT_EQ(kKeysPerFile, seen);
    it.reset();
    EXPECT_EQ(0u, blocks.TotalCharge());
    EXPECT_EQ("v1", Get(&cache, 1, 1000));  // a point read caches its block's view
    EXPECT_GT(blocks.TotalCharge(), 0u);
  }
  // docs/formats/sstable.md: data blocks start at offset 0; byte 10 is inside
  // the first entry. Flip it on disk and scan a fresh cache.
  std::string data;
  ASSERT_TRUE(base::ReadFileToString(env_, TableFileName(db_dir_, 1), &data).ok());
  data[10] ^= 0x20;
  ASSERT_TRUE(base::WriteStringToFileAtomic(env_, data, TableFileName(db_dir_, 1)).ok());
  Cache fresh(1 << 20);
  TableCache cache(env_, db_dir_, TableOptions(), 10, &fresh);
  auto it = cache.NewIterator(ReadOptions(), 1, sizes_[1]);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  EXPECT_TRUE(it->status().IsCorruption()) << it->status().ToString();
}

TEST(TableOptionsTest, LevelsPastTheListUseItsLastEntry) {
  Options options;
  options.compression_per_level = {Compression::kNone, Compression::kLz4};
  EXPECT_EQ(Compression::kNone, TableOptionsForLevel(options, 0).compression);
  EXPECT_EQ(Compression::kLz4, TableOptionsForLevel(options, 1).compression);
  EXPECT_EQ(Compression::kLz4, TableOptionsForLevel(options, 6).compression);
  options.block_bytes = 8192;
  options.bloom_bits_per_key = 0;
  EXPECT_EQ(8192u, TableOptionsForLevel(options, 0).block_bytes);
  EXPECT_EQ(0, TableOptionsForLevel(options, 0).bloom_bits_per_key);
}

}  // namespace
}  // namespace kvring::lsm
