#include "ring/ownership.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "base/random.h"
#include "test/ring/ring_test_util.h"
#include "test/util/test_util.h"

namespace kvring::ring {
namespace {

using testing::BuildRing;
using testing::MakeNode;
using testing::MakeNodes;
using testing::WithSpec;

double Sum(const std::vector<TokenRange>& ranges) {
  double total = 0;
  for (const TokenRange& r : ranges) total += r.Fraction();
  return total;
}

bool AnyContains(const std::vector<TokenRange>& ranges, Token t) {
  for (const TokenRange& r : ranges) {
    if (r.Contains(t)) return true;
  }
  return false;
}

TEST(Ownership, SharesAddUpToOneAndToN) {
  const OwnershipReport report = ComputeOwnership(*BuildRing(MakeNodes(7)));
  ASSERT_EQ(7u, report.nodes.size());
  double primary = 0, replica = 0;
  for (const NodeOwnership& o : report.nodes) {
    EXPECT_EQ(256u, o.vnodes);
    EXPECT_GT(o.primary, 0);
    EXPECT_GE(o.replica, o.primary);  // a node replicates at least what it is primary for
    primary += o.primary;
    replica += o.replica;
  }
  EXPECT_NEAR(1.0, primary, 1e-9);
  EXPECT_NEAR(3.0, replica, 1e-9);
  ASSERT_EQ(1u, report.dcs.size());
  EXPECT_NEAR(1.0, report.dcs[0].primary, 1e-9);
  EXPECT_NEAR(1.0, report.dcs[0].replica, 1e-9);
  EXPECT_NEAR(3.0, report.dcs[0].replicas_per_key, 1e-9);
}

TEST(Ownership, PerDcSpecGivesEachDcItsCopies) {
  std::vector<NodeInfo> nodes;
  for (int i = 1; i <= 4; ++i) nodes.push_back(MakeNode("e" + std::to_string(i), "east", "r" + std::to_string(i % 2)));
  for (int i = 1; i <= 3; ++i) nodes.push_back(MakeNode("w" + std::to_string(i), "west"));
  nodes.push_back(MakeNode("s1", "south"));
  const OwnershipReport report = ComputeOwnership(*BuildRing(nodes, WithSpec("east:2,west:1")));
  ASSERT_EQ(3u, report.dcs.size());
  EXPECT_EQ("east", report.dcs[0].dc);
  EXPECT_NEAR(2.0, report.dcs[0].replicas_per_key, 1e-9);
  EXPECT_NEAR(1.0, report.dcs[0].replica, 1e-9);
  EXPECT_EQ("south", report.dcs[1].dc);
  EXPECT_NEAR(0.0, report.dcs[1].replica, 1e-9);  // no replicas asked for there
  EXPECT_GT(report.dcs[1].primary, 0.05);         // though it owns tokens
  EXPECT_NEAR(1.0, report.dcs[2].replicas_per_key, 1e-9);
  double primary = 0;
  for (const DcOwnership& dc : report.dcs) primary += dc.primary;
  EXPECT_NEAR(1.0, primary, 1e-9);
}

TEST(Ownership, ReplicatedRangesMatchPreferenceLists) {
  base::Random rnd(test::TestSeed("Ownership.ReplicatedRangesMatchPreferenceLists"));
  std::vector<NodeInfo> nodes = MakeNodes(6);
  nodes[4].rack = "rack2";
  std::shared_ptr<const Ring> ring = BuildRing(nodes);
  const OwnershipReport report = ComputeOwnership(*ring);
  for (const NodeOwnership& o : report.nodes) {
    const std::vector<TokenRange> ranges = RangesReplicatedBy(*ring, o.node.id);
    const std::vector<TokenRange> primary = PrimaryRangesOf(*ring, o.node.id);
    EXPECT_NEAR(o.replica, Sum(ranges), 1e-9) << o.node.id;
    EXPECT_NEAR(o.primary, Sum(primary), 1e-9) << o.node.id;
    // Merged: no two ranges touch.
    for (size_t i = 1; i < ranges.size(); ++i) EXPECT_NE(ranges[i - 1].end, ranges[i].start);
    for (int k = 0; k < 2000; ++k) {
      Token t = rnd.Next64();
      if (k % 3 == 0) t = ranges[rnd.Uniform(ranges.size())].end + (k % 2);  // range edges
      ASSERT_EQ(ring->PreferenceListFor(t).ContainsId(o.node.id), AnyContains(ranges, t)) << o.node.id << " " << t;
      ASSERT_EQ(ring->Primary(t)->id == o.node.id, AnyContains(primary, t)) << o.node.id << " " << t;
    }
  }
}

TEST(Ownership, ANodeHoldingEverythingHasOneFullRange) {
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(3));  // N = 3 of 3
  const std::vector<TokenRange> ranges = RangesReplicatedBy(*ring, "n2");
  ASSERT_EQ(1u, ranges.size());
  EXPECT_TRUE(ranges[0].full());
  EXPECT_TRUE(RangesReplicatedBy(*ring, "nobody").empty());

  RingOptions one_vnode;
  one_vnode.vnodes_per_weight = 1;
  std::shared_ptr<const Ring> single = BuildRing(MakeNodes(1), one_vnode);
  const std::vector<TokenRange> all = PrimaryRangesOf(*single, "n1");
  ASSERT_EQ(1u, all.size());
  EXPECT_TRUE(all[0].full());
  EXPECT_DOUBLE_EQ(1.0, ComputeOwnership(*single).nodes[0].primary);
}

TEST(Ownership, WrappingRangeIsJoinedAcrossZero) {
  // Two nodes with one vnode each: each owns one arc; one of them wraps past 2^64-1.
  RingOptions options;
  options.vnodes_per_weight = 1;
  options.replication = ReplicationSpec::Total(1);
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(2), options);
  const std::string& low = ring->vnode_owner(0).id;  // owns (token1, token0]: wraps
  const std::vector<TokenRange> ranges = RangesReplicatedBy(*ring, low);
  ASSERT_EQ(1u, ranges.size());
  EXPECT_TRUE(ranges[0].wraps());
  EXPECT_EQ(ring->vnode_token(1), ranges[0].start);
  EXPECT_EQ(ring->vnode_token(0), ranges[0].end);
  EXPECT_TRUE(ranges[0].Contains(0));
  EXPECT_TRUE(ranges[0].Contains(std::numeric_limits<Token>::max()));
}

}  // namespace
}  // namespace kvring::ring
