// Rings in transition (ring/transition.h): for join, decommission, removenode,
// replace and weight change, what moves from whom to whom, the write and read sets
// during the change, handing ranges over, and the one-change-at-a-time rule. A
// seeded property test checks every arc of random transitions against the two
// rings' own preference lists.
#include "ring/transition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "ring/ownership.h"
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

// The arcs of the moves into `destination`, merged (as RangesReplicatedBy merges).
std::vector<TokenRange> RangesMovedTo(const RingTransition& t, const std::string& destination) {
  std::vector<TokenRange> out;
  for (const RangeMove& move : t.moves()) {
    if (move.destination == destination) AppendMergedRange(&out, move.range);
  }
  CloseWrap(&out);
  return out;
}

std::set<std::string> Destinations(const RingTransition& t) {
  std::set<std::string> out;
  for (const RangeMove& move : t.moves()) out.insert(move.destination);
  return out;
}

// Tokens covered by the moves into `destination`.
TokenCount SpanMovedTo(const RingTransition& t, const std::string& destination) {
  TokenCount span = 0;
  for (const RangeMove& move : t.moves()) span += move.destination == destination ? move.range.span() : 0;
  return span;
}

TokenCount SpanReplicatedBy(const Ring& ring, const std::string& id) {
  TokenCount span = 0;
  for (const TokenRange& range : RangesReplicatedBy(ring, id)) span += range.span();
  return span;
}

std::vector<std::string> Ids(const WriteSet& set) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < set.size(); ++i) ids.push_back(set[i].id);
  return ids;
}

// old, then the new ids not in old.
std::vector<std::string> Union(const PreferenceList& old_list, const PreferenceList& new_list) {
  std::vector<std::string> ids = Ids(old_list);
  for (const NodeInfo* node : new_list) {
    if (!old_list.ContainsId(node->id)) ids.push_back(node->id);
  }
  return ids;
}

TEST(RingTransition, JoinOfAFourthNodeMovesExactlyTheRangesTheNewRingGivesIt) {
  const RingTransition t = Start(MakeNodes(3), MembershipChange::Join(MakeNode("n4")));
  EXPECT_EQ(std::set<std::string>{"n4"}, Destinations(t));
  EXPECT_EQ(RangesReplicatedBy(t.to(), "n4"), RangesMovedTo(t, "n4"));
  for (const RangeMove& move : t.moves()) {
    ASSERT_EQ(3u, move.sources.size()) << move.range.ToString() << ": n1..n3 all hold every range";
    // The preferred source is the replica n4 pushes out of the range.
    const TransitionRange& arc = t.ranges()[t.ArcOf(move.range.end)];
    EXPECT_FALSE(arc.new_replicas.ContainsId(move.source())) << move.range.ToString();
  }
}

TEST(RingTransition, DuringAJoinEveryKeysWriteSetIsOldUnionNewAndOnlyOldCounts) {
  const RingTransition t = Start(MakeNodes(3), MembershipChange::Join(MakeNode("n4")));
  base::Random rnd(test::TestSeed("RingTransition.DuringAJoinEveryKeysWriteSetIsOldUnionNewAndOnlyOldCounts"));
  int with_pending = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "user:" + std::to_string(rnd.Next64());
    const PreferenceList old_list = t.from().PreferenceListForKey(key);
    const PreferenceList new_list = t.to().PreferenceListForKey(key);
    const WriteSet set = t.WriteReplicas(TokenOf(key));
    ASSERT_EQ(Union(old_list, new_list), Ids(set)) << key;
    ASSERT_EQ(old_list.size(), set.counted()) << key << ": pending replicas must not count towards W";
    for (size_t k = 0; k < set.size(); ++k) ASSERT_EQ(old_list.ContainsId(set[k].id), set.counts(k)) << key;
    ASSERT_EQ(Ids(old_list), Ids(t.ReadReplicas(TokenOf(key)))) << key << ": nothing handed over yet";
    with_pending += set.size() > old_list.size() ? 1 : 0;
  }
  // n4 replicates about 3/4 of the ring once it is in.
  EXPECT_GT(with_pending, 20000 * 0.6);
  EXPECT_LT(with_pending, 20000 * 0.9);
}

