#include "base/fault_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace kvring::base {
namespace {

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDir("/db").ok()); }

  void WriteFile(const std::string& path, const std::string& data, bool sync) {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env_.NewWritableFile(path, &f).ok());
    ASSERT_TRUE(f->Append(data).ok());
    if (sync) {
      ASSERT_TRUE(f->Sync().ok());
    }
    ASSERT_TRUE(f->Close().ok());
  }

  std::string Read(const std::string& path) {
    std::string data;
    Status s = ReadFileToString(&env_, path, &data);
    return s.ok() ? data : "<" + s.ToString() + ">";
  }

  std::vector<std::string> Children() {
    std::vector<std::string> names;
    EXPECT_TRUE(env_.GetChildren("/db", &names).ok());
    std::sort(names.begin(), names.end());
    return names;
  }

  FaultEnv env_;
};

TEST_F(FaultEnvTest, WrittenBytesReadBackThroughEveryFileKind) {
  WriteFile("/db/a", "hello world", false);
  EXPECT_EQ("hello world", Read("/db/a"));
  std::unique_ptr<RandomAccessFile> ra;
  ASSERT_TRUE(env_.NewRandomAccessFile("/db/a", &ra).ok());
  char scratch[16];
  std::string_view got;
  ASSERT_TRUE(ra->Read(6, 100, &got, scratch).ok());
  EXPECT_EQ("world", got);
  uint64_t size = 0;
  ASSERT_TRUE(env_.GetFileSize("/db/a", &size).ok());
  EXPECT_EQ(11u, size);
  std::unique_ptr<WritableFile> app;
  ASSERT_TRUE(env_.NewAppendableFile("/db/a", &app).ok());
  ASSERT_TRUE(app->Append("!").ok());
  EXPECT_EQ("hello world!", Read("/db/a"));
  EXPECT_EQ(12u, env_.bytes_written());
}

TEST_F(FaultEnvTest, MissingFileAndDirectoryAreNotFoundNamingThePath) {
  std::unique_ptr<SequentialFile> f;
  Status s = env_.NewSequentialFile("/db/nope", &f);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(std::string::npos, s.message().find("/db/nope"));
  std::unique_ptr<WritableFile> w;
  EXPECT_TRUE(env_.NewWritableFile("/nodir/x", &w).IsNotFound());
}

TEST_F(FaultEnvTest, PowerLossDropsUnsyncedTailAndKeepsSyncedBytes) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/log", &f).ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("-lost").ok());
  env_.SimulatePowerLoss();
  EXPECT_EQ("durable", Read("/db/log"));
  // The old handle died with the power.
  EXPECT_TRUE(f->Append("x").IsIOError());
}

TEST_F(FaultEnvTest, PowerLossLosesFilesCreatedAfterTheLastDirSync) {
  WriteFile("/db/old", "o", true);
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  WriteFile("/db/new", "n", true);  // synced data, but its name is not durable
  env_.SimulatePowerLoss();
  EXPECT_EQ(std::vector<std::string>{"old"}, Children());
}

TEST_F(FaultEnvTest, PowerLossUndoesRenamesAndRemovalsAfterTheLastDirSync) {
  WriteFile("/db/a", "A", true);
  WriteFile("/db/b", "B", true);
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE(env_.RenameFile("/db/a", "/db/c").ok());
  ASSERT_TRUE(env_.RemoveFile("/db/b").ok());
  EXPECT_EQ((std::vector<std::string>{"c"}), Children());
  env_.SimulatePowerLoss();
  EXPECT_EQ((std::vector<std::string>{"a", "b"}), Children());
  EXPECT_EQ("A", Read("/db/a"));
}

TEST_F(FaultEnvTest, SyncedRenameOverwritesAtomically) {
  WriteFile("/db/CURRENT", "one", true);
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE(WriteStringToFileAtomic(&env_, "two", "/db/CURRENT").ok());
  env_.SimulatePowerLoss();
  EXPECT_EQ("two", Read("/db/CURRENT"));
  EXPECT_EQ(std::vector<std::string>{"CURRENT"}, Children());
}

TEST_F(FaultEnvTest, RecreatedFileRevertsToItsDurableContentsWithoutDirSync) {
  WriteFile("/db/f", "first", true);
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  WriteFile("/db/f", "second", true);
  env_.SimulatePowerLoss();
  EXPECT_EQ("first", Read("/db/f"));
}

