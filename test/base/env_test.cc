#include "base/env.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "test/util/test_util.h"

namespace kvring::base {
namespace {

TEST(PosixEnv, WriteReadRenameRemove) {
  test::TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("a");
  ASSERT_TRUE(WriteStringToFileAtomic(env, "hello", path).ok());
  std::string data;
  ASSERT_TRUE(ReadFileToString(env, path, &data).ok());
  EXPECT_EQ("hello", data);
  uint64_t size;
  ASSERT_TRUE(env->GetFileSize(path, &size).ok());
  EXPECT_EQ(5u, size);
  ASSERT_TRUE(env->RenameFile(path, dir.Sub("b")).ok());
  EXPECT_FALSE(env->FileExists(path));
  std::vector<std::string> names;
  ASSERT_TRUE(env->GetChildren(dir.path(), &names).ok());
  EXPECT_EQ(std::vector<std::string>{"b"}, names);
  ASSERT_TRUE(env->RemoveFile(dir.Sub("b")).ok());
  std::unique_ptr<SequentialFile> seq;
  Status missing = env->NewSequentialFile(path, &seq);
  EXPECT_TRUE(missing.IsNotFound());
  EXPECT_NE(std::string::npos, missing.message().find(path));
}

TEST(PosixEnv, RandomAccessReadsAtOffsetsAndShortAtEnd) {
  test::TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(WriteStringToFileAtomic(env, "0123456789", dir.Sub("f")).ok());
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(env->NewRandomAccessFile(dir.Sub("f"), &file).ok());
  char scratch[16];
  std::string_view got;
  ASSERT_TRUE(file->Read(3, 4, &got, scratch).ok());
  EXPECT_EQ("3456", got);
  ASSERT_TRUE(file->Read(8, 10, &got, scratch).ok());
  EXPECT_EQ("89", got);
}

TEST(PosixEnv, MappedFileReadsInPlaceAtOffsetsAndShortAtEnd) {
  test::TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(WriteStringToFileAtomic(env, "0123456789", dir.Sub("f")).ok());
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(env->NewMappedRandomAccessFile(dir.Sub("f"), &file).ok());
  ASSERT_EQ("0123456789", file->mapped());
  char scratch[16] = {};
  std::string_view got;
  ASSERT_TRUE(file->Read(3, 4, &got, scratch).ok());
  EXPECT_EQ("3456", got);
  EXPECT_EQ(file->mapped().data() + 3, got.data());  // no copy
  ASSERT_TRUE(file->Read(8, 10, &got, scratch).ok());
  EXPECT_EQ("89", got);
  ASSERT_TRUE(file->Read(10, 4, &got, scratch).ok());
  EXPECT_EQ("", got);
  ASSERT_TRUE(file->Read(1000, 4, &got, scratch).ok());
  EXPECT_EQ("", got);
  // A plain random-access file is never mapped.
  std::unique_ptr<RandomAccessFile> plain;
  ASSERT_TRUE(env->NewRandomAccessFile(dir.Sub("f"), &plain).ok());
  EXPECT_TRUE(plain->mapped().empty());
}

TEST(PosixEnv, MappedFileFallsBackToPreadWhenEmptyMissingOrOverTheMappingBudget) {
  test::TempDir dir;
  Env* env = Env::Default();
  std::unique_ptr<RandomAccessFile> file;
  Status missing = env->NewMappedRandomAccessFile(dir.Sub("none"), &file);
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
  ASSERT_TRUE(WriteStringToFileAtomic(env, "", dir.Sub("empty")).ok());
  ASSERT_TRUE(env->NewMappedRandomAccessFile(dir.Sub("empty"), &file).ok());
  EXPECT_TRUE(file->mapped().empty());
  // More open files than the budget (1000 mappings): the rest read with pread,
  // and every one reads its own bytes.
  ASSERT_TRUE(WriteStringToFileAtomic(env, "abc", dir.Sub("small")).ok());
  std::vector<std::unique_ptr<RandomAccessFile>> files(1100);
  size_t mapped = 0;
  for (auto& f : files) {
    ASSERT_TRUE(env->NewMappedRandomAccessFile(dir.Sub("small"), &f).ok());
    mapped += f->mapped().empty() ? 0 : 1;
    char scratch[4];
    std::string_view got;
    ASSERT_TRUE(f->Read(1, 2, &got, scratch).ok());
    ASSERT_EQ("bc", got);
  }
  EXPECT_GT(mapped, 0u);
  EXPECT_LT(mapped, files.size());
  files.clear();  // closing returns the mappings
  ASSERT_TRUE(env->NewMappedRandomAccessFile(dir.Sub("small"), &file).ok());
  EXPECT_EQ("abc", file->mapped());
}

TEST(PosixEnv, AppendableFileKeepsExistingBytes) {
  test::TempDir dir;
  Env* env = Env::Default();
  std::unique_ptr<WritableFile> f;
  ASSERT_TRUE(env->NewWritableFile(dir.Sub("log"), &f).ok());
  ASSERT_TRUE(f->Append("abc").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env->NewAppendableFile(dir.Sub("log"), &f).ok());
  ASSERT_TRUE(f->Append(std::string(100000, 'x')).ok());  // larger than the buffer
  ASSERT_TRUE(f->Close().ok());
  std::string data;
  ASSERT_TRUE(ReadFileToString(env, dir.Sub("log"), &data).ok());
  EXPECT_EQ(100003u, data.size());
  EXPECT_EQ("abcx", data.substr(0, 4));
}

TEST(PosixEnv, SecondLockOnSameFileIsBusy) {
  test::TempDir dir;
  Env* env = Env::Default();
  std::unique_ptr<FileLock> lock, again;
  ASSERT_TRUE(env->LockFile(dir.Sub("LOCK"), &lock).ok());
  Status s = env->LockFile(dir.Sub("LOCK"), &again);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  ASSERT_TRUE(env->UnlockFile(std::move(lock)).ok());
  ASSERT_TRUE(env->LockFile(dir.Sub("LOCK"), &again).ok());
  ASSERT_TRUE(env->UnlockFile(std::move(again)).ok());
}

TEST(Path, JoinAndDirName) {
  EXPECT_EQ("a/b", JoinPath("a", "b"));
  EXPECT_EQ("a/b", JoinPath("a/", "b"));
  EXPECT_EQ("a", DirName("a/b"));
  EXPECT_EQ(".", DirName("b"));
  EXPECT_EQ("/", DirName("/b"));
}

}  // namespace
}  // namespace kvring::base
