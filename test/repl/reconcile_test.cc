#include "repl/reconcile.h"

#include <gtest/gtest.h>

#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

using testing::BlindPut;
using testing::D;
using testing::MustPut;
using testing::Values;
using testing::VV;

std::vector<bool> Repairs(std::initializer_list<const SiblingSet*> replies, SiblingSet* merged = nullptr) {
  const std::vector<const SiblingSet*> list(replies);
  Reconciliation r = Reconcile(list);
  if (merged != nullptr) *merged = r.merged;
  return r.needs_repair;
}

TEST(Reconcile, AgreeingRepliesNeedNoRepair) {
  SiblingSet a;
  BlindPut(&a, "n1", "v");
  const SiblingSet b = a, c = a;
  SiblingSet merged;
  EXPECT_EQ((std::vector<bool>{false, false, false}), Repairs({&a, &b, &c}, &merged));
  EXPECT_EQ(a, merged);
}

TEST(Reconcile, AReplicaThatHasNothingIsRepaired) {
  SiblingSet a;
  BlindPut(&a, "n1", "v");
  SiblingSet merged;
  EXPECT_EQ((std::vector<bool>{false, true}), Repairs({&a, nullptr}, &merged));
  EXPECT_EQ("v", Values(merged));
  EXPECT_EQ((std::vector<bool>{false, false}), Repairs({nullptr, nullptr}, &merged));
  EXPECT_TRUE(merged.empty());
}

TEST(Reconcile, AStaleReplicaIsRepairedAndThenAgrees) {
  SiblingSet stale;
  BlindPut(&stale, "n1", "old");
  SiblingSet fresh = stale;
  BlindPut(&fresh, "n2", "new");
  SiblingSet merged;
  EXPECT_EQ((std::vector<bool>{true, false}), Repairs({&stale, &fresh}, &merged));
  EXPECT_EQ("new", Values(merged));
  stale.MergeFrom(merged);  // what the repair write does at the replica
  EXPECT_EQ(merged, stale);
  EXPECT_FALSE(NeedsRepair(&stale, merged));
}

TEST(Reconcile, ConcurrentRepliesBecomeSiblingsAndEveryReplicaIsRepaired) {
  SiblingSet base;
  BlindPut(&base, "n1", "v0");
  SiblingSet a = base, b = base;
  MustPut(&a, "n1", base.history(), "from-a");
  MustPut(&b, "n2", base.history(), "from-b");
  SiblingSet merged;
  EXPECT_EQ((std::vector<bool>{true, true, true}), Repairs({&a, &b, &base}, &merged));
  EXPECT_EQ("from-a,from-b", Values(merged));
  EXPECT_EQ("[n1:2 n2:1]", VersionVectorText(merged.history()));
}

TEST(Reconcile, AReplicaWithTheSameSiblingsButLessHistoryIsRepaired) {
  // b learnt (through a put whose context named it) that n3:2 was superseded; a
  // did not, and would keep n3:2 if it ever received it.
  const Sibling s{.dot = D("n1:1"), .value = "v"};
  base::Result<SiblingSet> a = SiblingSet::FromParts(VV("[n1:1]"), {s});
  base::Result<SiblingSet> b = SiblingSet::FromParts(VV("[n1:1 n3:2]"), {s});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((std::vector<bool>{true, false}), Repairs({&*a, &*b}));
}

TEST(Reconcile, AReplicaWithAPrunedContextIsRepairedToTheCommonContext) {
  const Sibling full{.dot = D("n1:2"), .context = VV("[n1:1 n2:1]"), .value = "v"};
  Sibling pruned = full;
  pruned.context = VV("[n1:1]");
  base::Result<SiblingSet> a = SiblingSet::FromParts(VV("[n1:2 n2:1]"), {full});
  base::Result<SiblingSet> b = SiblingSet::FromParts(VV("[n1:2 n2:1]"), {pruned});
  ASSERT_TRUE(a.ok() && b.ok());
  SiblingSet merged;
  EXPECT_EQ((std::vector<bool>{true, false}), Repairs({&*a, &*b}, &merged));
  EXPECT_EQ("n1:2 [n1:1]", SiblingClockText(merged.siblings()[0]));
}

}  // namespace
}  // namespace kvring::repl