TEST(RingTransition, DecommissionStreamsTheLeaversRangesFromItToTheirNewOwners) {
  const RingTransition t = Start(MakeNodes(4), MembershipChange::Decommission("n2"));
  EXPECT_EQ(nullptr, t.to().FindNode("n2"));
  std::vector<TokenRange> moved;
  for (const RangeMove& move : t.moves()) {
    EXPECT_EQ("n2", move.source()) << move.range.ToString() << ": the leaver sends what it gives up";
    EXPECT_NE("n2", move.destination);
    AppendMergedRange(&moved, move.range);
  }
  CloseWrap(&moved);
  // Every range n2 held gains one new replica (three nodes are left for N = 3).
  EXPECT_EQ(RangesReplicatedBy(t.from(), "n2"), moved);
}

TEST(RingTransition, RemoveNodeNeverNamesTheDeadNodeAsASource) {
  const RingTransition t = Start(MakeNodes(4), MembershipChange::RemoveNode("n2"));
  ASSERT_FALSE(t.moves().empty());
  for (const RangeMove& move : t.moves()) {
    ASSERT_EQ(2u, move.sources.size()) << move.range.ToString();
    for (const std::string& source : move.sources) EXPECT_NE("n2", source) << move.range.ToString();
  }
  for (const NodeStreams& s : t.streams()) EXPECT_NE("n2", s.source);
  // The same ranges move as for a decommission; only who sends them differs.
  const RingTransition leave = Start(MakeNodes(4), MembershipChange::Decommission("n2"));
  ASSERT_EQ(leave.moves().size(), t.moves().size());
  for (size_t i = 0; i < t.moves().size(); ++i) {
    EXPECT_EQ(leave.moves()[i].range, t.moves()[i].range);
    EXPECT_EQ(leave.moves()[i].destination, t.moves()[i].destination);
  }
}

TEST(RingTransition, RemoveNodeOfARangesOnlyReplicaLeavesItWithoutASource) {
  const RingTransition t = Start(MakeNodes(3), MembershipChange::RemoveNode("n3"), WithSpec("1"));
  ASSERT_FALSE(t.moves().empty());
  for (const RangeMove& move : t.moves()) {
    EXPECT_TRUE(move.sources.empty()) << move.range.ToString() << ": n3 held the only copy";
    EXPECT_EQ("", move.source());
  }
  EXPECT_TRUE(t.streams().empty());
}

TEST(RingTransition, ReplaceKeepsTheDeadNodesTokensSoExactlyItsRangesMoveToTheReplacement) {
  std::vector<NodeInfo> members = MakeNodes(4);
  members[2].rack = "rack2";  // n3: the replacement must match dc and rack
  NodeInfo n5 = MakeNode("n5", "dc1", "rack2");
  const RingTransition t = Start(members, MembershipChange::Replace("n3", n5));
  const NodeInfo* placed = t.to().FindNode("n5");
  ASSERT_NE(nullptr, placed);
  EXPECT_EQ("n3", placed->TokenId());
  ASSERT_EQ(t.from().vnode_count(), t.to().vnode_count());
  for (size_t v = 0; v < t.from().vnode_count(); ++v) {
    ASSERT_EQ(t.from().vnode_token(v), t.to().vnode_token(v)) << v;
    const std::string& was = t.from().vnode_owner(v).id;
    ASSERT_EQ(was == "n3" ? "n5" : was, t.to().vnode_owner(v).id) << v;
  }
  EXPECT_EQ(std::set<std::string>{"n5"}, Destinations(t));
  EXPECT_EQ(RangesReplicatedBy(t.from(), "n3"), RangesMovedTo(t, "n5"));
  for (const TransitionRange& arc : t.ranges()) {
    std::vector<std::string> expected = Ids(arc.old_replicas);
    std::replace(expected.begin(), expected.end(), std::string("n3"), std::string("n5"));
    ASSERT_EQ(expected, Ids(arc.new_replicas)) << arc.range.ToString();
  }
  for (const RangeMove& move : t.moves()) {
    for (const std::string& source : move.sources) EXPECT_NE("n3", source) << "n3 is dead";
  }
}

