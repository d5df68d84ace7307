// test/lsm/db_compaction_filter_test.cc — Options::compaction_filter: a purged
// value becomes a deletion marker, so no older version resurfaces from a deeper
// level (across compactions and reopen), and the filter never sees a value a
// live snapshot reads, a shadowed version or a deletion.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "lsm/engine.h"
#include "test/lsm/db_test_util.h"

namespace kvring::lsm {
namespace {

class CompactionFilterTest : public ::testing::Test {
 protected:
  CompactionFilterTest() {
    options_ = test::SmallOptions(&env_);
    options_.l0_compaction_trigger = 100;  // only CompactRange compacts
    options_.compaction_filter = [this](std::string_view key, std::string_view value, SequenceNumber) {
      std::lock_guard<std::mutex> l(mu_);
      consulted_.emplace_back(std::string(key) + "=" + std::string(value));
      return purging_ && value.substr(0, 5) == "purge";
    };
  }

  void Open() {
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void PutAndFlush(std::vector<std::pair<std::string, std::string>> kvs) {
    for (const auto& [k, v] : kvs) ASSERT_TRUE(db_->Put(WriteOptions(), k, v).ok());
    ASSERT_TRUE(db_->Flush().ok());
  }

  bool Consulted(const std::string& entry) {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& c : consulted_) {
      if (c == entry) return true;
    }
    return false;
  }

  // "k" = old at L2, a filler over [a, z] at L1, "k" = purge-me at L0.
  void BuildThreeLevels() {
    Open();
    PutAndFlush({{"k", "old"}});
    PutAndFlush({{"a", "1"}, {"z", "2"}});
    PutAndFlush({{"k", "purge-me"}});
    ASSERT_EQ("1,1,1", test::FilesPerLevel(db_.get()));
  }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
  std::mutex mu_;
  bool purging_ = true;
  std::vector<std::string> consulted_;
};

TEST_F(CompactionFilterTest, APurgedValueStaysAbsentAndNoOlderVersionResurfaces) {
  BuildThreeLevels();
  ASSERT_EQ("purge-me", test::Get(db_.get(), "k"));
  // L0->L1 purges "k" while "old" is still at L2: only a marker keeps it hidden.
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_TRUE(Consulted("k=purge-me"));
  EXPECT_FALSE(Consulted("k=old"));  // shadowed: never offered
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), "k"));
  EXPECT_EQ("a=1,z=2", test::Contents(db_.get()));
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_EQ("a=1,z=2", test::Contents(db_.get()));
  Open();
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), "k"));
  EXPECT_EQ("a=1,z=2", test::Contents(db_.get()));
  // The other values were offered and kept.
  EXPECT_TRUE(Consulted("a=1"));
}

TEST_F(CompactionFilterTest, APurgeAboveTheBottomLeavesAMarkerOverTheOlderVersion) {
  BuildThreeLevels();
  // Reopen with an L0 trigger of 1: the compaction thread compacts L0 into L1
  // alone, and "old" stays at L2 under the purged entry.
  options_.l0_compaction_trigger = 1;
  Open();
  for (int i = 0; i < 500 && test::FilesPerLevel(db_.get()) != "0,1,1"; i++) {
    options_.clock->SleepMicros(10000);
  }
  ASSERT_EQ("0,1,1", test::FilesPerLevel(db_.get()));
  EXPECT_TRUE(Consulted("k=purge-me"));
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), "k"));
  Open();
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), "k"));
  // A new value after the purge is an ordinary value again.
  ASSERT_TRUE(db_->Put(WriteOptions(), "k", "back").ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_EQ("back", test::Get(db_.get(), "k"));
  EXPECT_EQ("a=1,k=back,z=2", test::Contents(db_.get()));
}

TEST_F(CompactionFilterTest, NeverConsultedForAValueASnapshotReads) {
  BuildThreeLevels();
  const Snapshot* snapshot = db_->GetSnapshot();
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_FALSE(Consulted("k=purge-me"));
  EXPECT_EQ("purge-me", test::Get(db_.get(), "k", snapshot));
  EXPECT_EQ("purge-me", test::Get(db_.get(), "k"));
  // A value written after the snapshot is not read by it: offered.
  ASSERT_TRUE(db_->Put(WriteOptions(), "p", "purge-too").ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_TRUE(Consulted("p=purge-too"));
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), "p"));
  EXPECT_EQ("purge-me", test::Get(db_.get(), "k", snapshot));
  db_->ReleaseSnapshot(snapshot);
  // The next compaction that rewrites "k" (new data over its range) offers it.
  PutAndFlush({{"b", "3"}});
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_TRUE(Consulted("k=purge-me"));
  EXPECT_EQ("NOT_FOUND", test::Get(db_.get(), "k"));
  Open();
  EXPECT_EQ("a=1,b=3,z=2", test::Contents(db_.get()));
}

TEST_F(CompactionFilterTest, DeletionsAndKeptValuesAreUntouched) {
  purging_ = false;
  Open();
  PutAndFlush({{"a", "purge-no"}, {"b", "x"}});
  ASSERT_TRUE(db_->Delete(WriteOptions(), "b").ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  EXPECT_EQ("a=purge-no", test::Contents(db_.get()));
  EXPECT_FALSE(Consulted("b="));  // the deletion is never offered
}

}  // namespace
}  // namespace kvring::lsm
