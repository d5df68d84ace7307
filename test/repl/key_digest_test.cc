// Tests of the per-key digest anti-entropy compares (repl/key_digest.h) and of
// the intervals two replicas compare (repl/aae_ranges.h).
#include "repl/key_digest.h"

#include <gtest/gtest.h>

#include "repl/aae_ranges.h"
#include "repl/value_format.h"
#include "ring/membership_view.h"
#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

using testing::BlindPut;
using testing::kT0;

uint64_t DigestOf(const SiblingSet& set) {
  uint64_t d = 0;
  EXPECT_TRUE(KeyDigest(set, &d));
  return d;
}

TEST(KeyDigest, TheSameSiblingsGiveTheSameDigestWhateverTheHistoryHolds) {
  SiblingSet a;
  BlindPut(&a, "n1", "red");
  // The same sibling on a replica whose history also knows n3's old writes
  // (another replica pruned it, or never learnt it): no difference to repair.
  VersionVector longer = a.history();
  longer.Merge(testing::VV("[n3:5]"));
  base::Result<SiblingSet> b = SiblingSet::FromParts(longer, a.siblings());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_NE(a, *b);
  EXPECT_EQ(DigestOf(a), DigestOf(*b));
}

TEST(KeyDigest, ANewVersionOrASiblingChangesTheDigest) {
  SiblingSet a;
  BlindPut(&a, "n1", "red");
  const uint64_t one = DigestOf(a);
  SiblingSet newer = a;
  BlindPut(&newer, "n1", "blue");
  EXPECT_NE(one, DigestOf(newer));
  SiblingSet concurrent;
  BlindPut(&concurrent, "n2", "green");
  SiblingSet both = SiblingSet::Merge(a, concurrent);
  EXPECT_NE(one, DigestOf(both));
  EXPECT_NE(DigestOf(concurrent), DigestOf(both));
}

TEST(KeyDigest, ASetOfOnlyTombstonesHasNoDigestButALiveValueNextToOneDoes) {
  SiblingSet a;
  BlindPut(&a, "n1", "red");
  SiblingSet deleted = a;
  ASSERT_TRUE(deleted.Delete("n1", deleted.history(), kT0, {}).ok());
  uint64_t d;
  EXPECT_FALSE(KeyDigest(deleted, &d));
  EXPECT_FALSE(KeyDigest(SiblingSet(), &d));
  SiblingSet concurrent;
  BlindPut(&concurrent, "n2", "green");
  SiblingSet mixed = SiblingSet::Merge(deleted, concurrent);
  EXPECT_TRUE(KeyDigest(mixed, &d));
}

TEST(KeyDigest, TheEngineCallbackDigestsTheStoredSetAndIndexesAnUndecodableValue) {
  SiblingSet a;
  BlindPut(&a, "n1", "red");
  uint64_t d = 0;
  ASSERT_TRUE(StoredValueDigest("k", EncodeSiblingSet(a), &d));
  EXPECT_EQ(DigestOf(a), d);
  uint64_t junk = 0;
  EXPECT_TRUE(StoredValueDigest("k", "not a set", &junk)) << "a damaged value must show up as a difference";
}

TEST(AaeRanges, ARangeIsTheIntervalAfterItsStartAndAWrappingOneIsTwo) {
  EXPECT_EQ((std::vector<PrefixInterval>{{11, 21}}), IntervalsOf({10, 20}));
  EXPECT_EQ((std::vector<PrefixInterval>{{0, 6}, {101, 0}}), IntervalsOf({100, 5}));
  EXPECT_EQ((std::vector<PrefixInterval>{{11, 0}}), IntervalsOf({10, ~0ull}));
  EXPECT_EQ((std::vector<PrefixInterval>{{0, 6}}), IntervalsOf({~0ull, 5}));
}

TEST(AaeRanges, TwoReplicasShareTheRangesBothAreInThePreferenceListOf) {
  std::vector<ring::NodeInfo> members;
  for (int i = 1; i <= 4; i++) members.push_back({"n" + std::to_string(i), "10.0.0." + std::to_string(i) + ":7000"});
  ring::RingOptions options;
  options.vnodes_per_weight = 16;
  options.replication = ring::ReplicationSpec::Total(2);
  auto holder = ring::RingHolder::Create(members, options);
  ASSERT_TRUE(holder.ok());
  auto ring = holder.value()->Current();
  size_t shared = 0;
  for (const char* peer : {"n2", "n3", "n4"}) {
    for (const SharedRange& r : SharedRanges(*ring, "n1", peer)) {
      auto list = ring->PreferenceListFor(r.range.end);
      EXPECT_TRUE(list.ContainsId("n1") && list.ContainsId(peer));
      shared++;
    }
  }
  size_t n1_ranges = 0;
  ring->ForEachRange([&](const ring::TokenRange&, const ring::PreferenceList& l) { n1_ranges += l.ContainsId("n1"); });
  EXPECT_EQ(n1_ranges, shared) << "with 2 replicas each of n1's ranges has exactly one co-replica";
  EXPECT_TRUE(SharedRanges(*ring, "n1", "n1").empty());
  EXPECT_EQ(ring->vnode_count(), MerkleSplits(*ring).size());
}

TEST(AaeRanges, ClippingKeepsOnlyWhatIsInsideTheLimit) {
  std::vector<SharedRange> ranges = {{{10, 20}, {{11, 21}}}, {{100, 5}, {{0, 6}, {101, 0}}}};
  auto clipped = ClipRanges(ranges, {15, 0});
  ASSERT_EQ(2u, clipped.size());
  EXPECT_EQ((std::vector<PrefixInterval>{{15, 21}}), clipped[0].intervals);
  EXPECT_EQ((std::vector<PrefixInterval>{{101, 0}}), clipped[1].intervals);
}

}  // namespace
}  // namespace kvring::repl
