#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "base/fault_env.h"
#include "base/random.h"
#include "lsm/engine.h"
#include "test/lsm/db_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using test::Contents;
using test::Get;
using test::Key;

class DBTest : public ::testing::Test {
 protected:
  DBTest() : options_(test::SmallOptions(&env_)) { Reopen(); }

  void Reopen() {
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  base::Status Put(std::string_view k, std::string_view v) { return db_->Put(WriteOptions(), k, v); }
  base::Status Del(std::string_view k) { return db_->Delete(WriteOptions(), k); }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBTest, EmptyDBHasNothing) {
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "a"));
  EXPECT_EQ("", Contents(db_.get()));
}

TEST_F(DBTest, PutGetDeleteOverwrite) {
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(Put("b", "2").ok());
  ASSERT_TRUE(Put("a", "3").ok());
  ASSERT_TRUE(Del("b").ok());
  EXPECT_EQ("3", Get(db_.get(), "a"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "b"));
  EXPECT_EQ("a=3", Contents(db_.get()));
}

TEST_F(DBTest, EmptyKeysAndValuesWork) {
  ASSERT_TRUE(Put("", "empty key").ok());
  ASSERT_TRUE(Put("v", "").ok());
  EXPECT_EQ("empty key", Get(db_.get(), ""));
  EXPECT_EQ("", Get(db_.get(), "v"));
  ASSERT_TRUE(db_->Flush().ok());
  EXPECT_EQ("empty key", Get(db_.get(), ""));
  EXPECT_EQ("=empty key,v=", Contents(db_.get()));
}

TEST_F(DBTest, WriteBatchIsAppliedAtomically) {
  WriteBatch batch;
  batch.Put("x", "1");
  batch.Put("y", "2");
  batch.Delete("x");
  ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
  EXPECT_EQ("y=2", Contents(db_.get()));
  EXPECT_EQ(3u, db_->GetStats().last_sequence);
}

TEST_F(DBTest, DataSurvivesReopenFromTheWal) {
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(Del("a").ok());
  ASSERT_TRUE(Put("b", "2").ok());
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "a"));
  EXPECT_EQ("2", Get(db_.get(), "b"));
  ASSERT_TRUE(Put("c", "3").ok());
  Reopen();
  EXPECT_EQ("b=2,c=3", Contents(db_.get()));
  EXPECT_EQ(4u, db_->GetStats().last_sequence);
}

TEST_F(DBTest, FlushMovesTheMemtableToATable) {
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(db_->Flush().ok());
  Stats s = db_->GetStats();
  int files = 0;
  for (const auto& l : s.levels) files += l.files;
  EXPECT_EQ(1, files);
  EXPECT_EQ(1u, s.flushes);
  EXPECT_EQ("1", Get(db_.get(), "a"));
  Reopen();
  EXPECT_EQ("1", Get(db_.get(), "a"));
}

// The data held (entries and their user keys + values) is counted in the memtable
// (every version), in the table a flush writes (the newest version of each key:
// no snapshot needs the older), and after a reopen, from the manifest.
TEST_F(DBTest, TheDataHeldIsCountedInTheMemtableTheTablesAndAfterAReopen) {
  ASSERT_TRUE(Put("apple", "12345").ok());
  ASSERT_TRUE(Put("kiwi", "1").ok());
  ASSERT_TRUE(Del("kiwi").ok());
  Stats s = db_->GetStats();
  EXPECT_EQ(3u, s.entries);
  EXPECT_EQ((5u + 5) + (4 + 1) + 4, s.data_bytes);
  ASSERT_TRUE(db_->Flush().ok());
  const uint64_t flushed = (5 + 5) + 4;  // apple=12345, and kiwi's deletion
  s = db_->GetStats();
  EXPECT_EQ(2u, s.entries);
  EXPECT_EQ(flushed, s.data_bytes);
  Reopen();
  s = db_->GetStats();
  EXPECT_EQ(2u, s.entries);
  EXPECT_EQ(flushed, s.data_bytes);
  EXPECT_EQ(1u, s.tombstones);
}

TEST_F(DBTest, ManyWritesFlushAndCompactAndReadBack) {
  for (int i = 0; i < 20000; i++) ASSERT_TRUE(Put(Key(i % 5000), "value" + std::to_string(i)).ok());
  ASSERT_TRUE(db_->Flush().ok());
  for (int i = 15000; i < 20000; i++) ASSERT_EQ("value" + std::to_string(i), Get(db_.get(), Key(i % 5000)));
  Stats s = db_->GetStats();
  EXPECT_GT(s.flushes, 5u);
  EXPECT_GT(s.compactions, 0u);
  Reopen();
  auto all = test::Dump(db_.get());
  EXPECT_EQ(5000u, all.size());
  EXPECT_EQ("value19999", all[Key(4999)]);
  // Compactions dropped overwritten versions: at least the live keys are held,
  // and fewer entries than were written.
  s = db_->GetStats();
  EXPECT_GE(s.entries, 5000u);
  EXPECT_LT(s.entries, 20000u);
}

