// test/lsm/db_range_delete_test.cc — DB::DeleteRange: the range vanishes from
// Get, iterators and the Merkle index the moment the call returns (before the
// background work), later writes show, keys outside are untouched, tables wholly
// inside are dropped without being read, the deletion survives a reopen and
// power cuts at any point, and a manifest without the new fields still opens.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "base/fault_env.h"
#include "base/random.h"
#include "lsm/engine.h"
#include "lsm/filename.h"
#include "lsm/merkle_index.h"
#include "test/lsm/db_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using test::Key;

constexpr int kKeys = 3000;

std::string Value(int i) { return "value-" + std::to_string(i) + std::string(80, static_cast<char>('a' + i % 26)); }

class RangeDeleteTest : public ::testing::Test {
 protected:
  RangeDeleteTest() {
    options_ = test::SmallOptions(&env_);
    options_.merkle.leaf_bits = 4;
  }

  void Open() {
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(db_->SetMerkleSplits(Splits()).ok());
  }

  // A leaf per 100 keys: "key0000" is 7 bytes, so the prefix sees digits 1-5.
  static std::vector<uint64_t> Splits() {
    std::vector<uint64_t> splits;
    for (int i = 0; i < kKeys; i += 100) splits.push_back(MerkleIndex::KeyPrefix(Key(i)));
    return splits;
  }

  void Put(int i, const std::string& value) {
    ASSERT_TRUE(db_->Put(WriteOptions(), Key(i), value).ok());
    model_[Key(i)] = value;
  }

  // kKeys keys: the older two thirds compacted into sorted tables, the rest
  // in L0 tables and the memtable.
  void Load() {
    Open();
    for (int i = 0; i < kKeys; i += 3) Put(i, Value(i));
    for (int i = 1; i < kKeys; i += 3) Put(i, Value(i));
    ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
    for (int i = 2; i < kKeys; i += 3) Put(i, Value(i));
  }

  void DeleteRange(int first, int last) {
    base::Status s = db_->DeleteRange(Key(first), Key(last));
    ASSERT_TRUE(s.ok()) << s.ToString();
    model_.erase(model_.lower_bound(Key(first)), model_.lower_bound(Key(last)));
  }

  // Until the background work is done and every deletion forgotten.
  void WaitForRangeWork() {
    for (int i = 0; i < 2000 && db_->GetStats().range_deletions > 0; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(0u, db_->GetStats().range_deletions);
  }

  // Get, a full scan and the Merkle index all agree with the model.
  void ExpectModel() {
    ASSERT_EQ(model_, test::Dump(db_.get()));
    for (int i = 0; i < kKeys; i += 7) {
      auto it = model_.find(Key(i));
      EXPECT_EQ(it == model_.end() ? "NOT_FOUND" : it->second, test::Get(db_.get(), Key(i))) << Key(i);
    }
    EXPECT_EQ("", test::CheckMerkleLeaves(db_.get(), model_));
  }

  int TableCount() {
    std::vector<std::string> names;
    EXPECT_TRUE(env_.GetChildren("/db", &names).ok());
    int tables = 0;
    for (const std::string& name : names) {
      uint64_t number;
      FileType type;
      if (ParseFileName(name, &number, &type) && type == FileType::kTable) tables++;
    }
    return tables;
  }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> model_;
};

TEST_F(RangeDeleteTest, TheRangeVanishesAtOnceAndLaterWritesShow) {
  Load();
  std::vector<MerkleLeaf> leaves;  // clean leaves, which the deletion must dirty
  ASSERT_TRUE(db_->MerkleLeaves(0, 0, &leaves).ok());
  // Slow every sync down, so the checks below run while the background work
  // (table rewrites, the flush of the memtable) is still under way.
  env_.SetSyncDelayMicros(300000);
  DeleteRange(1000, 2000);
  const Stats during = db_->GetStats();
  ExpectModel();
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), Key(1000)));  // begin is inside
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), Key(1999)));
  EXPECT_EQ(Value(2000), test::Get(db_.get(), Key(2000)));  // end is outside
  EXPECT_EQ(Value(999), test::Get(db_.get(), Key(999)));
  EXPECT_EQ(1u, during.range_deletes);
  EXPECT_EQ(1u, during.range_deletions) << "the checks ran with the deletion in force";
  Put(1500, "after");
  EXPECT_EQ("after", test::Get(db_.get(), Key(1500)));
  env_.SetSyncDelayMicros(0);
  WaitForRangeWork();
  ExpectModel();
  Open();
  ExpectModel();
}

