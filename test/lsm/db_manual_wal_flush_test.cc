// Options::manual_wal_flush: non-sync writes leave their WAL records in user
// space until FlushWal, whose single write() resolves their callbacks. These
// tests run on the real file system: what a process crash leaves behind is
// exactly the bytes handed to the OS, so a copy of the directory taken while
// the DB is open stands for the directory after a kill -9.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "lsm/engine.h"
#include "test/lsm/db_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using test::Get;
using test::Key;

// Forwards to the real Env; the WAL files it creates can be told to fail Flush
// (as write() does on a full disk) while keeping the bytes in their buffer.
class FlakyWalEnv final : public base::Env {
 public:
  std::atomic<bool> fail_wal_flush{false};

  base::Status NewSequentialFile(const std::string& p, std::unique_ptr<base::SequentialFile>* out) override {
    return real_->NewSequentialFile(p, out);
  }
  base::Status NewRandomAccessFile(const std::string& p, std::unique_ptr<base::RandomAccessFile>* out) override {
    return real_->NewRandomAccessFile(p, out);
  }
  base::Status NewWritableFile(const std::string& p, std::unique_ptr<base::WritableFile>* out) override {
    KV_RETURN_IF_ERROR(real_->NewWritableFile(p, out));
    if (p.size() > 4 && p.compare(p.size() - 4, 4, ".log") == 0) {
      *out = std::make_unique<FlakyFile>(this, p, std::move(*out));
    }
    return base::Status::OK();
  }
  base::Status NewAppendableFile(const std::string& p, std::unique_ptr<base::WritableFile>* out) override {
    return real_->NewAppendableFile(p, out);
  }
  bool FileExists(const std::string& p) override { return real_->FileExists(p); }
  base::Status GetChildren(const std::string& d, std::vector<std::string>* names) override {
    return real_->GetChildren(d, names);
  }
  base::Status RemoveFile(const std::string& p) override { return real_->RemoveFile(p); }
  base::Status CreateDir(const std::string& d) override { return real_->CreateDir(d); }
  base::Status RemoveDir(const std::string& d) override { return real_->RemoveDir(d); }
  base::Status GetFileSize(const std::string& p, uint64_t* size) override { return real_->GetFileSize(p, size); }
  base::Status RenameFile(const std::string& a, const std::string& b) override { return real_->RenameFile(a, b); }
  base::Status SyncDir(const std::string& d) override { return real_->SyncDir(d); }
  base::Status LockFile(const std::string& p, std::unique_ptr<base::FileLock>* lock) override {
    return real_->LockFile(p, lock);
  }
  base::Status UnlockFile(std::unique_ptr<base::FileLock> lock) override { return real_->UnlockFile(std::move(lock)); }

 private:
  class FlakyFile final : public base::WritableFile {
   public:
    FlakyFile(FlakyWalEnv* env, std::string path, std::unique_ptr<base::WritableFile> file)
        : env_(env), path_(std::move(path)), file_(std::move(file)) {}
    base::Status Append(std::string_view data) override { return file_->Append(data); }
    base::Status Flush() override {
      if (env_->fail_wal_flush.load()) return base::Status::NoSpace("write " + path_ + ": no space left on device");
      return file_->Flush();
    }
    base::Status Sync() override { return file_->Sync(); }
    base::Status Close() override { return file_->Close(); }

   private:
    FlakyWalEnv* const env_;
    const std::string path_;
    std::unique_ptr<base::WritableFile> file_;
  };

  base::Env* const real_ = base::Env::Default();
};

class ManualWalFlushTest : public ::testing::Test {
 protected:
  ManualWalFlushTest() {
    options_ = test::SmallOptions(&env_);
    options_.memtable_bytes = 1 << 20;  // no rotation unless a test asks for one
    options_.sync_mode = SyncMode::kInterval;
    options_.manual_wal_flush = true;
  }