TEST(RingTransition, AReplacementOfAReplacementKeepsTheOriginalTokensAndWeight) {
  std::vector<NodeInfo> members = MakeNodes(3);
  members[1].weight = 2;
  base::Result<std::vector<NodeInfo>> first = ApplyChange(members, MembershipChange::Replace("n2", MakeNode("n5")));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  base::Result<std::vector<NodeInfo>> second = ApplyChange(*first, MembershipChange::Replace("n5", MakeNode("n6")));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const NodeInfo& n6 = (*second)[1];
  EXPECT_EQ("n6", n6.id);
  EXPECT_EQ("n2", n6.TokenId());
  EXPECT_EQ(2.0, n6.weight) << "the replacement takes the dead node's weight, so the same vnode count";
}

TEST(RingTransition, AReplacementMustBeInTheDeadNodesRackAndHaveItsOwnId) {
  const std::vector<NodeInfo> members = MakeNodes(3);
  base::Result<std::vector<NodeInfo>> other_rack =
      ApplyChange(members, MembershipChange::Replace("n2", MakeNode("n5", "dc1", "rack9")));
  ASSERT_FALSE(other_rack.ok());
  EXPECT_EQ(
      "replace of n2 by n5: n5 is in dc1/rack9 but n2 was in dc1/rack1; a replacement takes the dead "
      "node's place (same dc and rack)",
      other_rack.status().message());
  base::Result<std::vector<NodeInfo>> same_id = ApplyChange(members, MembershipChange::Replace("n2", MakeNode("n2")));
  ASSERT_FALSE(same_id.ok());
  EXPECT_EQ("replace of n2 by n2: the replacement needs an id of its own, not \"n2\"", same_id.status().message());
}

TEST(RingTransition, RaisingAWeightMovesRangesOnlyToThatNodeInProportion) {
  std::vector<NodeInfo> members = MakeNodes(5);
  const std::shared_ptr<const Ring> before = BuildRing(members);
  TokenCount previous = 0;
  for (double weight : {1.5, 2.0, 3.0}) {
    const RingTransition t = Start(members, MembershipChange::SetWeight("n1", weight));
    EXPECT_EQ(std::set<std::string>{"n1"}, Destinations(t)) << weight;
    const TokenCount moved = SpanMovedTo(t, "n1");
    EXPECT_EQ(SpanReplicatedBy(t.to(), "n1") - SpanReplicatedBy(*before, "n1"), moved) << weight;
    EXPECT_GT(moved, previous) << "weight " << weight << " must move more than the smaller raise";
    previous = moved;
  }
}

TEST(RingTransition, LoweringAWeightMovesRangesOnlyAwayFromThatNode) {
  const RingTransition t = Start(MakeNodes(5), MembershipChange::SetWeight("n1", 0.5));
  ASSERT_FALSE(t.moves().empty());
  TokenCount moved = 0;
  for (const RangeMove& move : t.moves()) {
    EXPECT_NE("n1", move.destination);
    EXPECT_EQ("n1", move.source()) << "n1 gives the range up, so it sends it";
    moved += move.range.span();
  }
  EXPECT_EQ(SpanReplicatedBy(t.from(), "n1") - SpanReplicatedBy(t.to(), "n1"), moved);
}

TEST(RingTransition, ASecondChangeIsRefusedNamingTheChangeAlreadyRunning) {
  const MembershipChange running = MembershipChange::Join(MakeNode("n4"));
  base::Result<RingTransition> t = StartChange(MakeNodes(3), {}, MembershipChange::Decommission("n2"), &running);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsBusy()) << t.status().ToString();
  EXPECT_EQ(
      "decommission of n2 refused: join of n4 is still running; one membership change at a time (wait until "
      "it completes)",
      t.status().message());
}