TEST_F(DBTest, SecondOpenOfTheSameDirIsBusy) {
  std::unique_ptr<DB> other;
  base::Status s = DB::Open(options_, "/db", &other);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("/db/LOCK")) << s.ToString();
}

TEST_F(DBTest, CreateIfMissingAndErrorIfExistsAreHonoured) {
  Options o = options_;
  o.create_if_missing = false;
  std::unique_ptr<DB> other;
  EXPECT_TRUE(DB::Open(o, "/other", &other).IsInvalidArgument());
  db_.reset();
  o = options_;
  o.error_if_exists = true;
  EXPECT_TRUE(DB::Open(o, "/db", &other).IsInvalidArgument());
}

TEST_F(DBTest, SnapshotsSeeTheStateWhenTaken) {
  ASSERT_TRUE(Put("a", "1").ok());
  const Snapshot* s1 = db_->GetSnapshot();
  ASSERT_TRUE(Put("a", "2").ok());
  ASSERT_TRUE(Del("a").ok());
  ASSERT_TRUE(Put("b", "x").ok());
  EXPECT_EQ("1", Get(db_.get(), "a", s1));
  EXPECT_EQ("a=1", Contents(db_.get(), s1));
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_EQ("1", Get(db_.get(), "a", s1));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "a"));
  db_->ReleaseSnapshot(s1);
  EXPECT_EQ("b=x", Contents(db_.get()));
}

TEST_F(DBTest, IteratorSeeksAndStopsAtTheUpperBound) {
  for (int i = 0; i < 10; i++) ASSERT_TRUE(Put(Key(i), std::to_string(i)).ok());
  ASSERT_TRUE(db_->Flush().ok());
  ASSERT_TRUE(Del(Key(5)).ok());
  std::string upper = Key(8);
  ReadOptions ro;
  ro.upper_bound = &upper;
  auto it = db_->NewIterator(ro);
  it->Seek(Key(4));
  std::string got;
  for (; it->Valid(); it->Next()) got += std::string(it->value());
  EXPECT_EQ("467", got);
  it->Seek("zzz");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TEST_F(DBTest, IteratorKeepsItsViewWhileFilesChange) {
  for (int i = 0; i < 3000; i++) ASSERT_TRUE(Put(Key(i), "old").ok());
  auto it = db_->NewIterator(ReadOptions());
  for (int i = 0; i < 3000; i++) ASSERT_TRUE(Put(Key(i), "new").ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), n++) ASSERT_EQ("old", it->value());
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(3000, n);
}