TEST_F(FaultEnvTest, RandomPrefixModeKeepsSomePrefixOfTheUnsyncedTail) {
  FaultEnv::Options options;
  options.seed = 7;
  options.keep_random_unsynced_prefix = true;
  FaultEnv env(options);
  ASSERT_TRUE(env.CreateDir("/d").ok());
  bool saw_partial = false;
  for (int i = 0; i < 20; i++) {
    std::unique_ptr<WritableFile> f;
    ASSERT_TRUE(env.NewWritableFile("/d/f", &f).ok());
    ASSERT_TRUE(env.SyncDir("/d").ok());
    ASSERT_TRUE(f->Append("0123456789").ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(f->Append("abcdefghij").ok());
    env.SimulatePowerLoss();
    std::string data;
    ASSERT_TRUE(ReadFileToString(&env, "/d/f", &data).ok());
    ASSERT_GE(data.size(), 10u);
    EXPECT_EQ(std::string("0123456789abcdefghij").substr(0, data.size()), data);
    if (data.size() > 10 && data.size() < 20) saw_partial = true;
  }
  EXPECT_TRUE(saw_partial);
}

TEST_F(FaultEnvTest, SpaceLimitFailsAppendsWithNoSpaceUntilRaised) {
  env_.SetSpaceLimit(10);
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/000007.log", &f).ok());
  ASSERT_TRUE(f->Append("12345678").ok());
  Status s = f->Append("abc");
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("/db/000007.log"));
  EXPECT_EQ("12345678", Read("/db/000007.log"));  // nothing of the failed append
  env_.SetSpaceLimit(FaultEnv::kUnlimited);
  EXPECT_TRUE(f->Append("abc").ok());
}

TEST_F(FaultEnvTest, RemovingFilesFreesSpace) {
  WriteFile("/db/big", std::string(100, 'x'), true);
  env_.SetSpaceLimit(120);
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/small", &f).ok());
  EXPECT_TRUE(f->Append(std::string(50, 'y')).IsNoSpace());
  ASSERT_TRUE(env_.RemoveFile("/db/big").ok());
  EXPECT_TRUE(f->Append(std::string(50, 'y')).ok());
  EXPECT_EQ(50u, env_.BytesStored());
}

TEST_F(FaultEnvTest, FailedSyncReportsPathAndLeavesBytesUnsynced) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/000003.log", &f).ok());
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  ASSERT_TRUE(f->Append("abc").ok());
  env_.SetSyncFailure(true, ".log");
  Status s = f->Sync();
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ("fdatasync /db/000003.log: Input/output error", s.message());
  env_.SimulatePowerLoss();
  EXPECT_EQ("", Read("/db/000003.log"));
  EXPECT_EQ(0u, env_.syncs());
}

TEST_F(FaultEnvTest, SyncFailureFilterSparesOtherFiles) {
  env_.SetSyncFailure(true, ".log");
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/000004.sst", &f).ok());
  ASSERT_TRUE(f->Append("abc").ok());
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_EQ(1u, env_.syncs());
}

TEST_F(FaultEnvTest, ShortWriteAppendsAPrefixThenFails) {
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewWritableFile("/db/x", &f).ok());
  env_.SetShortWrites(1);
  Status s = f->Append("abcdefgh");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(std::string::npos, s.message().find("/db/x"));
  EXPECT_EQ("abcd", Read("/db/x"));
  EXPECT_TRUE(f->Append("ij").ok());  // only one short write was asked for
  EXPECT_EQ("abcdij", Read("/db/x"));
}

TEST_F(FaultEnvTest, CrashAfterOpsFailsEverythingUntilPowerLoss) {
  WriteFile("/db/a", "A", true);
  ASSERT_TRUE(env_.SyncDir("/db").ok());
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env_.NewAppendableFile("/db/a", &f).ok());
  env_.CrashAfterOps(2);
  EXPECT_TRUE(f->Append("1").ok());
  EXPECT_TRUE(f->Append("2").ok());
  EXPECT_FALSE(env_.crashed());
  EXPECT_TRUE(f->Append("3").IsIOError());
  EXPECT_TRUE(env_.crashed());
  std::string data;
  EXPECT_TRUE(ReadFileToString(&env_, "/db/a", &data).IsIOError());  // reads die too
  std::vector<std::string> names;
  EXPECT_TRUE(env_.GetChildren("/db", &names).IsIOError());
  env_.SimulatePowerLoss();
  EXPECT_FALSE(env_.crashed());
  EXPECT_EQ("A", Read("/db/a"));
}

TEST_F(FaultEnvTest, LockIsExclusiveUntilUnlockedOrPowerLoss) {
  std::unique_ptr<FileLock> lock, second;
  ASSERT_TRUE(env_.LockFile("/db/LOCK", &lock).ok());
  EXPECT_TRUE(env_.LockFile("/db/LOCK", &second).IsBusy());
  ASSERT_TRUE(env_.UnlockFile(std::move(lock)).ok());
  ASSERT_TRUE(env_.LockFile("/db/LOCK", &lock).ok());
  env_.SimulatePowerLoss();
  EXPECT_TRUE(env_.LockFile("/db/LOCK", &second).ok());
}

TEST_F(FaultEnvTest, ConcurrentAppendersAndSyncersKeepEveryByte) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([this, t] {
      std::unique_ptr<WritableFile> f;
      std::string path = "/db/f" + std::to_string(t);
      ASSERT_TRUE(env_.NewWritableFile(path, &f).ok());
      for (int i = 0; i < 500; i++) {
        ASSERT_TRUE(f->Append("x").ok());
        if (i % 50 == 0) {
          ASSERT_TRUE(f->Sync().ok());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(2000u, env_.BytesStored());
  EXPECT_EQ(40u, env_.syncs());
}

}  // namespace
}  // namespace kvring::base
