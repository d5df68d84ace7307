// The analysis behind `kvctl plan` (ring/plan.h): bytes and keys per node pair
// from a size estimate, the ETA, and which failures the resulting ring survives at
// QUORUM and LOCAL_QUORUM, checked against the quorum arithmetic by hand and, on
// random rings, against a brute force over every arc.
#include "ring/plan.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "test/ring/ring_test_util.h"
#include "test/util/test_util.h"

namespace kvring::ring {
namespace {

using testing::BuildRing;
using testing::Ids;
using testing::MakeNode;
using testing::MakeNodes;
using testing::Start;
using testing::WithSpec;

constexpr double kRate = 32.0 * 1024 * 1024;

std::map<std::string, RangeSize> EqualLoads(const std::vector<NodeInfo>& members, uint64_t bytes, uint64_t keys) {
  std::map<std::string, RangeSize> loads;
  for (const NodeInfo& node : members) loads[node.id] = RangeSize{bytes, keys};
  return loads;
}

const SurvivalCheck& Row(const std::vector<SurvivalCheck>& rows, FailureScope scope, QuorumLevel level) {
  for (const SurvivalCheck& row : rows) {
    if (row.scope == scope && row.level == level) return row;
  }
  ADD_FAILURE() << "no row for " << FailureScopeName(scope) << " at " << QuorumLevelName(level);
  return rows.front();
}

TEST(PlanTransfers, PairBytesAndKeysSumToTheEstimateOfEveryMoveOnItsSource) {
  const RingTransition t = Start(MakeNodes(3), MembershipChange::Join(MakeNode("n4")));
  uint64_t expected_bytes = 0;
  for (const RangeMove& move : t.moves()) expected_bytes += (move.range.width() >> 44) + 7;
  std::multiset<std::string> asked;
  const TransferPlan plan = PlanTransfers(
      t,
      [&](const TokenRange& range, const NodeInfo& holder) {
        asked.insert(holder.id);
        return RangeSize{(range.width() >> 44) + 7, 1};
      },
      kRate);
  EXPECT_EQ(expected_bytes, plan.bytes);
  EXPECT_EQ(t.moves().size(), plan.keys);
  EXPECT_EQ(t.moves().size(), plan.ranges);
  uint64_t pair_bytes = 0, pair_keys = 0;
  std::multiset<std::string> sources;
  for (const PairTransfer& pair : plan.pairs) {
    EXPECT_EQ("n4", pair.destination);
    pair_bytes += pair.bytes;
    pair_keys += pair.keys;
    for (size_t i = 0; i < pair.ranges; ++i) sources.insert(pair.source);
  }
  EXPECT_EQ(plan.bytes, pair_bytes);
  EXPECT_EQ(plan.keys, pair_keys);
  EXPECT_EQ(sources, asked) << "each move is priced on the source it is assigned";
  // n4 receives everything, so it is the busiest node.
  EXPECT_EQ("n4", plan.busiest);
  EXPECT_EQ(plan.bytes, plan.busiest_bytes);
  EXPECT_DOUBLE_EQ(static_cast<double>(plan.bytes) / kRate, plan.seconds);
}

TEST(PlanTransfers, DecommissionMovesTheLeaversWholeLoadLessAtMostOneBytePerRange) {
  const std::vector<NodeInfo> members = MakeNodes(4);
  const uint64_t gib = uint64_t{1} << 30;
  const RingTransition t = Start(members, MembershipChange::Decommission("n2"));
  const LoadModel model(t.from(), EqualLoads(members, gib, 1000000));
  const TransferPlan plan = PlanTransfers(t, model.AsFunction(), kRate);
  EXPECT_LE(plan.bytes, gib);
  EXPECT_GE(plan.bytes, gib - plan.ranges);
  EXPECT_LE(plan.keys, 1000000u);
  EXPECT_GE(plan.keys, 1000000u - plan.ranges);
  for (const PairTransfer& pair : plan.pairs) EXPECT_EQ("n2", pair.source);
  EXPECT_EQ("n2", plan.busiest);
  EXPECT_NEAR(32.0, plan.seconds, 0.01) << "1 GiB at 32 MiB/s";
}

TEST(PlanTransfers, ALoadSplitsOverTheNodesRangesInProportionToTheirSpan) {
  const std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(3));  // each node holds the whole ring
  const LoadModel model(*ring, {{"n1", RangeSize{1000, 100}}});
  const RangeSize whole = model.Estimate(TokenRange{5, 5}, ring->nodes()[0]);
  EXPECT_EQ(1000u, whole.bytes);
  EXPECT_EQ(100u, whole.keys);
  const RangeSize half = model.Estimate(TokenRange{0, uint64_t{1} << 63}, ring->nodes()[0]);
  EXPECT_EQ(500u, half.bytes);
  EXPECT_EQ(50u, half.keys);
  EXPECT_EQ(0u, model.Estimate(TokenRange{5, 5}, ring->nodes()[1]).bytes) << "n2 reported no load";
}

TEST(PlanTransfers, ARangeWithNoLiveCopyIsReportedLostNotPriced) {
  const RingTransition t = Start(MakeNodes(3), MembershipChange::RemoveNode("n3"), WithSpec("1"));
  const TransferPlan plan = PlanTransfers(
      t,
      [](const TokenRange&, const NodeInfo&) {
        return RangeSize{1, 1};
      },
      kRate);
  EXPECT_EQ(t.moves().size(), plan.lost.size());
  EXPECT_EQ(0u, plan.bytes);
  EXPECT_TRUE(plan.pairs.empty());
}

TEST(Survivability, ThreeNodesOnOneRackSurviveAnyOneNodeButNotTheRack) {
  const std::vector<SurvivalCheck> rows = AnalyzeSurvivability(*BuildRing(MakeNodes(3), WithSpec("3")));
  ASSERT_EQ(8u, rows.size());
  EXPECT_TRUE(Row(rows, FailureScope::kNone, QuorumLevel::kQuorum).survives());
  const SurvivalCheck& node = Row(rows, FailureScope::kNode, QuorumLevel::kQuorum);
  EXPECT_TRUE(node.survives());
  EXPECT_EQ(3u, node.cases);
  const SurvivalCheck& rack = Row(rows, FailureScope::kRack, QuorumLevel::kQuorum);
  EXPECT_FALSE(rack.survives());
  EXPECT_EQ(1u, rack.cases);
  EXPECT_EQ("dc1/rack1", rack.first.failed);
  EXPECT_EQ(0u, rack.first.alive);
  EXPECT_EQ(2u, rack.first.needed) << "a quorum of 3 is 2";
  EXPECT_EQ(3u, rack.first.replicas.size());
  EXPECT_FALSE(Row(rows, FailureScope::kDc, QuorumLevel::kQuorum).survives());
  EXPECT_FALSE(Row(rows, FailureScope::kDc, QuorumLevel::kLocalQuorum).survives()) << "no other DC";
}

TEST(Survivability, TwoDcsOfThreeSurviveADcAtLocalQuorumButNotAtQuorumOverSix) {
  std::vector<NodeInfo> members;
  for (int i = 1; i <= 3; ++i) members.push_back(MakeNode("a" + std::to_string(i), "dc1"));
  for (int i = 1; i <= 3; ++i) members.push_back(MakeNode("b" + std::to_string(i), "dc2"));
  const std::vector<SurvivalCheck> rows = AnalyzeSurvivability(*BuildRing(members, WithSpec("dc1:3,dc2:3")));
  // QUORUM over 6 replicas is 4; a DC holds 3 of them.
  const SurvivalCheck& dc = Row(rows, FailureScope::kDc, QuorumLevel::kQuorum);
  EXPECT_FALSE(dc.survives());
  EXPECT_EQ(2u, dc.failing);
  EXPECT_EQ("dc1", dc.first.failed);
  EXPECT_EQ(3u, dc.first.alive);
  EXPECT_EQ(4u, dc.first.needed);
  EXPECT_EQ(6u, dc.first.replicas.size());
  // LOCAL_QUORUM in the surviving DC is 2 of its 3, all up.
  EXPECT_TRUE(Row(rows, FailureScope::kDc, QuorumLevel::kLocalQuorum).survives());
  EXPECT_TRUE(Row(rows, FailureScope::kNode, QuorumLevel::kQuorum).survives()) << "5 of 6 >= 4";
  EXPECT_TRUE(Row(rows, FailureScope::kNode, QuorumLevel::kLocalQuorum).survives()) << "2 of 3 >= 2";
  // Each DC is one rack here, so a rack is a DC.
  EXPECT_FALSE(Row(rows, FailureScope::kRack, QuorumLevel::kQuorum).survives());
  EXPECT_TRUE(Row(rows, FailureScope::kRack, QuorumLevel::kLocalQuorum).survives());
}

TEST(Survivability, TheFirstLossNamesTheFailedRackAndAnArcWhoseReplicasLoseTheirQuorum) {
  // Two racks, N = 3: every key has two replicas in one rack and one in the other.
  const std::vector<NodeInfo> members = {MakeNode("n1", "dc1", "rA"), MakeNode("n2", "dc1", "rA"),
                                         MakeNode("n3", "dc1", "rB"), MakeNode("n4", "dc1", "rB")};
  const std::shared_ptr<const Ring> ring = BuildRing(members, WithSpec("3"));
  const std::vector<SurvivalCheck> rows = AnalyzeSurvivability(*ring);
  const SurvivalCheck& rack = Row(rows, FailureScope::kRack, QuorumLevel::kQuorum);
  ASSERT_FALSE(rack.survives());
  EXPECT_EQ(2u, rack.cases);
  EXPECT_EQ(2u, rack.failing);
  EXPECT_EQ("dc1/rA", rack.first.failed);
  EXPECT_EQ(Ids(ring->PreferenceListFor(rack.first.range.end)), rack.first.replicas);
  size_t outside = 0;
  for (const std::string& id : rack.first.replicas) outside += ring->FindNode(id)->rack == "rA" ? 0 : 1;
  EXPECT_EQ(1u, outside);
  EXPECT_EQ(outside, rack.first.alive);
  EXPECT_EQ(2u, rack.first.needed);
  // rB still has live nodes, so dc1 asks for a local quorum too: 1 of its 3.
  const SurvivalCheck& local = Row(rows, FailureScope::kRack, QuorumLevel::kLocalQuorum);
  EXPECT_EQ(2u, local.failing);
  EXPECT_EQ("dc1", local.first.dc);
  EXPECT_EQ(1u, local.first.alive);
  EXPECT_EQ(2u, local.first.needed);
  // The first arc in token order that fails when rA is down.
  for (size_t v = 0; v < ring->vnode_count(); ++v) {
    const TokenRange range = ring->VnodeRange(v);
    if (range == rack.first.range) break;
    size_t alive = 0;
    for (const NodeInfo* node : ring->PreferenceListFor(range.end)) alive += node->rack == "rA" ? 0 : 1;
    ASSERT_GE(alive, 2u) << range.ToString() << " fails too and comes first";
  }
}

TEST(Survivability, QuorumFollowsTheSpecWhenTheRingHasFewerNodesThanN) {
  EXPECT_EQ(2u, QuorumOf(3, 3));
  EXPECT_EQ(2u, QuorumOf(2, 3)) << "the coordinator counts a quorum of N, not of the nodes there are";
  EXPECT_EQ(4u, QuorumOf(6, 6));
  EXPECT_EQ(2u, QuorumOf(1, 3));
  // One node, N = 3: its one replica can never make a quorum of 2.
  EXPECT_FALSE(
      Row(AnalyzeSurvivability(*BuildRing(MakeNodes(1), WithSpec("3"))), FailureScope::kNone, QuorumLevel::kQuorum)
          .survives());
  // Two nodes, N = 3: a quorum of 2, so one node down already loses it.
  const std::vector<SurvivalCheck> rows = AnalyzeSurvivability(*BuildRing(MakeNodes(2), WithSpec("3")));
  EXPECT_TRUE(Row(rows, FailureScope::kNone, QuorumLevel::kQuorum).survives());
  EXPECT_FALSE(Row(rows, FailureScope::kNode, QuorumLevel::kQuorum).survives());
}

// Brute force: the first arc of `ring` (in token order) that loses its QUORUM when
// every node in `down` fails, if any.
std::optional<TokenRange> BruteForceFirstLoss(const Ring& ring, const std::set<std::string>& down) {
  std::optional<TokenRange> first;
  ring.ForEachRange([&](const TokenRange& range, const PreferenceList& replicas) {
    size_t alive = 0;
    for (const NodeInfo* node : replicas) alive += down.count(node->id) ? 0 : 1;
    const size_t n = std::max<size_t>(replicas.size(), static_cast<size_t>(ring.replication().total()));
    if (!first && alive < n / 2 + 1) first = range;
  });
  return first;
}

TEST(Survivability, RandomRingsAgreeWithABruteForceOverEveryArc) {
  base::Random rnd(test::TestSeed("Survivability.RandomRingsAgreeWithABruteForceOverEveryArc"));
  for (int round = 0; round < 30; ++round) {
    RingOptions options;
    options.vnodes_per_weight = 8;
    options.replication = testing::RandomSpec(rnd);
    const std::shared_ptr<const Ring> ring = BuildRing(testing::RandomMembers(rnd), options);
    const std::vector<SurvivalCheck> rows = AnalyzeSurvivability(*ring);
    std::map<std::string, std::set<std::string>> by_node, by_rack, by_dc;
    for (const NodeInfo& node : ring->nodes()) {
      by_node[node.id].insert(node.id);
      by_rack[node.dc + "/" + node.rack].insert(node.id);
      by_dc[node.dc].insert(node.id);
    }
    const std::pair<FailureScope, std::map<std::string, std::set<std::string>>*> scopes[] = {
        {FailureScope::kNode, &by_node}, {FailureScope::kRack, &by_rack}, {FailureScope::kDc, &by_dc}};
    for (const auto& [scope, groups] : scopes) {
      size_t failing = 0;
      std::string first;
      TokenRange first_range;
      for (const auto& [name, down] : *groups) {
        const std::optional<TokenRange> loss = BruteForceFirstLoss(*ring, down);
        if (!loss || failing++ > 0) continue;
        first = name;
        first_range = *loss;
      }
      const SurvivalCheck& row = Row(rows, scope, QuorumLevel::kQuorum);
      const std::string where = std::string(FailureScopeName(scope)) + " on " + std::to_string(ring->node_count()) +
                                " nodes, spec " + options.replication.ToString();
      ASSERT_EQ(groups->size(), row.cases) << where;
      ASSERT_EQ(failing, row.failing) << where;
      ASSERT_EQ(first, row.first.failed) << where;
      if (failing > 0) {
        ASSERT_EQ(first_range, row.first.range) << where;
      }
    }
  }
}

TEST(PlanChange, APlanPricesTheTransitionAndAnalyzesTheResultingRing) {
  const std::vector<NodeInfo> members = MakeNodes(3);
  const RingTransition t = Start(members, MembershipChange::Join(MakeNode("n4", "dc1", "rack2")));
  const LoadModel model(t.from(), EqualLoads(members, 3000000, 30000));
  const ChangePlan plan = PlanChange(MembershipChange::Join(MakeNode("n4")), t, model.AsFunction(), kRate);
  EXPECT_EQ("join of n4", plan.change.ToString());
  EXPECT_EQ(t.arcs_to_hand_over(), plan.arcs_changing);
  EXPECT_EQ(PlanTransfers(t, model.AsFunction(), kRate).bytes, plan.transfers.bytes);
  // After the join every key has n4 (alone in rack2) and two of rack1: losing
  // rack1 leaves one replica of three.
  EXPECT_TRUE(Row(plan.survival, FailureScope::kNode, QuorumLevel::kQuorum).survives());
  const SurvivalCheck& rack = Row(plan.survival, FailureScope::kRack, QuorumLevel::kQuorum);
  EXPECT_EQ(1u, rack.failing);
  EXPECT_EQ("dc1/rack1", rack.first.failed);
  EXPECT_EQ(1u, rack.first.alive);
}

}  // namespace
}  // namespace kvring::ring