TEST_F(RangeDeleteTest, IteratorsStepOverTheRange) {
  Load();
  DeleteRange(1000, 2000);
  auto it = db_->NewIterator(ReadOptions());
  it->Seek(Key(999));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(Key(999), it->key());
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(Key(2000), it->key()) << "the next key after the range";
  it->Seek(Key(1500));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(Key(2000), it->key()) << "a seek into the range lands on its end";
  const std::string upper = Key(1800);
  ReadOptions bounded;
  bounded.upper_bound = &upper;
  auto inside = db_->NewIterator(bounded);
  inside->Seek(Key(1000));
  EXPECT_FALSE(inside->Valid()) << inside->key();
  EXPECT_TRUE(inside->status().ok());
}

TEST_F(RangeDeleteTest, AnIteratorOpenedBeforeTheCallKeepsItsView) {
  Load();
  auto before = db_->NewIterator(ReadOptions());
  DeleteRange(1000, 2000);
  WaitForRangeWork();  // the dropped tables stay readable through the old view
  before->Seek(Key(1500));
  ASSERT_TRUE(before->Valid());
  EXPECT_EQ(Key(1500), before->key());
  EXPECT_EQ(Value(1500), before->value());
}

TEST_F(RangeDeleteTest, WholeTablesInsideTheRangeAreDroppedUnread) {
  Open();
  for (int i = 0; i < kKeys; i++) Put(i, Value(i));
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  const int tables_before = TableCount();
  const Stats before = db_->GetStats();
  ASSERT_GT(tables_before, 6);
  DeleteRange(300, 2700);
  WaitForRangeWork();
  const Stats after = db_->GetStats();
  EXPECT_GE(after.range_deleted_files, static_cast<uint64_t>(tables_before) / 2);
  EXPECT_LT(TableCount(), tables_before - tables_before / 2);
  // Only the two tables straddling the ends are read (and rewritten): at most
  // their data blocks, far fewer than the range's.
  const uint64_t blocks_per_table = options_.target_file_bytes / options_.block_bytes + 8;
  EXPECT_LE(after.data_blocks_read - before.data_blocks_read, 2 * blocks_per_table);
  EXPECT_GT(after.range_deleted_bytes, 0u);
  ExpectModel();
}

TEST_F(RangeDeleteTest, NothingOutsideTheRangesIsTouchedAmidWritesFlushesAndCompactions) {
  const uint64_t seed = kvring::test::TestSeed("RangeDeleteTest.NothingOutside");
  base::Random rnd(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  Load();
  for (int round = 0; round < 30; round++) {
    const int first = static_cast<int>(rnd.Uniform(kKeys));
    const int last = first + 1 + static_cast<int>(rnd.Uniform(400));
    DeleteRange(first, last);
    for (int i = 0; i < 200; i++) {
      const int k = static_cast<int>(rnd.Uniform(kKeys));
      Put(k, Value(k) + "-" + std::to_string(round));
    }
    if (rnd.OneIn(3)) {
      ASSERT_TRUE(db_->Flush().ok());
    }
    if (rnd.OneIn(5)) {
      ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
    }
    if (rnd.OneIn(4)) ExpectModel();
  }
  ExpectModel();
  WaitForRangeWork();
  ExpectModel();
  Open();
  ExpectModel();
}

TEST_F(RangeDeleteTest, TheDeletionSurvivesAReopenBeforeItsBackgroundWork) {
  Load();
  DeleteRange(500, 2500);
  db_.reset();  // whatever the background did, the manifest holds the deletion
  Open();
  ExpectModel();
  WaitForRangeWork();
  ExpectModel();
}

TEST_F(RangeDeleteTest, APowerCutAfterTheCallKeepsTheDeletion) {
  options_.sync_mode = SyncMode::kAlways;
  Load();
  DeleteRange(100, 2900);
  // No sync after the call: only what DeleteRange made durable itself survives.
  db_.reset();
  env_.SimulatePowerLoss();
  Open();
  ExpectModel();
}

TEST_F(RangeDeleteTest, AnEmptyEndDeletesToTheEndOfTheKeySpace) {
  Load();
  ASSERT_TRUE(db_->DeleteRange(Key(2500), "").ok());
  model_.erase(model_.lower_bound(Key(2500)), model_.end());
  ExpectModel();
  WaitForRangeWork();
  ExpectModel();
}

TEST_F(RangeDeleteTest, ABackwardRangeIsRefusedAndAnEmptyOneDeletesNothing) {
  Load();
  base::Status s = db_->DeleteRange(Key(2), Key(1));
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("DeleteRange")) << s.ToString();
  EXPECT_TRUE(db_->DeleteRange(Key(5), Key(5)).ok());
  EXPECT_EQ(0u, db_->GetStats().range_deletes);
  ExpectModel();
}

