// The test-only fault hooks' parts in base/: a ControlFile re-read once per
// interval, a SkewedClock steered by one, and a SyncFaultEnv whose syncs fail on
// demand over real files (node/test_hooks.h wires them into kvnode).
#include <gtest/gtest.h>

#include <memory>

#include "base/control_file.h"
#include "base/env.h"
#include "base/skewed_clock.h"
#include "base/sync_fault_env.h"
#include "test/util/test_util.h"

namespace kvring::base {
namespace {

void Write(const std::string& path, const std::string& text) {
  ASSERT_TRUE(WriteStringToFileAtomic(Env::Default(), text, path).ok());
}

TEST(ControlFile, ReadsTheFileAndFallsBackWhenItIsMissingOrMalformed) {
  test::TempDir dir;
  ManualClock clock;
  const std::string path = dir.Sub("offset");
  ControlFile control(path, 7, &clock, 1'000'000);
  EXPECT_EQ(7, control.Value());
  Write(path, " -300000\n");
  EXPECT_EQ(7, control.Value()) << "re-read only once the interval passed";
  clock.Advance(1'000'000);
  EXPECT_EQ(-300000, control.Value());
  Write(path, "12 ms");
  clock.Advance(1'000'000);
  EXPECT_EQ(7, control.Value()) << "a malformed file reads as the fallback";
  ASSERT_TRUE(Env::Default()->RemoveFile(path).ok());
  Write(path, "5");
  clock.Advance(1'000'000);
  EXPECT_EQ(5, control.Value());
}

TEST(ControlFile, ParsesOnlyWholeIntegers) {
  int64_t v = 0;
  EXPECT_TRUE(ParseControlValue("42\n", &v));
  EXPECT_EQ(42, v);
  EXPECT_TRUE(ParseControlValue("  -1 ", &v));
  EXPECT_EQ(-1, v);
  EXPECT_FALSE(ParseControlValue("", &v));
  EXPECT_FALSE(ParseControlValue("1.5", &v));
  EXPECT_FALSE(ParseControlValue("99999999999999999999", &v));
}

TEST(SkewedClock, OffsetsWallTimeOnlyAndJumpsWhenTheFileChanges) {
  test::TempDir dir;
  ManualClock base;
  const std::string path = dir.Sub("offset");
  SkewedClock clock(&base, std::make_unique<ControlFile>(path, 300'000, &base));
  EXPECT_EQ(base.NowMicros(), clock.NowMicros());
  EXPECT_EQ(base.WallMicros() + 300'000'000, clock.WallMicros());
  Write(path, "-5000");
  base.Advance(1'000'000);
  EXPECT_EQ(base.WallMicros() - 5'000'000, clock.WallMicros());
  EXPECT_EQ(base.NowMicros(), clock.NowMicros());
}

TEST(SyncFaultEnv, SyncsFailWithEioWhileTheControlFileSaysSoAndDataStays) {
  test::TempDir dir;
  ManualClock clock;
  const std::string control = dir.Sub("fail-syncs");
  SyncFaultEnv env(Env::Default(), std::make_unique<ControlFile>(control, 0, &clock), -1);
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env.NewWritableFile(dir.Sub("wal"), &f).ok());
  ASSERT_TRUE(f->Append("one").ok());
  ASSERT_TRUE(f->Sync().ok());
  Write(control, "1");
  clock.Advance(2'000'000);
  ASSERT_TRUE(f->Append("two").ok());
  Status s = f->Sync();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("fdatasync " + dir.Sub("wal"))) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("Input/output error")) << s.ToString();
  EXPECT_TRUE(env.SyncDir(dir.path()).IsIOError());
  EXPECT_EQ(2u, env.failed_syncs());
  Write(control, "0");
  clock.Advance(2'000'000);
  EXPECT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  std::string data;
  ASSERT_TRUE(ReadFileToString(&env, dir.Sub("wal"), &data).ok());
  EXPECT_EQ("onetwo", data) << "a failed sync still hands the bytes to the OS";
}

TEST(SyncFaultEnv, EverySyncAfterTheFirstNFails) {
  test::TempDir dir;
  SyncFaultEnv env(Env::Default(), nullptr, 2);
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env.NewAppendableFile(dir.Sub("f"), &f).ok());
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_TRUE(f->Sync().IsIOError());
  EXPECT_TRUE(f->Sync().IsIOError());
  ASSERT_TRUE(f->Close().ok());
}

}  // namespace
}  // namespace kvring::base
