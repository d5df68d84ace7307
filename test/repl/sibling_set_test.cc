#include "repl/sibling_set.h"

#include <gtest/gtest.h>

#include "repl/reconcile.h"
#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

using testing::BlindPut;
using testing::D;
using testing::Dots;
using testing::kT0;
using testing::MustPut;
using testing::Values;
using testing::VV;

TEST(SiblingSet, AFreshKeyIsEmptyAndReadsAsNotFound) {
  SiblingSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_TRUE(set.IsDeleted());
  EXPECT_TRUE(set.LiveSiblings().empty());
  EXPECT_TRUE(set.history().empty());
}

TEST(SiblingSet, FirstWriteGetsDotOneOfItsCoordinator) {
  SiblingSet set;
  base::Result<WriteOutcome> r = set.Put("n1", VersionVector(), "v1", kT0 + 7, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(D("n1:1"), r->dot);
  EXPECT_EQ(0u, r->superseded);
  EXPECT_EQ(1u, r->siblings);
  EXPECT_FALSE(r->over_warning);
  ASSERT_EQ(1u, set.siblings().size());
  const Sibling& s = set.siblings()[0];
  EXPECT_EQ("v1", s.value);
  EXPECT_EQ(kT0 + 7, s.timestamp_micros);
  EXPECT_FALSE(s.tombstone);
  EXPECT_TRUE(s.context.empty());
  EXPECT_EQ("[n1:1]", VersionVectorText(set.history()));
  EXPECT_EQ(WallSeconds(kT0 + 7), set.history().Find("n1")->updated_secs);
}

TEST(SiblingSet, BlindPutsAtOneCoordinatorReplaceEachOther) {
  SiblingSet set;
  for (int i = 1; i <= 5; ++i) BlindPut(&set, "n1", "v" + std::to_string(i));
  EXPECT_EQ("v5", Values(set));
  EXPECT_EQ("n1:5", Dots(set));
  EXPECT_EQ("[n1:5]", VersionVectorText(set.history()));
  EXPECT_TRUE(set.CheckInvariants().ok());
}

TEST(SiblingSet, ConcurrentWritesWithTheSameContextAtTwoCoordinatorsBecomeSiblings) {
  // Both replicas hold v0; two clients read it (same context) and write through
  // different coordinators; replication then merges the replicas.
  SiblingSet n1;
  BlindPut(&n1, "n1", "v0");
  SiblingSet n2 = n1;
  const VersionVector context = n1.history();
  MustPut(&n1, "n1", context, "from-a");
  MustPut(&n2, "n2", context, "from-b");
  const SiblingSet merged = SiblingSet::Merge(n1, n2);
  EXPECT_EQ("from-a,from-b", Values(merged));
  EXPECT_EQ("n1:2 n2:1", Dots(merged));
  EXPECT_EQ("[n1:2 n2:1]", VersionVectorText(merged.history()));
  EXPECT_TRUE(ConcurrentSiblings(merged.siblings()[0], merged.siblings()[1]));
  EXPECT_TRUE(merged.CheckInvariants().ok());
}

TEST(SiblingSet, ConcurrentWritesWithTheSameContextAtTheSameCoordinatorBecomeSiblings) {
  // The DVV point: the second write did not see the first, even though one node
  // coordinated both, so the first must not be overwritten.
  SiblingSet set;
  BlindPut(&set, "n1", "v0");
  const VersionVector context = set.history();
  MustPut(&set, "n1", context, "from-a");
  MustPut(&set, "n1", context, "from-b");
  EXPECT_EQ("from-a,from-b", Values(set));
  EXPECT_EQ("n1:2 n1:3", Dots(set));
  EXPECT_EQ("n1:2 [n1:1]", SiblingClockText(set.siblings()[0]));
  EXPECT_EQ("n1:3 [n1:1]", SiblingClockText(set.siblings()[1]));
  EXPECT_TRUE(ConcurrentSiblings(set.siblings()[0], set.siblings()[1]));
}

TEST(SiblingSet, APutWithTheMergedContextResolvesEverySibling) {
  SiblingSet set;
  MustPut(&set, "n1", VersionVector(), "a");
  MustPut(&set, "n1", VersionVector(), "b");
  MustPut(&set, "n2", VersionVector(), "c");
  ASSERT_EQ("a,b,c", Values(set));
  const VersionVector context = set.history();  // what a get returns
  base::Result<WriteOutcome> r = set.Put("n3", context, "resolved", kT0, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(3u, r->superseded);
  EXPECT_EQ(1u, r->siblings);
  EXPECT_EQ("resolved", Values(set));
  EXPECT_EQ("n3:1", Dots(set));
  EXPECT_TRUE(Obsoletes(set.siblings()[0], Sibling{.dot = D("n1:2")}));
}

TEST(SiblingSet, APutWithAStaleContextKeepsTheWritesItDidNotSee) {
  SiblingSet set;
  MustPut(&set, "n1", VersionVector(), "a");
  const VersionVector stale = set.history();  // saw only "a"
  MustPut(&set, "n2", stale, "b");            // "b" supersedes "a"
  MustPut(&set, "n1", stale, "c");            // "c" saw "a" but not "b"
  EXPECT_EQ("c,b", Values(set));  // dot order: n1:2, n2:1
  EXPECT_EQ("n1:2 n2:1", Dots(set));
}

// docs/versioning.md, "Worked example: two clients, two coordinators".
TEST(SiblingSet, DocsExampleTwoCoordinatorsThenAResolvingPut) {
  SiblingSet n1, n2, n3;
  // 1. A blind put of "milk" through n1, replicated everywhere.
  EXPECT_EQ(D("n1:1"), BlindPut(&n1, "n1", "milk"));
  n2.MergeFrom(n1);
  n3.MergeFrom(n1);
  EXPECT_EQ("n1:1 []", SiblingClockText(n3.siblings()[0]));
  // 2. Alice and Bob both read context [n1:1].
  const VersionVector read = n2.history();
  ASSERT_EQ("[n1:1]", VersionVectorText(read));
  // 3. Alice through n1, stored on n1 and n3.
  EXPECT_EQ(D("n1:2"), MustPut(&n1, "n1", read, "milk,eggs"));
  n3.MergeFrom(n1);
  // 4. Bob through n2, stored on n2 and n3.
  EXPECT_EQ(D("n2:1"), MustPut(&n2, "n2", read, "milk,bread"));
  EXPECT_EQ("milk,bread", Values(n2));
  n3.MergeFrom(n2);
  // 5. n3 keeps both.
  EXPECT_EQ("milk,eggs,milk,bread", Values(n3));
  EXPECT_EQ("[n1:2 n2:1]", VersionVectorText(n3.history()));
  // 6. Carol reads n1 and n2 (R=2): both values, one context; both need repair.
  const std::vector<const SiblingSet*> replies = {&n1, &n2};
  const Reconciliation rec = Reconcile(replies);
  EXPECT_EQ("milk,eggs,milk,bread", Values(rec.merged));
  EXPECT_EQ("n1:2 [n1:1]", SiblingClockText(rec.merged.siblings()[0]));
  EXPECT_EQ("n2:1 [n1:1]", SiblingClockText(rec.merged.siblings()[1]));
  EXPECT_EQ("[n1:2 n2:1]", VersionVectorText(rec.merged.history()));
  EXPECT_EQ((std::vector<bool>{true, true}), rec.needs_repair);
  // 7. Carol's put with that context through n3 resolves both.
  EXPECT_EQ(D("n3:1"), MustPut(&n3, "n3", rec.merged.history(), "milk,eggs,bread"));
  EXPECT_EQ("milk,eggs,bread", Values(n3));
  EXPECT_EQ("n3:1 [n1:2 n2:1]", SiblingClockText(n3.siblings()[0]));
  EXPECT_EQ("[n1:2 n2:1 n3:1]", VersionVectorText(n3.history()));
}

TEST(SiblingSet, ABlindPutSupersedesOnlyWhatItsCoordinatorHolds) {
  SiblingSet n1, n2;
  BlindPut(&n1, "n1", "a");
  BlindPut(&n2, "n2", "b");  // n2 has not seen "a" yet
  EXPECT_EQ("a,b", Values(SiblingSet::Merge(n1, n2)));
  n2.MergeFrom(n1);
  BlindPut(&n2, "n2", "c");  // now it has
  EXPECT_EQ("c", Values(SiblingSet::Merge(n1, n2)));
}

TEST(SiblingSet, TheNewDotCountsPastTheCoordinatorsCounterInTheContext) {
  // The client has seen n1:7, which this replica has forgotten (lost data): a
  // dot n1:1 would collide with one already used elsewhere.
  SiblingSet forgetful;
  EXPECT_EQ(D("n1:8"), MustPut(&forgetful, "n1", VV("[n1:7 n2:1]"), "v"));
  EXPECT_EQ("[n1:8 n2:1]", VersionVectorText(forgetful.history()));
}

TEST(SiblingSet, ADeleteLeavesATombstoneThatReadsAsNotFoundButKeepsTheContext) {
  SiblingSet set;
  BlindPut(&set, "n1", "v");
  base::Result<WriteOutcome> r = set.Delete("n2", set.history(), kT0, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(1u, r->superseded);
  EXPECT_TRUE(set.IsDeleted());
  EXPECT_TRUE(set.LiveSiblings().empty());
  EXPECT_FALSE(set.empty());
  ASSERT_EQ(1u, set.siblings().size());
  EXPECT_TRUE(set.siblings()[0].tombstone);
  EXPECT_EQ("", set.siblings()[0].value);
  EXPECT_EQ("[n1:1 n2:1]", VersionVectorText(set.history()));
  // A later put with the context of the not-found read supersedes the delete.
  MustPut(&set, "n1", set.history(), "again");
  EXPECT_EQ("again", Values(set));
  EXPECT_EQ(1u, set.siblings().size());
}

TEST(SiblingSet, ADeleteConcurrentWithAPutKeepsThePutVisible) {
  SiblingSet n1;
  BlindPut(&n1, "n1", "v0");
  SiblingSet n2 = n1;
  const VersionVector context = n1.history();
  ASSERT_TRUE(n1.Delete("n1", context, kT0, {}).ok());
  MustPut(&n2, "n2", context, "v1");
  const SiblingSet merged = SiblingSet::Merge(n1, n2);
  EXPECT_FALSE(merged.IsDeleted());
  EXPECT_EQ("v1", Values(merged));
  EXPECT_EQ(2u, merged.siblings().size());  // the tombstone stays a sibling
}

TEST(SiblingSet, MergeDropsASiblingTheOtherReplicaHasSuperseded) {
  SiblingSet n1;
  BlindPut(&n1, "n1", "old");
  SiblingSet n2 = n1;
  BlindPut(&n2, "n2", "new");
  EXPECT_EQ("new", Values(SiblingSet::Merge(n1, n2)));
  EXPECT_EQ("new", Values(SiblingSet::Merge(n2, n1)));
}

TEST(SiblingSet, MergeKeepsASiblingBothReplicasHold) {
  SiblingSet n1;
  BlindPut(&n1, "n1", "shared");
  SiblingSet n2 = n1;
  MustPut(&n2, "n2", VersionVector(), "other");  // concurrent with "shared"
  n1.MergeFrom(n2);
  EXPECT_EQ("shared,other", Values(n1));
  EXPECT_EQ(n1, SiblingSet::Merge(n1, n2));
}

TEST(SiblingSet, MergeIsCommutativeAssociativeAndIdempotent) {
  SiblingSet a, b, c;
  BlindPut(&a, "n1", "a1");
  b = a;
  c = a;
  BlindPut(&a, "n1", "a2");
  MustPut(&b, "n2", b.history(), "b1");
  MustPut(&c, "n3", VersionVector(), "c1");
  b.MergeFrom(c);
  MustPut(&c, "n3", c.history(), "c2");
  using S = SiblingSet;
  EXPECT_EQ(S::Merge(a, b), S::Merge(b, a));
  EXPECT_EQ(S::Merge(S::Merge(a, b), c), S::Merge(a, S::Merge(b, c)));
  EXPECT_EQ(a, S::Merge(a, a));
  EXPECT_EQ(a, S::Merge(a, SiblingSet()));
  EXPECT_EQ("a2,b1,c2", Values(S::Merge(S::Merge(a, b), c)));
}

TEST(SiblingSet, AWriteOverTheSiblingCapIsRejectedAndChangesNothing) {
  VersioningOptions options;
  options.max_siblings = 3;
  SiblingSet set;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(set.Put("n1", VersionVector(), "v" + std::to_string(i), kT0, options).ok());
  }
  const SiblingSet before = set;
  base::Result<WriteOutcome> r = set.Put("n1", VersionVector(), "one too many", kT0, options);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsTooLarge());
  EXPECT_EQ("key has 3 siblings (limit 3); resolve them with a put that carries the context from a get",
            r.status().message());
  EXPECT_EQ(before, set);
  // A put that resolves them is accepted at the cap.
  base::Result<WriteOutcome> resolved = set.Put("n1", set.history(), "resolved", kT0, options);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ("resolved", Values(set));
}

TEST(SiblingSet, DefaultSiblingCapIs64WithAWarningFromHalfOfIt) {
  const VersioningOptions defaults;
  EXPECT_EQ(64u, defaults.max_siblings);
  EXPECT_EQ(32u, defaults.warn_siblings);
  SiblingSet set;
  for (int i = 1; i <= 64; ++i) {
    base::Result<WriteOutcome> r = set.Put("n1", VersionVector(), "v", kT0, defaults);
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_EQ(i >= 32, r->over_warning) << i;
  }
  base::Result<WriteOutcome> r = set.Put("n1", VersionVector(), "v", kT0, defaults);
  EXPECT_TRUE(r.status().IsTooLarge());
  EXPECT_EQ("key has 64 siblings (limit 64); resolve them with a put that carries the context from a get",
            r.status().message());
}

TEST(SiblingSet, SiblingPredicatesFollowTheWritersContext) {
  const Sibling a{.dot = D("n1:2"), .context = VV("[n1:1]")};
  const Sibling b{.dot = D("n2:1"), .context = VV("[n1:2]")};
  const Sibling c{.dot = D("n1:3"), .context = VV("[n1:1]")};
  EXPECT_TRUE(Obsoletes(b, a));
  EXPECT_FALSE(Obsoletes(a, b));
  EXPECT_FALSE(ConcurrentSiblings(a, b));
  EXPECT_TRUE(ConcurrentSiblings(a, c));
  EXPECT_TRUE(ConcurrentSiblings(b, c));
  EXPECT_FALSE(ConcurrentSiblings(a, a));
}

TEST(SiblingSet, PruningAfterAWriteKeepsTheCoordinatorAndEverySiblingsDotNode) {
  VersioningOptions options;
  options.prune = PruneOptions{.max_entries = 1, .min_age_micros = 0};
  SiblingSet set;
  // Writes by n1..n3 long ago (no shared context: three siblings).
  for (const char* node : {"n1", "n2", "n3"}) {
    ASSERT_TRUE(set.Put(node, VersionVector(), node, kT0, options).ok());
  }
  EXPECT_EQ("[n1:1 n2:1 n3:1]", VersionVectorText(set.history()));  // all are dot nodes
  // n4 resolves them a day later: n1..n3 are no longer dot nodes and get pruned.
  const uint64_t later = kT0 + 86'400ull * 1'000'000;
  base::Result<WriteOutcome> r = set.Put("n4", set.history(), "resolved", later, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ("[n4:1]", VersionVectorText(set.history()));
  EXPECT_EQ("n4:1 []", SiblingClockText(set.siblings()[0]));  // pruned from the context too
  EXPECT_TRUE(set.CheckInvariants().ok());
}

TEST(SiblingSet, PruningCostsAFalseConflictNeverALostWrite) {
  VersioningOptions prune_hard;
  prune_hard.prune = PruneOptions{.max_entries = 1, .min_age_micros = 0};
  SiblingSet n1;
  ASSERT_TRUE(n1.Put("n1", n1.history(), "old", kT0, prune_hard).ok());
  SiblingSet n2 = n1;  // replicated
  // n2 supersedes "old" and then prunes n1 (not itself, not a dot node any more).
  ASSERT_TRUE(n2.Put("n2", n2.history(), "new", kT0 + 1, prune_hard).ok());
  EXPECT_EQ("[n2:1]", VersionVectorText(n2.history()));
  // Without pruning the merge would drop "old"; with it "old" comes back as a
  // sibling (a false conflict). "new" is never lost either way.
  EXPECT_EQ("old,new", Values(SiblingSet::Merge(n1, n2)));
  SiblingSet unpruned = n1;
  MustPut(&unpruned, "n2", unpruned.history(), "new", kT0 + 1);
  EXPECT_EQ("new", Values(SiblingSet::Merge(n1, unpruned)));
  // The false conflict resolves like any other: a put with the merged context.
  SiblingSet merged = SiblingSet::Merge(n1, n2);
  MustPut(&merged, "n2", merged.history(), "resolved");
  EXPECT_EQ("resolved", Values(merged));
}

TEST(SiblingSet, FromPartsRejectsBrokenInvariants) {
  const VersionVector history = VV("[n1:2 n2:1]");
  const Sibling a{.dot = D("n1:2"), .context = VV("[n1:1]"), .value = "a"};
  const Sibling b{.dot = D("n2:1"), .context = VV("[n1:1]"), .value = "b"};
  EXPECT_TRUE(SiblingSet::FromParts(history, {a, b}).ok());
  struct Case {
    VersionVector history;
    std::vector<Sibling> siblings;
    std::string message;
  };
  Sibling tombstone_with_value = a;
  tombstone_with_value.tombstone = true;
  Sibling wide_context = a;
  wide_context.context = VV("[n1:1 n3:1]");
  const Case cases[] = {
      {history, {b, a}, "unsorted or repeated at dot n1:2"},
      {history, {a, a}, "unsorted or repeated at dot n1:2"},
      {VV("[n1:1 n2:1]"), {a, b}, "history does not cover dot n1:2"},
      {history, {wide_context}, "context of dot n1:2 is not within the history"},
      {history, {tombstone_with_value}, "tombstone n1:2 has a value"},
      {history, {Sibling{}}, "sibling 1 has no dot"},
  };
  for (const Case& c : cases) {
    base::Result<SiblingSet> set = SiblingSet::FromParts(c.history, c.siblings);
    ASSERT_FALSE(set.ok()) << c.message;
    EXPECT_TRUE(set.status().IsCorruption());
    EXPECT_NE(std::string::npos, set.status().message().find(c.message)) << set.status().message();
  }
}

TEST(SiblingSet, CheckInvariantsFindsAnObsoleteSibling) {
  const Sibling a{.dot = D("n1:1"), .value = "a"};
  const Sibling b{.dot = D("n2:1"), .context = VV("[n1:1]"), .value = "b"};
  base::Result<SiblingSet> set = SiblingSet::FromParts(VV("[n1:1 n2:1]"), {a, b});
  ASSERT_TRUE(set.ok());
  base::Status s = set->CheckInvariants();
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.message().find("sibling n1:1 is obsoleted by sibling n2:1")) << s.message();
}

}  // namespace
}  // namespace kvring::repl
