#include "lsm/merging_iterator.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/random.h"
#include "test/lsm/table_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using testing::IKey;
using testing::InternalMap;
using testing::VectorIterator;

using Entries = std::vector<std::pair<std::string, std::string>>;

// Splits a model's entries randomly over n children (each child sorted).
std::vector<std::unique_ptr<Iterator>> Split(const InternalMap& model, int n, base::Random* rnd) {
  std::vector<Entries> parts(n);
  for (const auto& [k, v] : model) parts[rnd->Uniform(n)].push_back({k, v});
  std::vector<std::unique_ptr<Iterator>> children;
  for (auto& p : parts) children.push_back(std::make_unique<VectorIterator>(std::move(p)));
  return children;
}

TEST(MergingIteratorTest, MatchesAMapModelUnderRandomSeeksAndNexts) {
  const uint64_t seed = test::TestSeed("MergingIteratorTest");
  base::Random rnd(seed);
  for (int round = 0; round < 50; ++round) {
    InternalMap model;
    const int n = static_cast<int>(rnd.Range(1, 300));
    for (int i = 0; i < n; ++i) {
      // Few distinct user keys, many versions: exercises the sequence order.
      std::string user = "k" + std::to_string(rnd.Uniform(60));
      model[IKey(user, rnd.Range(1, 1000), rnd.OneIn(4) ? ValueKind::kDeletion : ValueKind::kValue)] =
          std::to_string(i);
    }
    const int children = static_cast<int>(rnd.Range(1, 8));
    auto it = NewMergingIterator(Split(model, children, &rnd));
    // Full scan.
    auto m = model.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
      ASSERT_NE(model.end(), m) << "seed " << seed;
      ASSERT_EQ(m->first, it->key());
      ASSERT_EQ(m->second, it->value());
    }
    ASSERT_EQ(model.end(), m) << "seed " << seed << " round " << round;
    // Random seeks followed by a few Nexts.
    for (int s = 0; s < 30; ++s) {
      std::string target = IKey("k" + std::to_string(rnd.Uniform(70)), rnd.Range(0, 1001));
      it->Seek(target);
      auto expect = model.lower_bound(target);
      for (int step = 0; step < 5; ++step, ++expect) {
        if (expect == model.end()) {
          ASSERT_FALSE(it->Valid());
          break;
        }
        ASSERT_TRUE(it->Valid());
        ASSERT_EQ(expect->first, it->key()) << "seed " << seed;
        it->Next();
      }
    }
    EXPECT_TRUE(it->status().ok());
  }
}

TEST(MergingIteratorTest, NoChildrenIsEmpty) {
  auto it = NewMergingIterator({});
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
}

TEST(MergingIteratorTest, EmptyChildrenAreSkipped) {
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(std::make_unique<VectorIterator>(Entries{}));
  children.push_back(std::make_unique<VectorIterator>(Entries{{IKey("b", 1), "B"}}));
  children.push_back(std::make_unique<VectorIterator>(Entries{}));
  children.push_back(std::make_unique<VectorIterator>(Entries{{IKey("a", 1), "A"}}));
  auto it = NewMergingIterator(std::move(children));
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("A", it->value());
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("B", it->value());
  it->Next();
  EXPECT_FALSE(it->Valid());
}

TEST(MergingIteratorTest, ChildErrorStopsTheMergeAndIsReported) {
  std::vector<std::unique_ptr<Iterator>> children;
  children.push_back(std::make_unique<VectorIterator>(Entries{{IKey("a", 1), "A"}, {IKey("c", 1), "C"}}));
  children.push_back(std::make_unique<VectorIterator>(Entries{{IKey("b", 1), "B"}},
                                                      base::Status::Corruption("sstable 000009.sst: bad block")));
  children.push_back(std::make_unique<VectorIterator>(Entries{{IKey("d", 1), "D"}},
                                                      base::Status::IOError("second error")));
  auto it = NewMergingIterator(std::move(children));
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());  // silently merging the healthy children would hide "b"
  EXPECT_TRUE(it->status().IsCorruption());
  EXPECT_EQ("sstable 000009.sst: bad block", it->status().message());
}

}  // namespace
}  // namespace kvring::lsm
