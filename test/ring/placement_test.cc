// Preference lists under racks and datacenters: distinct physical nodes always,
// racks spread first, per-DC counts exact. The randomized test compares every list
// with a declarative model of the rule (docs/ring.md, "rack and DC rules").
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "ring/ring.h"
#include "test/ring/ring_test_util.h"
#include "test/util/test_util.h"

namespace kvring::ring {
namespace {

using testing::BuildRing;
using testing::Ids;
using testing::MakeNode;
using testing::WithSpec;

// Distinct physical nodes in clockwise order from t, found by a linear scan.
std::vector<const NodeInfo*> DistinctClockwise(const Ring& ring, Token t) {
  size_t start = 0;
  while (start < ring.vnode_count() && ring.vnode_token(start) < t) ++start;
  std::vector<const NodeInfo*> order;
  for (size_t k = 0; k < ring.vnode_count(); ++k) {
    const NodeInfo* node = &ring.vnode_owner((start + k) % ring.vnode_count());
    if (std::find(order.begin(), order.end(), node) == order.end()) order.push_back(node);
  }
  return order;
}

// The rule stated declaratively for one group (all nodes, or one DC): with `want`
// replicas and R racks, take the first node met of each rack ("rack leaders") in
// ring order; if want <= R the first `want` leaders, else all leaders plus the
// first want - R other nodes in ring order.
std::set<const NodeInfo*> ModelGroup(const std::vector<const NodeInfo*>& scope, size_t want) {
  std::set<std::string> racks;
  std::vector<const NodeInfo*> leaders, others;
  for (const NodeInfo* node : scope) {
    (racks.insert(node->dc + "/" + node->rack).second ? leaders : others).push_back(node);
  }
  want = std::min(want, scope.size());
  std::set<const NodeInfo*> chosen;
  for (size_t i = 0; i < leaders.size() && chosen.size() < want; ++i) chosen.insert(leaders[i]);
  for (size_t i = 0; i < others.size() && chosen.size() < want; ++i) chosen.insert(others[i]);
  return chosen;
}

void CheckAgainstModel(const Ring& ring, Token t, const std::string& context) {
  const PreferenceList list = ring.PreferenceListFor(t);
  const std::vector<std::string> ids = Ids(list);
  ASSERT_EQ(ids.size(), std::set<std::string>(ids.begin(), ids.end()).size()) << "duplicate node " << context;

  const std::vector<const NodeInfo*> order = DistinctClockwise(ring, t);
  const ReplicationSpec& spec = ring.replication();
  std::set<const NodeInfo*> expected;
  std::vector<const NodeInfo*> in_spec;
  if (!spec.per_dc()) {
    expected = ModelGroup(order, spec.total());
    in_spec = order;
  } else {
    for (const ReplicationSpec::DcFactor& f : spec.dcs()) {
      std::vector<const NodeInfo*> scope;
      for (const NodeInfo* node : order) {
        if (node->dc == f.dc) scope.push_back(node);
      }
      const std::set<const NodeInfo*> group = ModelGroup(scope, f.replicas);
      expected.insert(group.begin(), group.end());
      in_spec.insert(in_spec.end(), scope.begin(), scope.end());
    }
  }
  const std::set<const NodeInfo*> actual(list.begin(), list.end());
  ASSERT_EQ(expected, actual) << context << " got " << list.ToString();
  if (!list.empty()) {
    // The first replica is the first node met that the spec places replicas on.
    const auto first = std::find_if(order.begin(), order.end(), [&](const NodeInfo* node) {
      return std::find(in_spec.begin(), in_spec.end(), node) != in_spec.end();
    });
    ASSERT_EQ(*first, &list[0]) << context;
  }
}

TEST(Placement, RandomRingsMatchTheModelAndNeverRepeatANode) {
  const uint64_t seed = test::TestSeed("Placement.RandomRingsMatchTheModelAndNeverRepeatANode");
  base::Random rnd(seed);
  for (int round = 0; round < 300; ++round) {
    RingOptions options;
    options.vnodes_per_weight = 1 + static_cast<uint32_t>(rnd.Uniform(64));
    options.replication = testing::RandomSpec(rnd);
    std::shared_ptr<const Ring> ring = BuildRing(testing::RandomMembers(rnd), options);
    ASSERT_NE(nullptr, ring);
    const std::string context = "round " + std::to_string(round) + " spec " + options.replication.ToString() +
                                " nodes " + std::to_string(ring->node_count());
    for (int probe = 0; probe < 40; ++probe) {
      // Random tokens, and tokens right on and next to virtual nodes.
      Token t = rnd.Next64();
      if (probe % 4 == 1) t = ring->vnode_token(rnd.Uniform(ring->vnode_count()));
      if (probe % 4 == 2) t = ring->vnode_token(rnd.Uniform(ring->vnode_count())) + 1;
      ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(*ring, t, context));
    }
  }
}

TEST(Placement, ListHoldsNDistinctNodesFewerOnlyWhenFewerExist) {
  const uint64_t seed = test::TestSeed("Placement.ListHoldsNDistinctNodesFewerOnlyWhenFewerExist");
  base::Random rnd(seed);
  for (int round = 0; round < 200; ++round) {
    const int n = 1 + static_cast<int>(rnd.Uniform(5));
    std::shared_ptr<const Ring> ring = BuildRing(testing::RandomMembers(rnd), WithSpec(std::to_string(n)));
    const size_t expected = std::min<size_t>(n, ring->node_count());
    for (int probe = 0; probe < 50; ++probe) {
      const PreferenceList list = ring->PreferenceListFor(rnd.Next64());
      ASSERT_EQ(expected, list.size()) << "round " << round;
      const std::vector<std::string> ids = Ids(list);
      ASSERT_EQ(expected, std::set<std::string>(ids.begin(), ids.end()).size()) << "round " << round;
    }
  }
}

// Nodes named <prefix><i> spread over `racks` ("r1".."rK") by the counts given.
std::vector<NodeInfo> RackedNodes(const std::string& dc, const std::vector<int>& per_rack) {
  std::vector<NodeInfo> nodes;
  for (size_t r = 0; r < per_rack.size(); ++r) {
    for (int i = 0; i < per_rack[r]; ++i) {
      const std::string rack = "r" + std::to_string(r + 1);
      nodes.push_back(MakeNode(dc + "-" + rack + "-n" + std::to_string(i + 1), dc, rack));
    }
  }
  return nodes;
}

// Racks (dc/rack) of a list, and how many replicas each DC got.
std::set<std::string> RacksOf(const PreferenceList& list) {
  std::set<std::string> racks;
  for (const NodeInfo* node : list) racks.insert(node->dc + "/" + node->rack);
  return racks;
}
std::map<std::string, int> PerDc(const PreferenceList& list) {
  std::map<std::string, int> count;
  for (const NodeInfo* node : list) ++count[node->dc];
  return count;
}

TEST(RackSpread, ThreeRacksAndNThreeAlwaysUseThreeRacks) {
  for (const std::vector<int>& shape : {std::vector<int>{3, 3, 3}, std::vector<int>{1, 2, 6}, {2, 2, 2, 2}}) {
    std::shared_ptr<const Ring> ring = BuildRing(RackedNodes("dc1", shape), WithSpec("3"));
    for (int k = 0; k < 2000; ++k) {
      const PreferenceList list = ring->PreferenceListForKey("key" + std::to_string(k));
      ASSERT_EQ(3u, list.size());
      ASSERT_EQ(3u, RacksOf(list).size()) << list.ToString();
    }
  }
}

TEST(RackSpread, TwoRacksAndNThreeUseBothRacksThenRepeatOne) {
  std::shared_ptr<const Ring> ring = BuildRing(RackedNodes("dc1", {3, 3}), WithSpec("3"));
  for (int k = 0; k < 2000; ++k) {
    const PreferenceList list = ring->PreferenceListForKey("key" + std::to_string(k));
    ASSERT_EQ(3u, list.size());
    ASSERT_EQ(2u, RacksOf(list).size()) << list.ToString();
    // The first two replicas already cover both racks: the repeat comes last.
    EXPECT_NE(list[0].rack, list[1].rack) << list.ToString();
  }
}

TEST(DcSpread, PerDcSpecPlacesExactCountsOnDistinctRacks) {
  std::vector<NodeInfo> nodes = RackedNodes("dc1", {2, 2, 2});
  for (NodeInfo& node : RackedNodes("dc2", {3, 1})) nodes.push_back(node);
  std::shared_ptr<const Ring> ring = BuildRing(nodes, WithSpec("dc1:2,dc2:1"));
  for (int k = 0; k < 2000; ++k) {
    const PreferenceList list = ring->PreferenceListForKey("key" + std::to_string(k));
    ASSERT_EQ(3u, list.size());
    const std::map<std::string, int> per_dc = PerDc(list);
    ASSERT_EQ(2, per_dc.at("dc1")) << list.ToString();
    ASSERT_EQ(1, per_dc.at("dc2")) << list.ToString();
    ASSERT_EQ(3u, RacksOf(list).size()) << "the two dc1 replicas share a rack: " << list.ToString();
  }
}

TEST(DcSpread, ASingleRackDcStillGetsItsCount) {
  std::vector<NodeInfo> nodes = RackedNodes("dc1", {4});
  for (NodeInfo& node : RackedNodes("dc2", {1, 1, 1})) nodes.push_back(node);
  std::shared_ptr<const Ring> ring = BuildRing(nodes, WithSpec("dc1:2,dc2:2"));
  for (int k = 0; k < 500; ++k) {
    const PreferenceList list = ring->PreferenceListForKey("key" + std::to_string(k));
    const std::map<std::string, int> per_dc = PerDc(list);
    ASSERT_EQ(2, per_dc.at("dc1"));
    ASSERT_EQ(2, per_dc.at("dc2"));
    ASSERT_EQ(3u, RacksOf(list).size()) << list.ToString();  // dc1/r1 twice, two dc2 racks
  }
}

TEST(DcSpread, MissingOrSmallDcsReturnWhatExists) {
  std::vector<NodeInfo> nodes = RackedNodes("dc1", {1, 1});
  nodes.push_back(MakeNode("lonely", "dc2", "r1"));
  std::shared_ptr<const Ring> ring = BuildRing(nodes, WithSpec("dc1:3,dc2:2,dc3:1"));
  for (int k = 0; k < 200; ++k) {
    const PreferenceList list = ring->PreferenceListForKey("key" + std::to_string(k));
    ASSERT_EQ(3u, list.size()) << list.ToString();  // 2 of 3 in dc1, 1 of 2 in dc2, none in dc3
    EXPECT_TRUE(list.ContainsId("lonely"));
  }
}

TEST(DcSpread, EveryKeySurvivesTheLossOfAWholeDc) {
  std::vector<NodeInfo> nodes = RackedNodes("east", {2, 2});
  for (NodeInfo& node : RackedNodes("west", {2, 2})) nodes.push_back(node);
  std::shared_ptr<const Ring> ring = BuildRing(nodes, WithSpec("east:2,west:2"));
  for (int k = 0; k < 1000; ++k) {
    const std::map<std::string, int> per_dc = PerDc(ring->PreferenceListForKey("key" + std::to_string(k)));
    ASSERT_EQ(2, per_dc.at("east"));
    ASSERT_EQ(2, per_dc.at("west"));
  }
}

}  // namespace
}  // namespace kvring::ring
