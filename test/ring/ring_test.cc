#include "ring/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
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
using testing::WithSpec;

TEST(RingBuild, RejectsInvalidMembersAndOptions) {
  std::vector<NodeInfo> nodes = MakeNodes(3);
  nodes[1].address = "no-port";
  base::Result<std::shared_ptr<const Ring>> ring = Ring::Build(nodes);
  ASSERT_FALSE(ring.ok());
  EXPECT_TRUE(ring.status().IsInvalidArgument());
  EXPECT_NE(std::string::npos, ring.status().message().find("ring: node \"n2\"")) << ring.status().ToString();

  RingOptions options;
  options.vnodes_per_weight = 0;
  ring = Ring::Build(MakeNodes(3), options);
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(std::string::npos, ring.status().message().find("vnodes per weight 0"));
}

TEST(RingBuild, GivesEachNodeWeightTimesVnodesPerWeight) {
  std::vector<NodeInfo> nodes = MakeNodes(3);
  nodes[2].weight = 2.5;
  std::shared_ptr<const Ring> ring = BuildRing(nodes);
  ASSERT_EQ(256u + 256u + 640u, ring->vnode_count());
  std::map<std::string, int> count;
  for (size_t i = 0; i < ring->vnode_count(); ++i) {
    ++count[ring->vnode_owner(i).id];
    if (i > 0) {
      EXPECT_LT(ring->vnode_token(i - 1), ring->vnode_token(i));
    }
  }
  EXPECT_EQ(256, count["n1"]);
  EXPECT_EQ(640, count["n3"]);
}

TEST(RingBuild, KeepsMembersSortedByIdWithTheirLabels) {
  std::shared_ptr<const Ring> ring =
      BuildRing({MakeNode("c", "east", "r2"), MakeNode("a", "west", "r1"), MakeNode("b", "east", "r1")});
  ASSERT_EQ(3u, ring->node_count());
  EXPECT_EQ("a", ring->nodes()[0].id);
  EXPECT_EQ("c", ring->nodes()[2].id);
  EXPECT_EQ(&ring->nodes()[1], ring->FindNode("b"));
  EXPECT_EQ(nullptr, ring->FindNode("d"));
  EXPECT_EQ(1u, ring->IndexOf(*ring->FindNode("b")));
  EXPECT_EQ((std::vector<std::string>{"east", "west"}), ring->datacenters());
  EXPECT_EQ(2u, ring->NodesInDc("east"));
  EXPECT_EQ(2u, ring->RacksInDc("east"));
  EXPECT_EQ(1u, ring->RacksInDc("west"));
  EXPECT_EQ(0u, ring->NodesInDc("north"));
}

TEST(RingLookup, EmptyRingHasNoReplicas) {
  std::shared_ptr<const Ring> ring = BuildRing({});
  EXPECT_EQ(0u, ring->vnode_count());
  EXPECT_EQ(nullptr, ring->Primary(123));
  EXPECT_TRUE(ring->PreferenceListForKey("k").empty());
  int visits = 0;
  ring->WalkClockwise(5, [&](const NodeInfo&) { return ++visits, true; });
  EXPECT_EQ(0, visits);
}

TEST(RingLookup, TokenBelongsToTheFirstVnodeAtOrAfterIt) {
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(4));
  const size_t last = ring->vnode_count() - 1;
  for (size_t i : {size_t{0}, size_t{1}, size_t{500}, last}) {
    const Token t = ring->vnode_token(i);
    EXPECT_EQ(i, ring->SuccessorVnode(t));
    EXPECT_EQ(i, ring->SuccessorVnode(t - 1));
    EXPECT_EQ(i == last ? 0 : i + 1, ring->SuccessorVnode(t + 1));
    EXPECT_EQ(&ring->vnode_owner(i), ring->Primary(t));
    EXPECT_TRUE(ring->VnodeRange(i).Contains(t));
    EXPECT_FALSE(ring->VnodeRange(i).Contains(t + 1));
  }
  // Past the highest token the ring wraps to the first virtual node.
  EXPECT_EQ(0u, ring->SuccessorVnode(std::numeric_limits<Token>::max()));
  EXPECT_TRUE(ring->VnodeRange(0).wraps());
}