TEST_F(RangeDeleteTest, ManyRangesAreOneDeletionAndSurviveAReopen) {
  Load();
  const std::vector<KeyRange> ranges = {
      {Key(100), Key(200)}, {Key(500), Key(900)}, {Key(1500), Key(1501)}, {Key(2000), Key(2000)}, {Key(2700), ""}};
  ASSERT_TRUE(db_->DeleteRanges(ranges).ok());
  for (const KeyRange& r : ranges) {
    model_.erase(model_.lower_bound(r.begin), r.end.empty() ? model_.end() : model_.lower_bound(r.end));
  }
  EXPECT_EQ(1u, db_->GetStats().range_deletes) << "one manifest write for every range";
  EXPECT_EQ(Value(1501), test::Get(db_.get(), Key(1501)));
  EXPECT_EQ(Value(2000), test::Get(db_.get(), Key(2000))) << "an empty range deletes nothing";
  ExpectModel();
  WaitForRangeWork();
  ExpectModel();
  Open();
  ExpectModel();
}

TEST_F(RangeDeleteTest, OneBackwardRangeAmongManyDeletesNothing) {
  Load();
  base::Status s = db_->DeleteRanges({{Key(100), Key(200)}, {Key(300), Key(400)}, {Key(900), Key(800)}});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("range 2 begins")) << s.ToString();
  EXPECT_TRUE(db_->DeleteRanges({}).ok());
  EXPECT_EQ(0u, db_->GetStats().range_deletes);
  ExpectModel();
}

// Power cuts at random points of a workload mixing writes and range deletes:
// after each, the DB opens with every acknowledged write outside the deleted
// ranges, nothing of a range whose DeleteRanges returned (unless written after
// it; a call deletes one to three ranges), and a Merkle index equal to a computation from scratch.
TEST_F(RangeDeleteTest, PowerCutsAmidRangeDeletesNeverResurrectOrLose) {
  const uint64_t seed = kvring::test::TestSeed("RangeDeleteTest.PowerCuts");
  base::Random rnd(seed);
  options_.sync_mode = SyncMode::kAlways;
  options_.memtable_bytes = 16 << 10;
  options_.target_file_bytes = 16 << 10;
  options_.l0_compaction_trigger = 2;
  constexpr int kSpace = 600;
  // What a key may hold after a cut: the acknowledged state, or one of `maybe`.
  std::map<std::string, std::string> acked;  // absent: not present
  std::map<std::string, std::set<std::string>> maybe;
  int deletes_done = 0;
  for (int cut = 0; cut < 40 * test::TestScale(); cut++) {
    SCOPED_TRACE("cut " + std::to_string(cut) + " seed " + std::to_string(seed));
    Open();
    const auto contents = test::Dump(db_.get());
    ASSERT_EQ("", test::CheckMerkleLeaves(db_.get(), contents));
    for (int i = 0; i < kSpace; i++) {
      const std::string key = Key(i);
      auto got = contents.find(key);
      const std::string value = got == contents.end() ? "" : got->second;
      const std::string want = acked.count(key) ? acked[key] : "";
      ASSERT_TRUE(value == want || maybe[key].count(value) != 0)
          << key << " holds '" << value << "', acknowledged '" << want << "'";
      if (value.empty()) acked.erase(key); else acked[key] = value;
    }
    maybe.clear();
    env_.CrashAfterOps(rnd.Range(1, 400));
    for (int op = 0; op < 300; op++) {
      if (rnd.OneIn(25)) {  // one to three ranges in one call
        std::vector<KeyRange> ranges;
        std::vector<std::pair<int, int>> spans;
        for (int r = 0, n = 1 + static_cast<int>(rnd.Uniform(3)); r < n; r++) {
          const int first = static_cast<int>(rnd.Uniform(kSpace));
          const int last = first + 1 + static_cast<int>(rnd.Uniform(150));
          for (int i = first; i < last && i < kSpace; i++) maybe[Key(i)].insert("");
          ranges.push_back({Key(first), Key(last)});
          spans.emplace_back(first, last);
        }
        if (!db_->DeleteRanges(ranges).ok()) break;
        deletes_done++;
        for (auto [first, last] : spans) {
          for (int i = first; i < last && i < kSpace; i++) {
            acked.erase(Key(i));
            maybe.erase(Key(i));
          }
        }
        continue;
      }
      const int k = static_cast<int>(rnd.Uniform(kSpace));
      const std::string value = Value(k) + "@" + std::to_string(cut) + "." + std::to_string(op);
      maybe[Key(k)].insert(value);
      if (!db_->Put(WriteOptions(), Key(k), value).ok()) break;
      acked[Key(k)] = value;
      maybe[Key(k)].erase(value);
    }
    db_.reset();
    env_.SimulatePowerLoss();
  }
  EXPECT_GT(deletes_done, 20);
}

}  // namespace
}  // namespace kvring::lsm
