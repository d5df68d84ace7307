#include "lsm/write_batch.h"

#include <gtest/gtest.h>

#include <string>

namespace kvring::lsm {
namespace {

class Printer final : public WriteBatch::Handler {
 public:
  void Put(std::string_view key, std::string_view value) override {
    out += "Put(" + std::string(key) + "," + std::string(value) + ")";
  }
  void Delete(std::string_view key) override { out += "Delete(" + std::string(key) + ")"; }
  std::string out;
};

std::string Print(const WriteBatch& batch) {
  Printer p;
  base::Status s = batch.Iterate(&p);
  return s.ok() ? p.out : s.ToString();
}

TEST(WriteBatch, EmptyBatchHasHeaderOnly) {
  WriteBatch b;
  EXPECT_EQ(0u, b.Count());
  EXPECT_EQ(WriteBatch::kHeaderBytes, b.ApproximateSize());
  EXPECT_EQ("", Print(b));
}

TEST(WriteBatch, OpsReplayInOrderWithSequence) {
  WriteBatch b;
  b.Put("a", "1");
  b.Delete("b");
  b.Put("", "");
  b.set_sequence(100);
  EXPECT_EQ(3u, b.Count());
  EXPECT_EQ(100u, b.sequence());
  EXPECT_EQ("Put(a,1)Delete(b)Put(,)", Print(b));
}

TEST(WriteBatch, EncodingMatchesTheWalFormatDoc) {
  // docs/formats/wal.md: Put("k","v") at sequence 7.
  WriteBatch b;
  b.Put("k", "v");
  b.set_sequence(7);
  EXPECT_EQ(std::string("\x07\0\0\0\0\0\0\0\x01\0\0\0\x01\x01k\x01v", 17), b.rep());
}

TEST(WriteBatch, AppendConcatenatesOpsAndCounts) {
  WriteBatch a, b;
  a.Put("x", "1");
  b.Delete("y");
  b.Put("z", "2");
  a.Append(b);
  EXPECT_EQ(3u, a.Count());
  EXPECT_EQ("Put(x,1)Delete(y)Put(z,2)", Print(a));
}

TEST(WriteBatch, MalformedRepsAreCorruption) {
  WriteBatch b;
  EXPECT_TRUE(b.SetRep("short").IsCorruption());
  b.Put("key", "value");
  std::string rep = b.rep();
  WriteBatch truncated;
  ASSERT_TRUE(truncated.SetRep(std::string_view(rep).substr(0, rep.size() - 2)).ok());
  EXPECT_TRUE(truncated.Iterate(nullptr).IsCorruption());
  std::string bad_kind = rep;
  bad_kind[WriteBatch::kHeaderBytes] = 9;
  EXPECT_NE(std::string::npos, WriteBatch::IterateRep(bad_kind, nullptr).message().find("unknown op kind 9"));
  std::string bad_count = rep;
  WriteBatch::SetCountOf(&bad_count, 2);
  EXPECT_TRUE(WriteBatch::IterateRep(bad_count, nullptr).IsCorruption());
}

}  // namespace
}  // namespace kvring::lsm
