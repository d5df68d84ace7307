#include "lsm/two_level_iterator.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "test/lsm/table_test_util.h"

namespace kvring::lsm {
namespace {

using testing::IKey;
using testing::VectorIterator;
using Entries = std::vector<std::pair<std::string, std::string>>;

// Blocks by name; the index maps each block's largest key to its name.
class TwoLevelIteratorTest : public ::testing::Test {
 protected:
  void AddBlock(const std::string& name, Entries entries, const std::string& index_key) {
    blocks_[name] = std::move(entries);
    index_.push_back({index_key, name});
  }
  std::unique_ptr<Iterator> Make() {
    return NewTwoLevelIterator(std::make_unique<VectorIterator>(index_), [this](std::string_view name) {
      ++opened_;
      if (name == "bad") return NewEmptyIterator(base::Status::Corruption("block bad is broken"));
      return std::unique_ptr<Iterator>(std::make_unique<VectorIterator>(blocks_.at(std::string(name))));
    });
  }

  std::map<std::string, Entries> blocks_;
  Entries index_;
  int opened_ = 0;
};

TEST_F(TwoLevelIteratorTest, WalksBlocksInOrderSkippingEmptyOnes) {
  AddBlock("b1", {{IKey("a", 1), "1"}, {IKey("b", 1), "2"}}, IKey("b", 1));
  AddBlock("empty", {}, IKey("c", 1));
  AddBlock("b2", {{IKey("d", 1), "3"}}, IKey("d", 1));
  auto it = Make();
  std::string seen;
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen += it->value();
  EXPECT_EQ("123", seen);
  EXPECT_TRUE(it->status().ok());
}

TEST_F(TwoLevelIteratorTest, SeekGoesToTheRightBlockAndOnToTheNext) {
  AddBlock("b1", {{IKey("a", 1), "1"}, {IKey("b", 1), "2"}}, IKey("b", 1));
  AddBlock("b2", {{IKey("d", 1), "3"}, {IKey("e", 1), "4"}}, IKey("e", 1));
  auto it = Make();
  it->Seek(IKey("b", 1));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("2", it->value());
  it->Seek(IKey("c", 1));  // between blocks: lands on the first of b2
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("3", it->value());
  it->Next();
  EXPECT_EQ("4", it->value());
  const int opened = opened_;
  it->Seek(IKey("d", 1));  // same block: reused, not reopened
  EXPECT_EQ(opened, opened_);
  it->Seek(IKey("f", 1));
  EXPECT_FALSE(it->Valid());
}

TEST_F(TwoLevelIteratorTest, BlockErrorStopsIterationAndIsReported) {
  AddBlock("b1", {{IKey("a", 1), "1"}}, IKey("a", 1));
  index_.push_back({IKey("b", 1), "bad"});
  AddBlock("b2", {{IKey("c", 1), "3"}}, IKey("c", 1));
  auto it = Make();
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsCorruption());
  EXPECT_EQ("block bad is broken", it->status().message());
}

TEST_F(TwoLevelIteratorTest, IndexErrorIsReported) {
  auto it = NewTwoLevelIterator(std::make_unique<VectorIterator>(Entries{}, base::Status::IOError("index gone")),
                                [](std::string_view) { return NewEmptyIterator(); });
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsIOError());
}

}  // namespace
}  // namespace kvring::lsm
