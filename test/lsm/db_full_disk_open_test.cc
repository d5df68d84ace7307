// Opening a DB on a full disk (Options::open_on_full_disk): the open succeeds,
// every acknowledged write (in tables, or only in the WALs after a crash) is
// readable, writes fail with NoSpace naming the file, and once space returns
// writes succeed and the replayed writes reach a table, without a reopen; a
// crash at any point loses nothing acknowledged. Without the option the open
// fails as before.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "base/env_wrapper.h"
#include "base/fault_env.h"
#include "lsm/engine.h"
#include "test/lsm/db_test_util.h"

namespace kvring::lsm {
namespace {

using test::Get;
using test::Key;

// A disk with no room for a new file's first byte in some file systems: creating
// a WAL fails with NoSpace while `refuse_logs` is set.
class NoNewLogEnv final : public base::EnvWrapper {
 public:
  explicit NoNewLogEnv(base::Env* target) : EnvWrapper(target) {}
  base::Status NewWritableFile(const std::string& p, std::unique_ptr<base::WritableFile>* out) override {
    if (refuse_logs.load() && p.size() > 4 && p.compare(p.size() - 4, 4, ".log") == 0) {
      return base::Status::NoSpace("open " + p + ": No space left on device");
    }
    return EnvWrapper::NewWritableFile(p, out);
  }
  std::atomic<bool> refuse_logs{false};
};

class DBFullDiskOpenTest : public ::testing::Test {
 protected:
  DBFullDiskOpenTest() : env_(&fault_), options_(test::SmallOptions(&env_)) {
    options_.sync_mode = SyncMode::kAlways;
    options_.memtable_bytes = 16 << 10;
    options_.open_on_full_disk = true;
  }

  // No byte more fits. (An open may free some, deleting obsolete files that a
  // power loss brought back: then the test fills the disk again.)
  void FillDisk() { fault_.SetSpaceLimit(fault_.BytesStored()); }
  // No byte fits even after the DB deletes files: an opened DB's background
  // thread may remove obsolete WALs after FillDisk, and the bytes it frees would
  // let a write through (a race these tests once lost ~1 run in 7).
  void NoRoomAtAll() { fault_.SetSpaceLimit(0); }

  base::Status Open() {
    db_.reset();
    return DB::Open(options_, "/db", &db_);
  }
  base::Status Put(int i, const std::string& tag) { return db_->Put(WriteOptions(), Key(i), Value(i, tag)); }
  static std::string Value(int i, const std::string& tag) { return tag + std::to_string(i) + std::string(200, 'x'); }

  // Writes n keys, the first `flushed` of them flushed to tables, then crashes:
  // the rest exist only in the WAL.
  void WriteAndCrash(int n, int flushed) {
    ASSERT_TRUE(Open().ok());
    for (int i = 0; i < n; i++) {
      ASSERT_TRUE(Put(i, "a").ok()) << i;
      if (i + 1 == flushed) {
        ASSERT_TRUE(db_->Flush().ok());
      }
    }
    db_.reset();
    fault_.SimulatePowerLoss();
  }

  base::Status PutEventually(int i) {
    base::Status s;
    for (int attempt = 0; attempt < 1000 && !(s = Put(i, "a")).ok(); attempt++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return s;
  }

  void ExpectAll(int n) {
    for (int i = 0; i < n; i++) ASSERT_EQ(Value(i, "a"), Get(db_.get(), Key(i))) << i;
  }

  // Space back: the next writes succeed, a flush writes the replayed memtable,
  // and a crash right after loses nothing.
  void ExpectRecoveryOnceSpaceReturns(int acked) {
    fault_.SetSpaceLimit(base::FaultEnv::kUnlimited);
    env_.refuse_logs = false;
    ASSERT_TRUE(PutEventually(acked).ok());
    // Flush reports the standing background error until the retry (backoff) succeeds.
    base::Status flushed;
    for (int attempt = 0; attempt < 500 && !(flushed = db_->Flush()).ok(); attempt++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(flushed.ok()) << flushed.ToString();
    EXPECT_EQ("", db_->GetStats().background_error);
    ExpectAll(acked + 1);
    fault_.SimulatePowerLoss();
    ASSERT_TRUE(Open().ok());
    ExpectAll(acked + 1);
  }

  base::FaultEnv fault_;
  NoNewLogEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBFullDiskOpenTest, WithoutTheOptionAnOpenOnAFullDiskFails) {
  WriteAndCrash(60, 20);
  options_.open_on_full_disk = false;
  FillDisk();
  base::Status s = Open();
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
}

TEST_F(DBFullDiskOpenTest, OpensServesWalOnlyWritesRefusesWritesAndFlushesThemOnceSpaceReturns) {
  WriteAndCrash(60, 20);  // 40 writes only in the WAL, more than a memtable holds
  FillDisk();
  base::Status s = Open();
  ASSERT_TRUE(s.ok()) << s.ToString();
  NoRoomAtAll();
  ExpectAll(60);
  s = Put(60, "a");
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(".log")) << s.ToString();
  ExpectAll(60);
  ExpectRecoveryOnceSpaceReturns(60);
}

TEST_F(DBFullDiskOpenTest, ACrashWhileOpenedOnAFullDiskLosesNothing) {
  WriteAndCrash(60, 20);
  FillDisk();
  ASSERT_TRUE(Open().ok());
  NoRoomAtAll();
  EXPECT_FALSE(Put(60, "a").ok());
  db_.reset();
  fault_.SimulatePowerLoss();  // and again on the full disk
  ASSERT_TRUE(Open().ok());
  ExpectAll(60);
  ExpectRecoveryOnceSpaceReturns(60);
}

TEST_F(DBFullDiskOpenTest, AfterACleanCloseTheOpenNeedsNoSpace) {
  WriteAndCrash(30, 30);  // everything in tables, an empty WAL
  FillDisk();
  ASSERT_TRUE(Open().ok());
  FillDisk();
  ExpectAll(30);
  EXPECT_TRUE(Put(30, "a").IsNoSpace());
  ExpectRecoveryOnceSpaceReturns(30);
}

TEST_F(DBFullDiskOpenTest, WithoutRoomForAWalTheFirstWriteAfterSpaceReturnsCreatesIt) {
  WriteAndCrash(60, 20);
  FillDisk();
  env_.refuse_logs = true;
  base::Status s = Open();
  ASSERT_TRUE(s.ok()) << s.ToString();
  NoRoomAtAll();
  ExpectAll(60);
  s = Put(60, "a");
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("creating WAL")) << s.ToString();
  ExpectRecoveryOnceSpaceReturns(60);
}

}  // namespace
}  // namespace kvring::lsm
