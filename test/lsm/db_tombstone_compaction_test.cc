// test/lsm/db_tombstone_compaction_test.cc — tables count their tombstones
// (deletion markers and values Options::is_tombstone flags), the count survives
// a reopen, and DB::CompactTombstones rewrites the tables holding purgeable ones
// (cold ones at the bottom level included) so deleted keys leave the disk, the
// versions they hide with them, and nothing live is lost.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "base/fault_env.h"
#include "lsm/engine.h"
#include "test/lsm/db_test_util.h"

namespace kvring::lsm {
namespace {

constexpr int kKeys = 2000;

class TombstoneCompactionTest : public ::testing::Test {
 protected:
  TombstoneCompactionTest() {
    options_ = test::SmallOptions(&env_);
    options_.l0_compaction_trigger = 100;  // only the test compacts
    options_.is_tombstone = [](std::string_view value) { return value.substr(0, 4) == "tomb"; };
    options_.compaction_filter = [this](std::string_view, std::string_view value, SequenceNumber) {
      return purging_.load() && value.substr(0, 4) == "tomb";
    };
  }

  void Open() {
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // 100 incompressible-ish bytes, so a table's size is mostly its values.
  static std::string Value(int i) {
    std::string v(100, '\0');
    uint64_t x = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull + 1;
    for (char& c : v) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = static_cast<char>('a' + x % 26);
    }
    return v;
  }

  // kKeys live values, compacted to the bottom; `expected_` tracks the contents.
  void LoadAndCompact() {
    Open();
    for (int i = 0; i < kKeys; i++) Put(test::Key(i), Value(i));
    ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  }

  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(WriteOptions(), key, value).ok());
    if (value.substr(0, 4) == "tomb") {
      expected_.erase(key);  // what the layer above reads once it is purged
    } else {
      expected_[key] = value;
    }
  }

  // Every other key of [first, last) becomes a "tomb" value (with 60 bytes of
  // payload, as a sibling set of tombstones carries its dots), flushed.
  void Tombstone(int first, int last) {
    for (int i = first; i < last; i += 2) Put(test::Key(i), "tomb" + Value(i).substr(0, 60));
    ASSERT_TRUE(db_->Flush().ok());
  }

  // Waits until every CompactTombstones request has finished.
  void WaitForRequests() {
    for (int i = 0; i < 2000 && db_->GetStats().tombstone_requests > 0; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(0u, db_->GetStats().tombstone_requests);
  }

  void CompactAllTombstones() {
    db_->CompactTombstones("", std::string(8, '\xff'), db_->GetStats().last_sequence);
    WaitForRequests();
  }

  uint64_t TableBytes() {
    uint64_t total = 0;
    for (const LevelStats& l : db_->GetStats().levels) total += l.bytes;
    return total;
  }

  uint64_t BytesWritten() {
    uint64_t total = 0;
    for (const LevelStats& l : db_->GetStats().levels) total += l.bytes_written;
    return total;
  }

  // The contents with purged "tomb" values read as absent, compared with expected_.
  void ExpectContents() {
    std::map<std::string, std::string> live;
    for (const auto& [k, v] : test::Dump(db_.get())) {
      if (v.substr(0, 4) != "tomb") live[k] = v;
    }
    EXPECT_EQ(expected_, live);
  }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
  std::atomic<bool> purging_{false};
  std::map<std::string, std::string> expected_;
};

TEST_F(TombstoneCompactionTest, TablesCountTombstonesAndMarkersAndTheCountSurvivesAReopen) {
  Open();
  Put("a", "live");
  Put("b", "tomb");
  Put("c", "tomb-too");
  ASSERT_TRUE(db_->Delete(WriteOptions(), "d").ok());
  ASSERT_TRUE(db_->Flush().ok());
  EXPECT_EQ(3u, db_->GetStats().tombstones);
  Open();
  EXPECT_EQ(3u, db_->GetStats().tombstones);  // from the manifest, not a rescan
  CompactAllTombstones();  // the filter purges nothing: the table is rewritten in place
  EXPECT_EQ(2u, db_->GetStats().tombstones);  // the marker had nothing below: dropped
  EXPECT_EQ(1u, db_->GetStats().tombstone_compactions);
  ExpectContents();
}

TEST_F(TombstoneCompactionTest, ColdTombstonesAtTheBottomLevelLeaveTheDisk) {
  LoadAndCompact();
  const uint64_t loaded = TableBytes();
  Tombstone(0, kKeys);
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());  // everything at the bottom, nothing purged yet
  ASSERT_EQ(static_cast<uint64_t>(kKeys / 2), db_->GetStats().tombstones);
  const uint64_t before = TableBytes();
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  ASSERT_EQ(before, TableBytes()) << "a plain CompactRange leaves cold bottom tables alone";

