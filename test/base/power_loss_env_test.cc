// PowerLossEnv on real files: after PowerLoss() each file holds exactly what it
// had synced, files created and never synced are gone, files that existed before
// keep their old bytes, a rename carries what was synced, and every later write
// fails naming the file and the power loss.
#include "base/power_loss_env.h"

#include <gtest/gtest.h>

#include <string>

#include "base/env.h"
#include "test/util/test_util.h"

namespace kvring::base {
namespace {

std::string Contents(const std::string& path) {
  std::string data;
  Status s = ReadFileToString(Env::Default(), path, &data);
  return s.ok() ? data : "<" + s.ToString() + ">";
}

std::unique_ptr<WritableFile> Create(PowerLossEnv* env, const std::string& path) {
  std::unique_ptr<WritableFile> f;
  EXPECT_TRUE(env->NewWritableFile(path, &f).ok());
  return f;
}

TEST(PowerLossEnvTest, EveryFileKeepsWhatItSyncedAndNothingMore) {
  test::TempDir dir;
  PowerLossEnv env(Env::Default());
  ASSERT_TRUE(WriteStringToFileAtomic(Env::Default(), "old", dir.Sub("before")).ok());

  auto synced = Create(&env, dir.Sub("synced"));
  ASSERT_TRUE(synced->Append("durable").ok());
  ASSERT_TRUE(synced->Sync().ok());
  ASSERT_TRUE(synced->Append(" and lost").ok());
  ASSERT_TRUE(synced->Flush().ok());  // in the page cache: a kill -9 would keep it

  auto never = Create(&env, dir.Sub("never-synced"));
  ASSERT_TRUE(never->Append("gone").ok());
  ASSERT_TRUE(never->Flush().ok());

  std::unique_ptr<WritableFile> appended;
  ASSERT_TRUE(env.NewAppendableFile(dir.Sub("before"), &appended).ok());
  ASSERT_TRUE(appended->Append("+new").ok());
  ASSERT_TRUE(appended->Flush().ok());

  auto renamed = Create(&env, dir.Sub("renamed.tmp"));
  ASSERT_TRUE(renamed->Append("kept").ok());
  ASSERT_TRUE(renamed->Sync().ok());
  ASSERT_TRUE(renamed->Append("-cut").ok());
  ASSERT_TRUE(renamed->Flush().ok());
  ASSERT_TRUE(env.RenameFile(dir.Sub("renamed.tmp"), dir.Sub("renamed")).ok());

  EXPECT_EQ(Contents(dir.Sub("synced")), "durable and lost");
  EXPECT_EQ(env.Files()[dir.Sub("synced")].synced, 7u);
  ASSERT_TRUE(env.PowerLoss().ok());

  EXPECT_EQ(Contents(dir.Sub("synced")), "durable");
  EXPECT_FALSE(Env::Default()->FileExists(dir.Sub("never-synced")));
  EXPECT_EQ(Contents(dir.Sub("before")), "old");
  EXPECT_EQ(Contents(dir.Sub("renamed")), "kept");

  Status s = synced->Append("after");
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("power lost")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find(dir.Sub("synced"))) << s.ToString();
  EXPECT_FALSE(synced->Sync().ok());
  std::unique_ptr<WritableFile> late;
  EXPECT_FALSE(env.NewWritableFile(dir.Sub("late"), &late).ok());
  EXPECT_FALSE(Env::Default()->FileExists(dir.Sub("late")));
  EXPECT_EQ(Contents(dir.Sub("synced")), "durable");
}

TEST(PowerLossEnvTest, AnExistingFileRewrittenInPlaceKeepsItsNameAndOnlyWhatWasSyncedSince) {
  test::TempDir dir;
  ASSERT_TRUE(WriteStringToFileAtomic(Env::Default(), "old contents", dir.Sub("f")).ok());
  PowerLossEnv env(Env::Default());
  auto f = Create(&env, dir.Sub("f"));  // truncates it
  ASSERT_TRUE(f->Append("new").ok());
  ASSERT_TRUE(f->Flush().ok());
  ASSERT_TRUE(env.PowerLoss().ok());
  EXPECT_EQ(Contents(dir.Sub("f")), "");
}

TEST(PowerLossEnvTest, ARemovedFileIsForgottenAndARecreatedOneStartsUnsynced) {
  test::TempDir dir;
  PowerLossEnv env(Env::Default());
  auto f = Create(&env, dir.Sub("f"));
  ASSERT_TRUE(f->Append("first").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env.RemoveFile(dir.Sub("f")).ok());
  EXPECT_EQ(0u, env.Files().count(dir.Sub("f")));
  auto again = Create(&env, dir.Sub("f"));
  ASSERT_TRUE(again->Append("second").ok());
  ASSERT_TRUE(again->Flush().ok());
  ASSERT_TRUE(env.PowerLoss().ok());
  EXPECT_FALSE(Env::Default()->FileExists(dir.Sub("f")));
}

}  // namespace
}  // namespace kvring::base