TEST_F(DBTest, CompactRangeDropsTombstonesAtTheBottom) {
  for (int i = 0; i < 2000; i++) ASSERT_TRUE(Put(Key(i), std::string(100, 'v')).ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  uint64_t before = 0;
  for (const auto& l : db_->GetStats().levels) before += l.bytes;
  for (int i = 0; i < 2000; i++) ASSERT_TRUE(Del(Key(i)).ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  uint64_t after = 0;
  for (const auto& l : db_->GetStats().levels) after += l.bytes;
  EXPECT_GT(before, 100000u);
  EXPECT_EQ(0u, after) << test::FilesPerLevel(db_.get());
  EXPECT_EQ("", Contents(db_.get()));
}

TEST_F(DBTest, NoIoGetIsBusyWhenABlockIsNotCached) {
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(db_->Flush().ok());
  Reopen();  // cold caches
  ReadOptions ro;
  ro.no_io = true;
  std::string v;
  EXPECT_TRUE(db_->Get(ro, "a", &v).IsBusy());
  EXPECT_EQ("1", Get(db_.get(), "a"));  // warms the caches
  EXPECT_TRUE(db_->Get(ro, "a", &v).ok());
  EXPECT_EQ("1", v);
  ASSERT_TRUE(Put("m", "mem").ok());
  EXPECT_TRUE(db_->Get(ro, "m", &v).ok());  // memtable hits never need I/O
}

TEST_F(DBTest, ConcurrentWritersAndReadersAgree) {
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; i++) {
        std::string k = "t" + std::to_string(t) + "-" + Key(i);
        if (!Put(k, k).ok()) errors++;
        if (Get(db_.get(), k) != k) errors++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, errors.load());
  EXPECT_EQ(8000u, test::Dump(db_.get()).size());
  EXPECT_LE(db_->GetStats().writes, 8000u);
}

TEST_F(DBTest, ReadersNeverSeeAKeyGoBackInTimeWhileFilesChange) {
  // Each writer overwrites its own keys with increasing versions while flushes
  // and compactions rewrite the files underneath; every reader checks that each
  // key's version only moves forward, through Get and through iterators.
  options_.memtable_bytes = 16 << 10;
  options_.l0_compaction_trigger = 2;
  Reopen();
  constexpr int kWriters = 2, kKeys = 50, kRounds = 400;
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  auto version_of = [](const std::string& v) { return std::stoi(v.substr(0, v.find('|'))); };
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; t++) {
    threads.emplace_back([&, t] {
      for (int round = 1; round <= kRounds; round++) {
        for (int k = 0; k < kKeys; k++) {
          std::string key = "w" + std::to_string(t) + Key(k);
          if (!Put(key, std::to_string(round) + "|" + std::string(40, 'p')).ok()) errors++;
        }
      }
    });
  }
  for (int r = 0; r < 2; r++) {
    threads.emplace_back([&, r] {
      std::map<std::string, int> seen;
      while (!done.load()) {
        if (r == 0) {
          for (int t = 0; t < kWriters; t++) {
            for (int k = 0; k < kKeys; k += 7) {
              std::string key = "w" + std::to_string(t) + Key(k);
              std::string v = Get(db_.get(), key);
              if (v == "NOT_FOUND") continue;
              int version = version_of(v);
              if (version < seen[key]) errors++;
              seen[key] = version;
            }
          }
        } else {
          auto it = db_->NewIterator(ReadOptions());
          std::map<std::string, int> now;
          for (it->SeekToFirst(); it->Valid(); it->Next()) now[std::string(it->key())] = version_of(std::string(it->value()));
          if (!it->status().ok()) errors++;
          for (auto& [key, version] : now) {
            if (version < seen[key]) errors++;
            seen[key] = version;
          }
        }
      }
    });
  }
  for (int t = 0; t < kWriters; t++) threads[static_cast<size_t>(t)].join();
  done = true;
  for (size_t t = kWriters; t < threads.size(); t++) threads[t].join();
  EXPECT_EQ(0, errors.load());
  EXPECT_GT(db_->GetStats().compactions, 0u);
  for (int t = 0; t < kWriters; t++) EXPECT_EQ(kRounds, version_of(Get(db_.get(), "w" + std::to_string(t) + Key(0))));
}

TEST_F(DBTest, StatsReportWritesAndLevels) {
  for (int i = 0; i < 5000; i++) ASSERT_TRUE(Put(Key(i), std::string(50, 'x')).ok());
  ASSERT_TRUE(db_->Flush().ok());
  Stats s = db_->GetStats();
  EXPECT_EQ(5000u, s.writes);
  EXPECT_GT(s.user_bytes_written, 5000u * 60);
  EXPECT_GT(s.write_amplification(), 1.0);
  std::string text = s.ToString();
  EXPECT_NE(std::string::npos, text.find("write amp"));
  EXPECT_NE(std::string::npos, text.find("L"));
}

TEST_F(DBTest, DataFarLargerThanTheBlockCacheReadsBackCorrectly) {
  options_.block_cache_bytes = 32 << 10;
  options_.max_open_files = 20;  // fewer handles than tables, too
  options_.compression_per_level = {Compression::kNone, Compression::kLz4};
  Reopen();
  constexpr int kKeys = 20000;
  auto value = [](int i) { return std::to_string(i) + std::string(200, static_cast<char>('a' + i % 26)); };
  for (int i = 0; i < kKeys; i++) ASSERT_TRUE(Put(Key(i), value(i)).ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  Reopen();
  base::Random rnd(kvring::test::TestSeed("DBTest.DataFarLargerThanTheBlockCacheReadsBackCorrectly"));
  for (int n = 0; n < kKeys; n++) {
    int i = static_cast<int>(rnd.Uniform(kKeys));
    ASSERT_EQ(value(i), Get(db_.get(), Key(i))) << i;
  }
  auto it = db_->NewIterator(ReadOptions());
  int i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), i++) ASSERT_EQ(value(i), it->value());
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(kKeys, i);
  it.reset();
  Stats s = db_->GetStats();
  uint64_t data_bytes = 0;
  for (const auto& l : s.levels) data_bytes += l.bytes;
  EXPECT_GT(data_bytes, 40 * options_.block_cache_bytes);
  EXPECT_LE(s.block_cache_bytes, options_.block_cache_bytes);
  EXPECT_GT(s.block_cache_misses, static_cast<uint64_t>(kKeys / 2));
}

TEST(SyncModeNames, ParseAndPrintRoundTrip) {
  for (SyncMode m : {SyncMode::kNone, SyncMode::kInterval, SyncMode::kAlways}) {
    SyncMode parsed;
    ASSERT_TRUE(ParseSyncMode(SyncModeName(m), &parsed));
    EXPECT_EQ(m, parsed);
  }
  SyncMode m;
  EXPECT_FALSE(ParseSyncMode("sometimes", &m));
}

}  // namespace
}  // namespace kvring::lsm