TEST(RingTransition, ChangesThatCannotApplySayWhy) {
  const std::vector<NodeInfo> members = MakeNodes(3);
  struct Case {
    MembershipChange change;
    std::string message;
  } cases[] = {
      {MembershipChange::Join(MakeNode("n2")), "join of n2: \"n2\" is already a member"},
      {MembershipChange::Decommission("n9"), "decommission of n9: \"n9\" is not a member of the ring in force"},
      {MembershipChange::RemoveNode("n9"), "removenode of n9: \"n9\" is not a member of the ring in force"},
      {MembershipChange::SetWeight("n1", 1.0), "set-weight of n1 to 1: n1 already has weight 1"},
      {MembershipChange::SetWeight("n1", 100), "set-weight of n1 to 100: node \"n1\": weight 100 is outside (0, 64]"},
  };
  for (const Case& c : cases) {
    base::Result<std::vector<NodeInfo>> next = ApplyChange(members, c.change);
    ASSERT_FALSE(next.ok()) << c.change.ToString();
    EXPECT_EQ(c.message, next.status().message());
  }
  NodeInfo taken = MakeNode("n4");
  taken.address = members[0].address;
  EXPECT_TRUE(ApplyChange(members, MembershipChange::Join(taken)).status().IsInvalidArgument());
  base::Result<std::vector<NodeInfo>> last = ApplyChange(MakeNodes(1), MembershipChange::Decommission("n1"));
  EXPECT_EQ("decommission of n1: it is the only member; the ring would be empty", last.status().message());
}

TEST(RingTransition, HandedOverRangesSwitchReadsAndCountedWritesToTheNewReplicas) {
  RingTransition t = Start(MakeNodes(3), MembershipChange::Join(MakeNode("n4")));
  ASSERT_GT(t.arcs_to_hand_over(), 1u);
  EXPECT_FALSE(t.complete());
  const TransitionRange arc =
      *std::find_if(t.ranges().begin(), t.ranges().end(), [](const TransitionRange& a) { return a.changes(); });
  const Token inside = arc.range.end;
  EXPECT_EQ(Ids(arc.old_replicas), Ids(t.ReadReplicas(inside)));
  ASSERT_TRUE(t.MarkHandedOver(arc.range).ok());
  EXPECT_TRUE(t.HandedOver(inside));
  EXPECT_EQ(Ids(arc.new_replicas), Ids(t.ReadReplicas(inside)));
  const WriteSet set = t.WriteReplicas(inside);
  EXPECT_EQ(Union(arc.old_replicas, arc.new_replicas), Ids(set)) << "old replicas are still written";
  for (size_t k = 0; k < set.size(); ++k) EXPECT_EQ(arc.new_replicas.ContainsId(set[k].id), set.counts(k));
  EXPECT_EQ(1u, t.arcs_handed_over());
  // Another changing arc still reads the old replicas.
  size_t others = 0;
  for (const TransitionRange& a : t.ranges()) {
    if (!a.changes() || a.range == arc.range) continue;
    EXPECT_EQ(Ids(a.old_replicas), Ids(t.ReadReplicas(a.range.end)));
    ++others;
  }
  EXPECT_EQ(t.arcs_to_hand_over() - 1, others);
  ASSERT_TRUE(t.MarkHandedOver(TokenRange{inside, inside}).ok()) << "the full ring";
  EXPECT_TRUE(t.complete());
  EXPECT_EQ(t.arcs_to_hand_over(), t.arcs_handed_over());
}

TEST(RingTransition, HandingOverARangeOffTheArcBoundariesIsRefused) {
  RingTransition t = Start(MakeNodes(3), MembershipChange::Join(MakeNode("n4")));
  const TokenRange arc = t.ranges()[5].range;
  const TokenRange off{arc.start, arc.end - 1};
  base::Status s = t.MarkHandedOver(off);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ("hand over " + off.ToString() + ": the range does not start and end on arc boundaries of the transition",
            s.message());
  EXPECT_EQ(0u, t.arcs_handed_over());
}

