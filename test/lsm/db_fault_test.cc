// Disk full and I/O errors: ENOSPC during a WAL append, a flush and a
// compaction. The failing write gets an error naming the file, reads keep
// working, nothing acknowledged is lost, and once space returns writes succeed
// again without reopening the DB.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/fault_env.h"
#include "lsm/engine.h"
#include "test/lsm/db_test_util.h"

namespace kvring::lsm {
namespace {

using test::Get;
using test::Key;

class DBFaultTest : public ::testing::Test {
 protected:
  DBFaultTest() : options_(test::SmallOptions(&env_)) {
    options_.sync_mode = SyncMode::kAlways;
    options_.memtable_bytes = 16 << 10;
  }

  void Open() {
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  base::Status Put(int i, const std::string& tag) { return db_->Put(WriteOptions(), Key(i), Value(i, tag)); }
  static std::string Value(int i, const std::string& tag) { return tag + std::to_string(i) + std::string(200, 'x'); }

  // Retries a write for up to 10 s (background work retries with backoff).
  base::Status PutEventually(int i, const std::string& tag) {
    base::Status s;
    for (int attempt = 0; attempt < 1000; attempt++) {
      s = Put(i, tag);
      if (s.ok()) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return s;
  }

  void ExpectAll(int n, const std::string& tag) {
    for (int i = 0; i < n; i++) ASSERT_EQ(Value(i, tag), Get(db_.get(), Key(i))) << i;
  }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBFaultTest, WalAppendOnFullDiskFailsNamingTheLogAndRecoversWhenSpaceReturns) {
  Open();
  for (int i = 0; i < 20; i++) ASSERT_TRUE(Put(i, "a").ok());
  env_.SetSpaceLimit(env_.BytesStored() + 2000);
  base::Status s;
  int acked = 20;
  for (int i = 20; i < 100 && s.ok(); i++) {
    s = Put(i, "a");
    if (s.ok()) acked = i + 1;
  }
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(".log")) << s.ToString();
  ExpectAll(acked, "a");  // reads keep working
  env_.SetSpaceLimit(base::FaultEnv::kUnlimited);
  ASSERT_TRUE(Put(acked, "a").ok());  // the very next write succeeds, on a fresh WAL
  ++acked;
  env_.SimulatePowerLoss();  // and nothing acknowledged was lost
  Open();
  ExpectAll(acked, "a");
}

TEST_F(DBFaultTest, FlushOnFullDiskStallsWritesWithTheTableErrorThenRecovers) {
  Open();
  env_.SetSpaceLimit(env_.BytesStored(), ".sst");  // tables cannot grow; the WAL can
  base::Status s;
  int acked = 0;
  for (int i = 0; i < 2000 && s.ok(); i++) {
    s = Put(i, "b");
    if (s.ok()) acked = i + 1;
  }
  // Memtables filled up behind the failing flush; then writes failed fast.
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(".sst")) << s.ToString();
  EXPECT_NE(std::string::npos, db_->GetStats().background_error.find(".sst"));
  ExpectAll(acked, "b");
  env_.SetSpaceLimit(base::FaultEnv::kUnlimited);
  ASSERT_TRUE(PutEventually(acked, "b").ok());
  ++acked;
  ASSERT_TRUE(db_->Flush().ok());
  EXPECT_EQ("", db_->GetStats().background_error);
  env_.SimulatePowerLoss();
  Open();
  ExpectAll(acked, "b");
}

TEST_F(DBFaultTest, CompactionOnFullDiskFailsThenSucceedsWhenSpaceReturns) {
  Open();
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 150; i++) ASSERT_TRUE(Put(i, "c").ok());
    ASSERT_TRUE(db_->Flush().ok());
  }
  env_.SetSpaceLimit(env_.BytesStored(), ".sst");
  base::Status s = db_->CompactRange(nullptr, nullptr);
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(".sst")) << s.ToString();
  ExpectAll(150, "c");
  ASSERT_TRUE(Put(150, "c").ok());  // writes that need no table still work
  env_.SetSpaceLimit(base::FaultEnv::kUnlimited);
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  ExpectAll(151, "c");
  env_.SimulatePowerLoss();
  Open();
  ExpectAll(151, "c");
}

TEST_F(DBFaultTest, WholeDiskFullDuringMixedWorkloadLosesNothingAcknowledged) {
  Open();
  env_.SetSpaceLimit(env_.BytesStored() + 60000);
  int acked = 0;
  for (int i = 0; i < 3000; i++) {
    if (Put(i, "d").ok()) acked = i + 1; else break;
  }
  ASSERT_LT(acked, 3000);
  for (int i = 0; i < acked; i++) ASSERT_EQ(Value(i, "d"), Get(db_.get(), Key(i)));
  env_.SetSpaceLimit(base::FaultEnv::kUnlimited);
  for (int i = acked; i < acked + 300; i++) ASSERT_TRUE(PutEventually(i, "d").ok()) << i;
  acked += 300;
  env_.SimulatePowerLoss();
  Open();
  ExpectAll(acked, "d");
}

TEST_F(DBFaultTest, ManifestWriteFailureIsRetriedAndLosesNothing) {
  Open();
  for (int i = 0; i < 100; i++) ASSERT_TRUE(Put(i, "e").ok());
  env_.SetSyncFailure(true, "MANIFEST");
  base::Status s = db_->Flush();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find("MANIFEST")) << s.ToString();
  ExpectAll(100, "e");
  env_.SetSyncFailure(false);
  for (int attempt = 0; attempt < 500 && !db_->Flush().ok(); attempt++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(db_->Flush().ok());
  env_.SimulatePowerLoss();
  Open();
  ExpectAll(100, "e");
}

}  // namespace
}  // namespace kvring::lsm
