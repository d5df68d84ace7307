#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace kvring::base {
namespace {

TEST(Status, OkIsDefaultAndPrintsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ("OK", s.ToString());
  EXPECT_EQ("", s.message());
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = Status::Corruption("sstable 000123.sst: bad magic");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ("Corruption: sstable 000123.sst: bad magic", s.ToString());
  Status copy = s;
  EXPECT_EQ(s.ToString(), copy.ToString());
}

TEST(Status, FromErrnoMapsNoSpaceAndNotFound) {
  EXPECT_TRUE(Status::FromErrno("write /x", ENOSPC).IsNoSpace());
  EXPECT_TRUE(Status::FromErrno("open /x", ENOENT).IsNotFound());
  Status io = Status::FromErrno("fdatasync /d/000001.log", EIO);
  EXPECT_TRUE(io.IsIOError());
  EXPECT_NE(std::string::npos, io.message().find("fdatasync /d/000001.log"));
}

TEST(Status, WithContextKeepsCode) {
  Status s = Status::NoSpace("write").WithContext("flush 000007.sst");
  EXPECT_TRUE(s.IsNoSpace());
  EXPECT_EQ("flush 000007.sst: write", s.message());
  EXPECT_TRUE(Status::OK().WithContext("x").ok());
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

TEST(Result, HoldsValueOrError) {
  auto r = Half(4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(2, r.value());
  auto e = Half(3);
  EXPECT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument());
}

}  // namespace
}  // namespace kvring::base