TEST(RingLookup, SuccessorMatchesAPlainBinarySearchAtBucketEdges) {
  // The lookup narrows its search with a bucket index on the token's top bits;
  // check it against a search of the whole array for rings of every bucket count.
  base::Random rnd(test::TestSeed("RingLookup.SuccessorMatchesAPlainBinarySearchAtBucketEdges"));
  for (uint32_t vnodes : {1u, 2u, 3u, 7u, 64u, 1000u, 4096u}) {
    RingOptions options;
    options.vnodes_per_weight = vnodes;
    std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(vnodes == 4096 ? 20 : 2), options);
    std::vector<Token> tokens;
    for (size_t i = 0; i < ring->vnode_count(); ++i) tokens.push_back(ring->vnode_token(i));
    for (int probe = 0; probe < 5000; ++probe) {
      const int bits = 1 + static_cast<int>(rnd.Uniform(20));
      Token t = rnd.Next64();
      switch (probe % 5) {
        case 0: t = t >> bits << bits; break;                     // a bucket's first token
        case 1: t = (t >> bits << bits) - 1; break;               // the previous bucket's last
        case 2: t = tokens[rnd.Uniform(tokens.size())]; break;    // on a vnode
        case 3: t = tokens[rnd.Uniform(tokens.size())] + 1; break;
        default: break;
      }
      const auto it = std::lower_bound(tokens.begin(), tokens.end(), t);
      const size_t expected = it == tokens.end() ? 0 : static_cast<size_t>(it - tokens.begin());
      ASSERT_EQ(expected, ring->SuccessorVnode(t)) << "vnodes " << vnodes << " token " << t;
    }
  }
}

TEST(RingLookup, PreferenceListIsPrimaryThenNextDistinctNodesClockwise) {
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(5));
  for (const char* key : {"a", "b", "user:1", "user:2", ""}) {
    const Token t = TokenOf(key);
    const PreferenceList list = ring->PreferenceListForKey(key);
    ASSERT_EQ(3u, list.size());
    EXPECT_EQ(ring->Primary(t), &list[0]);
    // Without racks the list is exactly the first three distinct owners clockwise.
    std::vector<std::string> walk;
    for (size_t i = ring->SuccessorVnode(t); walk.size() < 3; i = (i + 1) % ring->vnode_count()) {
      const std::string& id = ring->vnode_owner(i).id;
      if (std::find(walk.begin(), walk.end(), id) == walk.end()) walk.push_back(id);
    }
    EXPECT_EQ(walk, Ids(list)) << key;
  }
}

TEST(RingLookup, FewerNodesThanNGivesEveryNode) {
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(2), WithSpec("3"));
  const PreferenceList list = ring->PreferenceListForKey("k");
  ASSERT_EQ(2u, list.size());
  EXPECT_NE(&list[0], &list[1]);
  EXPECT_EQ(1u, BuildRing(MakeNodes(1))->PreferenceListForKey("k").size());
}

TEST(RingLookup, AnotherSpecCanBeAskedPerLookup) {
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(6));
  const Token t = TokenOf("k");
  const PreferenceList three = ring->PreferenceListFor(t);
  const PreferenceList five = ring->PreferenceListFor(t, ReplicationSpec::Total(5));
  ASSERT_EQ(5u, five.size());
  for (size_t i = 0; i < three.size(); ++i) EXPECT_EQ(&three[i], &five[i]);
  EXPECT_EQ(3u, ring->PreferenceListFor(t, *ReplicationSpec::Parse("dc1:3,dc9:2")).size());
  EXPECT_EQ(0u, ring->PreferenceListFor(t, *ReplicationSpec::Parse("dc9:2")).size());
}

TEST(RingWalk, VisitsEveryNodeOnceStartingWithThePreferenceList) {
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(7));
  const Token t = TokenOf("walk");
  std::vector<std::string> seen;
  ring->WalkClockwise(t, [&](const NodeInfo& node) {
    seen.push_back(node.id);
    return true;
  });
  ASSERT_EQ(7u, seen.size());
  EXPECT_EQ(7u, std::set<std::string>(seen.begin(), seen.end()).size());
  const std::vector<std::string> replicas = Ids(ring->PreferenceListFor(t));
  EXPECT_EQ(replicas, std::vector<std::string>(seen.begin(), seen.begin() + 3));

  std::vector<std::string> past;
  ring->WalkPastPreferenceList(t, [&](const NodeInfo& node) {
    past.push_back(node.id);
    return past.size() < 2;  // a sloppy quorum needing two stand-ins stops here
  });
  EXPECT_EQ(std::vector<std::string>(seen.begin() + 3, seen.begin() + 5), past);
}

TEST(RingWalk, FallbacksSkipRackAwareReplicasWhereverTheyAre) {
  // Racks reorder the preference list; the walk past it must still skip exactly its members.
  std::vector<NodeInfo> nodes;
  for (int i = 1; i <= 8; ++i) nodes.push_back(MakeNode("n" + std::to_string(i), "dc1", i <= 6 ? "r1" : "r2"));
  std::shared_ptr<const Ring> ring = BuildRing(nodes);
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    const PreferenceList replicas = ring->PreferenceListForKey(key);
    const std::vector<std::string> ids = Ids(replicas);
    std::set<std::string> all(ids.begin(), ids.end());
    ring->WalkPastPreferenceList(TokenOf(key), [&](const NodeInfo& node) {
      EXPECT_FALSE(replicas.Contains(&node)) << node.id;
      EXPECT_TRUE(all.insert(node.id).second) << node.id;
      return true;
    });
    EXPECT_EQ(8u, all.size()) << key;
  }
}

}  // namespace
}  // namespace kvring::ring