TEST(RingTransition, AMemberHoldingAnotherIdsTokensPlacesThoseTokens) {
  NodeInfo n5 = MakeNode("n5");
  n5.token_id = "n2";
  std::vector<NodeInfo> members = MakeNodes(3);
  const std::shared_ptr<const Ring> original = BuildRing(members);
  members[1] = n5;
  const std::shared_ptr<const Ring> replaced = BuildRing(members);
  ASSERT_EQ(original->vnode_count(), replaced->vnode_count());
  for (size_t v = 0; v < original->vnode_count(); ++v) ASSERT_EQ(original->vnode_token(v), replaced->vnode_token(v));
  members.push_back(MakeNode("n2"));  // n2 back while n5 holds its tokens
  base::Status s = ValidateMembers(members);
  EXPECT_EQ("node \"n2\" would place the tokens of \"n2\", which another member already holds", s.message());
}

// A random change that applies to `members`.
MembershipChange RandomChange(base::Random& rnd, const std::vector<NodeInfo>& members, int serial) {
  const NodeInfo& target = members[rnd.Uniform(static_cast<uint32_t>(members.size()))];
  NodeInfo fresh = MakeNode("fresh-" + std::to_string(serial), target.dc, target.rack);
  switch (rnd.Uniform(members.size() > 1 ? 5 : 3)) {
    case 0: return MembershipChange::Join(fresh);
    case 1: return MembershipChange::Replace(target.id, fresh);
    case 2: return MembershipChange::SetWeight(target.id, target.weight == 1.0 ? 2.0 : 1.0);
    case 3: return MembershipChange::Decommission(target.id);
    default: return MembershipChange::RemoveNode(target.id);
  }
}

// Checks arc `arc` at token t against both rings.
void ExpectArcMatchesRings(const RingTransition& t, const TransitionRange& arc, Token token) {
  ASSERT_TRUE(arc.range.Contains(token));
  ASSERT_EQ(Ids(t.from().PreferenceListFor(token)), Ids(arc.old_replicas)) << arc.range.ToString();
  ASSERT_EQ(Ids(t.to().PreferenceListFor(token)), Ids(arc.new_replicas)) << arc.range.ToString();
  ASSERT_EQ(Union(arc.old_replicas, arc.new_replicas), Ids(t.WriteReplicas(token))) << arc.range.ToString();
}

TEST(RingTransition, EveryArcOfRandomTransitionsHasTheOldAndNewRingsPreferenceLists) {
  base::Random rnd(test::TestSeed("RingTransition.EveryArcOfRandomTransitionsHasTheOldAndNewRingsPreferenceLists"));
  for (int round = 0; round < 40; ++round) {
    const std::vector<NodeInfo> members = testing::RandomMembers(rnd);
    RingOptions options;
    options.vnodes_per_weight = 16;
    options.replication = testing::RandomSpec(rnd);
    const MembershipChange change = RandomChange(rnd, members, round);
    base::Result<RingTransition> started = StartChange(members, options, change);
    ASSERT_TRUE(started.ok()) << change.ToString() << ": " << started.status().ToString();
    const RingTransition& t = *started;
    size_t moves = 0;
    for (size_t i = 0; i < t.ranges().size(); ++i) {
      const TransitionRange& arc = t.ranges()[i];
      // Contiguous cover of the ring: each arc starts where the previous one ended.
      ASSERT_EQ(t.ranges()[i == 0 ? t.ranges().size() - 1 : i - 1].range.end, arc.range.start);
      ExpectArcMatchesRings(t, arc, arc.range.end);
      if (arc.range.width() > 1) ExpectArcMatchesRings(t, arc, arc.range.start + 1);
      if (arc.range.width() > 2)
        ExpectArcMatchesRings(t, arc, arc.range.start + 1 + rnd.Next64() % (arc.range.width() - 1));
      for (const NodeInfo* node : arc.pending) {
        ASSERT_LT(moves, t.moves().size());
        const RangeMove& move = t.moves()[moves++];
        ASSERT_EQ(arc.range, move.range);
        ASSERT_EQ(node->id, move.destination);
        ASSERT_FALSE(arc.old_replicas.ContainsId(node->id));
        for (const std::string& source : move.sources) ASSERT_NE(change.unavailable(), source);
      }
    }
    ASSERT_EQ(moves, t.moves().size()) << change.ToString();
  }
}

}  // namespace
}  // namespace kvring::ring
