// The write path: group commit, sync modes, WriteCallback, and what happens when
// an fdatasync fails.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "base/fault_env.h"
#include "lsm/engine.h"
#include "test/lsm/db_test_util.h"

namespace kvring::lsm {
namespace {

using test::Get;
using test::Key;

class DBWriteTest : public ::testing::Test {
 protected:
  DBWriteTest() : options_(test::SmallOptions(&env_)) { options_.sync_mode = SyncMode::kAlways; }

  void Open() {
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Power goes out with the DB still open, then the process restarts.
  void PowerLossAndReopen() {
    env_.SimulatePowerLoss();
    db_.reset();  // its syncs fail on the dead handles: nothing more becomes durable
    env_.SimulatePowerLoss();
    Open();
  }
  std::vector<std::string> LogFiles() {
    std::vector<std::string> names, logs;
    EXPECT_TRUE(env_.GetChildren("/db", &names).ok());
    for (const auto& n : names) {
      if (n.size() > 4 && n.substr(n.size() - 4) == ".log") logs.push_back(n);
    }
    return logs;
  }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(DBWriteTest, SyncAlwaysWritesSurvivePowerLoss) {
  Open();
  for (int i = 0; i < 50; i++) ASSERT_TRUE(db_->Put(WriteOptions(), Key(i), "v" + std::to_string(i)).ok());
  PowerLossAndReopen();
  for (int i = 0; i < 50; i++) EXPECT_EQ("v" + std::to_string(i), Get(db_.get(), Key(i)));
}

TEST_F(DBWriteTest, SyncNoneWritesAreLostByPowerLossUnlessSynced) {
  options_.sync_mode = SyncMode::kNone;
  Open();
  ASSERT_TRUE(db_->Put(WriteOptions(), "synced", "1").ok());
  ASSERT_TRUE(db_->SyncWal().ok());
  ASSERT_TRUE(db_->Put(WriteOptions(), "unsynced", "2").ok());
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db_->Put(sync, "forced", "3").ok());
  ASSERT_TRUE(db_->Put(WriteOptions(), "lost", "4").ok());
  PowerLossAndReopen();
  EXPECT_EQ("1", Get(db_.get(), "synced"));
  EXPECT_EQ("2", Get(db_.get(), "unsynced"));  // the forced sync covered it too
  EXPECT_EQ("3", Get(db_.get(), "forced"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "lost"));
}

TEST_F(DBWriteTest, IntervalModeSyncsInTheBackground) {
  options_.sync_mode = SyncMode::kInterval;
  options_.sync_interval_ms = 2;
  Open();
  ASSERT_TRUE(db_->Put(WriteOptions(), "k", "v").ok());
  for (int i = 0; i < 500 && db_->GetStats().wal_syncs == 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_GT(db_->GetStats().wal_syncs, 0u);
  PowerLossAndReopen();
  EXPECT_EQ("v", Get(db_.get(), "k"));
}

TEST_F(DBWriteTest, ConcurrentSyncWritersShareFdatasyncs) {
  env_.SetSyncDelayMicros(2000);
  Open();
  const uint64_t syncs_before = env_.syncs();
  constexpr int kThreads = 8, kWrites = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; i++) {
        if (!db_->Put(WriteOptions(), Key(t * 1000 + i), "v").ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(0, failures.load());
  const uint64_t syncs = env_.syncs() - syncs_before;
  // Each fdatasync covers every writer that queued while the previous one ran.
  EXPECT_LT(syncs, kThreads * kWrites / 3u) << syncs << " syncs for " << kThreads * kWrites << " writes";
  PowerLossAndReopen();
  EXPECT_EQ(static_cast<size_t>(kThreads * kWrites), test::Dump(db_.get()).size());
}

TEST_F(DBWriteTest, ForcedSyncWritesAcrossWalRotationsAllComplete) {
  options_.sync_mode = SyncMode::kNone;  // retired WALs are forgotten eagerly in this mode
  options_.memtable_bytes = 16 << 10;
  Open();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0}, callbacks{0};
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      WriteOptions sync;
      sync.sync = true;
      for (int i = 0; i < 300; i++) {
        const std::string k = Key(t * 1000 + i);
        if (i % 2 == 0) {
          if (!db_->Put(sync, k, std::string(200, 'x')).ok()) failures++;
        } else {
          WriteBatch b;
          b.Put(k, std::string(200, 'y'));
          if (!db_->Write(sync, &b, [&](base::Status s) { s.ok() ? callbacks++ : failures++; }).ok()) failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(db_->SyncWal().ok());
  EXPECT_EQ(0, failures.load());
  EXPECT_GT(db_->GetStats().flushes + db_->GetStats().immutable_memtables, 3u);  // the WAL rolled many times
  for (int i = 0; i < 1000 && callbacks.load() < 600; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(600, callbacks.load());
  PowerLossAndReopen();
  EXPECT_EQ(1200u, test::Dump(db_.get()).size());
}

TEST_F(DBWriteTest, WriteCallbackSeesVisibleWriteBeforeDurability) {
  Open();
  env_.SetSyncDelayMicros(300000);
  std::promise<base::Status> durable;
  std::atomic<bool> called{false};
  WriteBatch batch;
  batch.Put("k", "v");
  ASSERT_TRUE(db_->Write(WriteOptions(), &batch, [&](base::Status s) {
                  called = true;
                  durable.set_value(s);
                }).ok());
  // Applied and readable at once; the 300 ms fdatasync is still running.
  EXPECT_EQ("v", Get(db_.get(), "k"));
  EXPECT_FALSE(called.load());
  auto future = durable.get_future();
  ASSERT_EQ(std::future_status::ready, future.wait_for(std::chrono::seconds(10)));
  EXPECT_TRUE(future.get().ok());
}

// A blocking sync writer that finds no sync running does the fdatasync on its
// own thread; callbacks that sync resolves must still arrive, on the syncer
// thread, never on the writer's.
TEST_F(DBWriteTest, CallbacksResolvedByAWritersOwnSyncStillArriveOnTheSyncerThread) {
  env_.SetSyncDelayMicros(500);
  Open();
  const std::thread::id writer = std::this_thread::get_id();
  std::atomic<int> called{0}, on_writer_thread{0}, failed{0};
  constexpr int kRounds = 100;
  for (int i = 0; i < kRounds; i++) {
    WriteBatch batch;
    batch.Put(Key(i), "callback");
    ASSERT_TRUE(db_->Write(WriteOptions(), &batch, [&](base::Status s) {
                    if (!s.ok()) failed++;
                    if (std::this_thread::get_id() == writer) on_writer_thread++;
                    called++;
                  }).ok());
    ASSERT_TRUE(db_->Put(WriteOptions(), Key(1000 + i), "blocking").ok());  // durable on return
  }
  for (int i = 0; i < 2000 && called.load() < kRounds; i++) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(kRounds, called.load());
  EXPECT_EQ(0, on_writer_thread.load());
  EXPECT_EQ(0, failed.load());
  PowerLossAndReopen();
  EXPECT_EQ(2u * kRounds, test::Dump(db_.get()).size());
}

TEST_F(DBWriteTest, WriteCallbackInNoneModeIsCalledAtOnce) {
  options_.sync_mode = SyncMode::kNone;
  Open();
  bool called = false;
  WriteBatch batch;
  batch.Put("k", "v");
  ASSERT_TRUE(db_->Write(WriteOptions(), &batch, [&](base::Status s) { called = s.ok(); }).ok());
  EXPECT_TRUE(called);
}

TEST_F(DBWriteTest, FailedFdatasyncIsReportedAndTheNextWriteRollsToANewWal) {
  Open();
  ASSERT_TRUE(db_->Put(WriteOptions(), "before", "1").ok());
  const auto logs_before = LogFiles();
  env_.SetSyncFailure(true, ".log");
  base::Status s = db_->Put(WriteOptions(), "failed", "2");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("fdatasync /db/")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(".log: Input/output error")) << s.ToString();
  // A callback write on the poisoned WAL also hears about the failure.
  std::promise<base::Status> p;
  WriteBatch batch;
  batch.Put("also-failed", "3");
  base::Status applied = db_->Write(WriteOptions(), &batch, [&](base::Status st) { p.set_value(st); });
  if (applied.ok()) {
    EXPECT_FALSE(p.get_future().get().ok());
  }
  env_.SetSyncFailure(false);
  ASSERT_TRUE(db_->Put(WriteOptions(), "after", "4").ok());
  EXPECT_NE(logs_before, LogFiles());
  PowerLossAndReopen();
  EXPECT_EQ("1", Get(db_.get(), "before"));
  EXPECT_EQ("4", Get(db_.get(), "after"));
}

TEST_F(DBWriteTest, ShortWalWriteFailsTheWriteAndRecoveryDropsTheTornRecord) {
  options_.paranoid_checks = true;
  Open();
  ASSERT_TRUE(db_->Put(WriteOptions(), "a", "1").ok());
  env_.SetShortWrites(1, ".log");
  base::Status s = db_->Put(WriteOptions(), "b", std::string(1000, 'x'));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find(".log")) << s.ToString();
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "b"));  // a failed append is not applied
  ASSERT_TRUE(db_->Put(WriteOptions(), "c", "3").ok());
  PowerLossAndReopen();  // paranoid: a torn tail is not corruption
  EXPECT_EQ("1", Get(db_.get(), "a"));
  EXPECT_EQ("NOT_FOUND", Get(db_.get(), "b"));
  EXPECT_EQ("3", Get(db_.get(), "c"));
}

TEST_F(DBWriteTest, L0PileUpSlowsWritesDownAndCountsTheStall) {
  options_.sync_mode = SyncMode::kNone;
  options_.l0_compaction_trigger = 2;
  options_.l0_slowdown_trigger = 2;
  options_.l0_stop_trigger = 50;
  env_.SetSyncDelayMicros(5000);  // slow compactions down so L0 stays busy
  Open();
  for (int round = 0; round < 6 && db_->GetStats().slowdowns == 0; round++) {
    for (int i = 0; i < 100; i++) ASSERT_TRUE(db_->Put(WriteOptions(), Key(i), std::to_string(round)).ok());
    ASSERT_TRUE(db_->Flush().ok());
  }
  for (int i = 0; i < 50; i++) ASSERT_TRUE(db_->Put(WriteOptions(), Key(i), "last").ok());
  Stats s = db_->GetStats();
  EXPECT_GT(s.slowdowns, 0u);
  EXPECT_GE(s.stall_micros, s.slowdowns * 1000);
  EXPECT_EQ("last", Get(db_.get(), Key(0)));
}

}  // namespace
}  // namespace kvring::lsm
