// test/lsm/range_deletions_test.cc — the fragment map of range deletions: what
// a key is covered by after overlapping deletions, spans, epochs, and the
// filtering iterator. (From branch cleanup.)
#include "lsm/range_deletions.h"

#include <gtest/gtest.h>

#include <vector>

#include "test/lsm/table_test_util.h"

namespace kvring::lsm {
namespace {

std::string Describe(const RangeDeletions& d) {
  std::string out;
  for (const RangeDeletions::Fragment& f : d.Fragments()) {
    out += "[" + f.begin + "," + f.end + ")@" + std::to_string(f.sequence) + " ";
  }
  return out;
}

TEST(RangeDeletions, ANewerDeletionOverwritesTheOverlapAndKeepsTheRest) {
  RangeDeletions d;
  d.Add("b", "f", 10);
  d.Add("d", "h", 20);
  EXPECT_EQ("[b,d)@10 [d,f)@20 [f,h)@20 ", Describe(d));
  d.Add("a", "c", 30);
  EXPECT_EQ("[a,b)@30 [b,c)@30 [c,d)@10 [d,f)@20 [f,h)@20 ", Describe(d));
  EXPECT_EQ(0u, d.CoveringSequence("0"));
  EXPECT_EQ(30u, d.CoveringSequence("a"));
  EXPECT_EQ(10u, d.CoveringSequence("c"));
  EXPECT_EQ(20u, d.CoveringSequence("g"));
  EXPECT_EQ(0u, d.CoveringSequence("h")) << "end is exclusive";
  EXPECT_TRUE(d.Covers("c", 10));
  EXPECT_FALSE(d.Covers("c", 11)) << "a write after the deletion";
}

TEST(RangeDeletions, AnOlderDeletionReplayedLaterKeepsTheHigherSequence) {
  RangeDeletions d;
  d.Add("c", "e", 50);
  d.Add("a", "z", 10);  // a damaged manifest's order
  EXPECT_EQ("[a,c)@10 [c,e)@50 [e,z)@10 ", Describe(d));
}

TEST(RangeDeletions, AnEmptyEndHasNoUpperBound) {
  RangeDeletions d;
  d.Add("m", "", 7);
  d.Add("p", "q", 9);
  EXPECT_EQ("[m,p)@7 [p,q)@9 [q,)@7 ", Describe(d));
  EXPECT_EQ(7u, d.CoveringSequence("\xff\xff\xff"));
  const RangeDeletions::Span gap = d.SpanOf("a");
  EXPECT_EQ(0u, gap.sequence);
  EXPECT_EQ("m", gap.end);
}

TEST(RangeDeletions, ASplitKeepsItsParentsEpochAndAnOverwriteTakesANewOne) {
  RangeDeletions d;
  d.Add("b", "f", 10);
  const uint64_t first = d.max_epoch();
  d.Add("d", "h", 20);
  const std::vector<RangeDeletions::Fragment> f = d.Fragments();
  ASSERT_EQ(3u, f.size());
  EXPECT_EQ(first, f[0].epoch);
  EXPECT_EQ(d.max_epoch(), f[1].epoch);
  EXPECT_EQ(d.max_epoch(), f[2].epoch);
  EXPECT_GT(d.max_epoch(), first);
}

TEST(RangeDeletions, TheFilterHidesCoveredEntriesOnly) {
  auto d = std::make_shared<RangeDeletions>();
  d->Add("b", "d", 5);
  std::vector<std::pair<std::string, std::string>> entries = {
      {MakeInternalKey("a", 1, ValueKind::kValue), "a1"}, {MakeInternalKey("b", 6, ValueKind::kValue), "b6"},
      {MakeInternalKey("b", 4, ValueKind::kValue), "b4"}, {MakeInternalKey("c", 5, ValueKind::kValue), "c5"},
      {MakeInternalKey("d", 2, ValueKind::kValue), "d2"}};
  auto it = NewRangeDeletionFilter(std::make_unique<lsm::testing::VectorIterator>(entries), d);
  std::string seen;
  for (it->SeekToFirst(); it->Valid(); it->Next()) seen += std::string(it->value()) + " ";
  EXPECT_EQ("a1 b6 d2 ", seen);
  it->Seek(MakeInternalKey("c", kMaxSequenceNumber, ValueKind::kValue));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("d2", it->value());
}

}  // namespace
}  // namespace kvring::lsm