  purging_ = true;
  CompactAllTombstones();
  EXPECT_EQ(0u, db_->GetStats().tombstones);
  EXPECT_GT(db_->GetStats().tombstone_compactions, 0u);
  EXPECT_LT(TableBytes(), before * 7 / 10) << "the tombstones' bytes must go";
  EXPECT_LT(TableBytes(), loaded * 6 / 10) << "half the keys deleted";
  ExpectContents();
  Open();
  ExpectContents();
}

TEST_F(TombstoneCompactionTest, MarkersTravelDownAndTakeTheVersionsTheyHideWithThem) {
  LoadAndCompact();
  const uint64_t loaded = TableBytes();
  Tombstone(0, kKeys);  // in L0 (or a level above the data)
  purging_ = true;
  CompactAllTombstones();
  EXPECT_EQ(0u, db_->GetStats().tombstones);
  EXPECT_LT(TableBytes(), loaded * 6 / 10) << test::FilesPerLevel(db_.get());
  ExpectContents();
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  ExpectContents();  // no old version resurfaced from a deeper level
}

TEST_F(TombstoneCompactionTest, OnlyTombstonesAtOrBelowTheRequestedSequenceAreLookedFor) {
  LoadAndCompact();
  const SequenceNumber before = db_->GetStats().last_sequence;
  Tombstone(0, kKeys);
  purging_ = true;
  db_->CompactTombstones("", std::string(8, '\xff'), before);  // older than every tombstone
  WaitForRequests();
  EXPECT_EQ(0u, db_->GetStats().tombstone_compactions);
  EXPECT_EQ(static_cast<uint64_t>(kKeys / 2), db_->GetStats().tombstones);
}

TEST_F(TombstoneCompactionTest, TablesOutsideTheRangeOrWithoutTombstonesAreNotRewritten) {
  LoadAndCompact();
  Tombstone(0, 200);
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  const uint64_t written_before = BytesWritten();
  purging_ = true;
  CompactAllTombstones();
  const uint64_t written_after = BytesWritten();
  EXPECT_EQ(0u, db_->GetStats().tombstones);
  // The tombstones cover a tenth of the key space: far less than all of it is rewritten.
  EXPECT_LT(written_after - written_before, TableBytes() / 3);
  ExpectContents();
}

TEST_F(TombstoneCompactionTest, ARequestEndsWhenItsTombstonesCannotBePurgedYet) {
  LoadAndCompact();
  Tombstone(0, kKeys);
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  const int bottom_files = [&] {
    int files = 0;
    for (const LevelStats& l : db_->GetStats().levels) files += l.files;
    return files;
  }();
  CompactAllTombstones();  // the filter says no to everything
  const Stats s = db_->GetStats();
  EXPECT_EQ(static_cast<uint64_t>(kKeys / 2), s.tombstones);
  EXPECT_LE(s.tombstone_compactions, static_cast<uint64_t>(bottom_files)) << "each bottom table once";
  ExpectContents();
}

TEST_F(TombstoneCompactionTest, RequestsWaitForAReopenToBeAskedAgainAndLoseNothing) {
  LoadAndCompact();
  Tombstone(0, kKeys);
  purging_ = true;
  db_->CompactTombstones("", std::string(8, '\xff'), db_->GetStats().last_sequence);
  Open();  // closes while the request may be running: it is not persisted
  ExpectContents();
  CompactAllTombstones();
  EXPECT_EQ(0u, db_->GetStats().tombstones);
  ExpectContents();
}

}  // namespace
}  // namespace kvring::lsm
