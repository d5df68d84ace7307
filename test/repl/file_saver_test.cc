// repl/file_saver: the newest bytes win, a burst of saves is one write, a save
// queued before its owner went away still lands, and a failed write is logged
// without stopping later ones.
#include "repl/file_saver.h"

#include <gtest/gtest.h>

#include <string>

#include "base/env.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

std::string Read(const std::string& path) {
  std::string bytes;
  EXPECT_TRUE(base::ReadFileToString(base::Env::Default(), path, &bytes).ok()) << path;
  return bytes;
}

class FileSaverTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  std::string path_ = dir_.Sub("state");
  testing::QueueExecutor io_;  // runs the writes when the test says
};

TEST_F(FileSaverTest, SavesGivenWhileAWriteWaitsAreOneWriteOfTheNewest) {
  FileSaver saver(path_, "state", base::Env::Default(), &io_, base::Logger::Null());
  saver.Save("first");
  saver.Save("second");
  saver.Save("third");
  EXPECT_FALSE(saver.idle());
  EXPECT_FALSE(base::Env::Default()->FileExists(path_));  // nothing on the caller's thread
  io_.RunQueued();
  EXPECT_EQ("third", Read(path_));
  EXPECT_TRUE(saver.idle());
  saver.Save("fourth");
  io_.RunQueued();
  EXPECT_EQ("fourth", Read(path_));
}

TEST_F(FileSaverTest, ASaveQueuedBeforeItsOwnerWentAwayStillLands) {
  {
    FileSaver saver(path_, "state", base::Env::Default(), &io_, base::Logger::Null());
    saver.Save("done");
  }
  io_.RunQueued();
  EXPECT_EQ("done", Read(path_));
}

TEST_F(FileSaverTest, AFailedWriteIsLoggedAndTheNextSaveStillWrites) {
  const std::string bad = dir_.Sub("missing-dir/state");
  FileSaver saver(bad, "state", base::Env::Default(), &io_, base::Logger::Null());
  saver.Save("lost");
  io_.RunQueued();
  EXPECT_TRUE(saver.idle());
  EXPECT_FALSE(base::Env::Default()->FileExists(bad));
  ASSERT_TRUE(base::Env::Default()->CreateDir(dir_.Sub("missing-dir")).ok());
  saver.Save("kept");
  io_.RunQueued();
  EXPECT_EQ("kept", Read(bad));
}

}  // namespace
}  // namespace kvring::repl