  void Open() {
    db_.reset();
    base::Status s = DB::Open(options_, dir(), &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string dir() const { return tmp_.Sub("db"); }

  // Writes key i with a callback that records its outcome in outcomes_[i].
  void WriteWithCallback(int i) {
    WriteBatch batch;
    batch.Put(Key(i), "v" + std::to_string(i));
    auto* slot = &outcomes_[static_cast<size_t>(i)];
    base::Status s = db_->Write(WriteOptions(), &batch, [slot](base::Status st) { *slot = st.ok() ? "ok" : st.ToString(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // What a kill -9 right now would leave: the directory as the OS holds it.
  // A copy of the live directory, file by file: a file the engine deletes
  // meanwhile (an obsolete WAL) is simply not copied, as after a crash.
  std::string CopyAsAfterCrash(const std::string& name) {
    const std::string copy = tmp_.Sub(name);
    std::filesystem::create_directories(copy);
    for (const auto& entry : std::filesystem::directory_iterator(dir())) {
      const std::string file = entry.path().filename().string();
      if (file == "LOCK") continue;
      std::error_code vanished;
      std::filesystem::copy_file(entry.path(), copy + "/" + file, vanished);
    }
    return copy;
  }
  // Keys 0..n-1 found in the DB opened at path.
  int CountKeys(const std::string& path, int n) {
    std::unique_ptr<DB> db;
    Options options = options_;
    options.env = base::Env::Default();
    base::Status s = DB::Open(options, path, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return -1;
    int found = 0;
    for (int i = 0; i < n; i++) found += Get(db.get(), Key(i)) == "v" + std::to_string(i) ? 1 : 0;
    return found;
  }

  kvring::test::TempDir tmp_;
  FlakyWalEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
  std::vector<std::string> outcomes_ = std::vector<std::string>(1000);
};

TEST_F(ManualWalFlushTest, RecordsReachTheOsAndCallbacksRunOnlyAtFlushWal) {
  Open();
  for (int i = 0; i < 50; i++) WriteWithCallback(i);
  EXPECT_EQ("v7", Get(db_.get(), Key(7)));  // visible to reads before any flush
  for (int i = 0; i < 50; i++) EXPECT_EQ("", outcomes_[static_cast<size_t>(i)]) << i;
  EXPECT_EQ(0, CountKeys(CopyAsAfterCrash("before"), 50));  // still in user space

  ASSERT_TRUE(db_->FlushWal().ok());
  for (int i = 0; i < 50; i++) EXPECT_EQ("ok", outcomes_[static_cast<size_t>(i)]) << i;
  EXPECT_EQ(50, CountKeys(CopyAsAfterCrash("after"), 50));  // a crash now keeps them all
  EXPECT_TRUE(db_->FlushWal().ok());  // nothing buffered: a no-op
}

TEST_F(ManualWalFlushTest, SyncWritesAndSyncWalCoverTheBufferedRecords) {
  Open();
  for (int i = 0; i < 10; i++) WriteWithCallback(i);
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(db_->Put(sync, Key(10), "v10").ok());  // flushes everything before it, then syncs
  for (int i = 0; i < 10; i++) EXPECT_EQ("ok", outcomes_[static_cast<size_t>(i)]) << i;
  EXPECT_EQ(11, CountKeys(CopyAsAfterCrash("after-sync-put"), 11));

  WriteWithCallback(11);
  ASSERT_TRUE(db_->SyncWal().ok());
  EXPECT_EQ("ok", outcomes_[11]);
  EXPECT_EQ(12, CountKeys(CopyAsAfterCrash("after-syncwal"), 12));
}

TEST_F(ManualWalFlushTest, RotationAndCloseHandBufferedRecordsToTheOs) {
  Open();
  for (int i = 0; i < 20; i++) WriteWithCallback(i);
  ASSERT_TRUE(db_->Flush().ok());  // retires the WAL: its buffer goes out first
  ASSERT_TRUE(db_->FlushWal().ok());
  for (int i = 0; i < 20; i++) EXPECT_EQ("ok", outcomes_[static_cast<size_t>(i)]) << i;
  for (int i = 20; i < 40; i++) WriteWithCallback(i);
  db_.reset();  // Close flushes the buffer and resolves the callbacks
  for (int i = 20; i < 40; i++) EXPECT_EQ("ok", outcomes_[static_cast<size_t>(i)]) << i;
  EXPECT_EQ(40, CountKeys(dir(), 40));
}

TEST_F(ManualWalFlushTest, AFailedFlushFailsItsWritesCallbacksAndTheNextWalWorks) {
  Open();
  for (int i = 0; i < 5; i++) WriteWithCallback(i);
  ASSERT_TRUE(db_->FlushWal().ok());
  for (int i = 5; i < 10; i++) WriteWithCallback(i);
  env_.fail_wal_flush = true;
  base::Status s = db_->FlushWal();
  ASSERT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find(".log")) << s.ToString();  // names the WAL
  for (int i = 0; i < 5; i++) EXPECT_EQ("ok", outcomes_[static_cast<size_t>(i)]) << i;
  for (int i = 5; i < 10; i++) {
    EXPECT_NE(std::string::npos, outcomes_[static_cast<size_t>(i)].find("no space")) << outcomes_[static_cast<size_t>(i)];
  }
  EXPECT_EQ("v7", Get(db_.get(), Key(7)));  // applied all the same; never reported durable

  env_.fail_wal_flush = false;
  for (int i = 10; i < 20; i++) WriteWithCallback(i);  // onto a fresh WAL
  ASSERT_TRUE(db_->FlushWal().ok());
  for (int i = 10; i < 20; i++) EXPECT_EQ("ok", outcomes_[static_cast<size_t>(i)]) << i;
  std::unique_ptr<DB> db;
  Options options = options_;
  options.env = base::Env::Default();
  ASSERT_TRUE(DB::Open(options, CopyAsAfterCrash("after-recovery"), &db).ok());
  for (int i : {0, 4, 10, 19}) EXPECT_EQ("v" + std::to_string(i), Get(db.get(), Key(i))) << i;  // acknowledged: kept
}

TEST_F(ManualWalFlushTest, UnderSyncAlwaysNothingWaitsForFlushWal) {
  // Every write is synced anyway: the option changes nothing.
  options_.sync_mode = SyncMode::kAlways;
  Open();
  std::atomic<int> durable{0};
  for (int i = 0; i < 5; i++) {
    WriteBatch batch;
    batch.Put(Key(i), "v" + std::to_string(i));
    ASSERT_TRUE(db_->Write(WriteOptions(), &batch, [&](base::Status st) { durable += st.ok() ? 1 : 0; }).ok());
  }
  for (int i = 0; i < 2000 && durable.load() < 5; i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(5, durable.load());  // reported by the syncer, no FlushWal called
  EXPECT_EQ(5, CountKeys(CopyAsAfterCrash("synced"), 5));
}

TEST_F(ManualWalFlushTest, WritersOnOtherThreadsRacingFlushesAreAllAcknowledged) {
  // kvnode's I/O threads write while the loop flushes: a record appended just
  // after a flush waits for the next one; it never fails.
  Open();
  constexpr int kThreads = 3, kPerThread = 2000;
  std::atomic<int> ok{0}, failed{0};
  std::atomic<bool> writing{true};
  std::string first_error;
  std::mutex mu;
  std::thread flusher([&] {
    while (writing.load()) ASSERT_TRUE(db_->FlushWal().ok());
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; t++) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; i++) {
        WriteBatch batch;
        batch.Put(Key(t * kPerThread + i), "v");
        base::Status s = db_->Write(WriteOptions(), &batch, [&](base::Status st) {
          if (st.ok()) {
            ok.fetch_add(1);
            return;
          }
          failed.fetch_add(1);
          std::lock_guard<std::mutex> l(mu);
          if (first_error.empty()) first_error = st.ToString();
        });
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  flusher.join();
  ASSERT_TRUE(db_->FlushWal().ok());
  EXPECT_EQ(0, failed.load()) << first_error;
  EXPECT_EQ(kThreads * kPerThread, ok.load());
}

}  // namespace
}  // namespace kvring::lsm
