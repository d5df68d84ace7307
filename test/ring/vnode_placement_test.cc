#include "ring/vnode_placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "ring/token.h"

namespace kvring::ring {
namespace {

constexpr Token kMax = std::numeric_limits<Token>::max();

TEST(VnodeCount, IsWeightTimesVnodesPerWeightRoundedAtLeastOne) {
  EXPECT_EQ(256u, VnodeCount(1.0, 256));
  EXPECT_EQ(512u, VnodeCount(2.0, 256));
  EXPECT_EQ(128u, VnodeCount(0.5, 256));
  EXPECT_EQ(384u, VnodeCount(1.5, 256));
  EXPECT_EQ(3u, VnodeCount(0.01, 256));  // 2.56 rounds to 3
  EXPECT_EQ(1u, VnodeCount(0.001, 256));
  EXPECT_EQ(16384u, VnodeCount(64.0, 256));
}

TEST(PlaceVnodes, PlacesEachNodesVnodesAtItsIdHashes) {
  std::vector<NodeInfo> nodes(2);
  nodes[0].id = "a";
  nodes[1].id = "b";
  nodes[1].weight = 2;
  const VnodeLayout layout = PlaceVnodes(nodes, 4);
  ASSERT_EQ(12u, layout.tokens.size());
  ASSERT_EQ(12u, layout.owners.size());
  EXPECT_TRUE(std::is_sorted(layout.tokens.begin(), layout.tokens.end()));
  EXPECT_EQ(4, std::count(layout.owners.begin(), layout.owners.end(), 0u));
  EXPECT_EQ(8, std::count(layout.owners.begin(), layout.owners.end(), 1u));
  for (uint32_t k = 0; k < 8; ++k) {
    auto it = std::find(layout.tokens.begin(), layout.tokens.end(), VnodeToken("b", k));
    ASSERT_NE(layout.tokens.end(), it) << k;
    EXPECT_EQ(1u, layout.owners[it - layout.tokens.begin()]);
  }
}

TEST(ResolveVnodes, EqualTokensKeepOrderByNodeThenIndexAndMoveUpByOne) {
  // Three candidates on token 100 and one on 101: the lowest (node, index) keeps
  // 100, the others take the next free tokens above.
  const VnodeLayout layout = ResolveVnodes({{100, 2, 0}, {101, 0, 5}, {100, 1, 7}, {100, 1, 3}, {50, 2, 1}});
  EXPECT_EQ((std::vector<Token>{50, 100, 101, 102, 103}), layout.tokens);
  EXPECT_EQ((std::vector<uint32_t>{2, 1, 1, 2, 0}), layout.owners);
}

TEST(ResolveVnodes, ResultDoesNotDependOnCandidateOrder) {
  std::vector<VnodeCandidate> candidates = {{7, 0, 0}, {7, 1, 0}, {8, 1, 1}, {3, 0, 1}, {7, 2, 4}, {kMax, 0, 2}};
  const VnodeLayout expected = ResolveVnodes(candidates);
  std::sort(candidates.begin(), candidates.end(),
            [](const VnodeCandidate& a, const VnodeCandidate& b) { return a.node > b.node; });
  do {
    const VnodeLayout layout = ResolveVnodes(candidates);
    EXPECT_EQ(expected.tokens, layout.tokens);
    EXPECT_EQ(expected.owners, layout.owners);
  } while (std::next_permutation(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return std::tie(a.token, a.node, a.index) < std::tie(b.token, b.node, b.index);
  }));
}

TEST(ResolveVnodes, CollisionAtTheTopTokenIsDroppedNotWrapped) {
  const VnodeLayout layout = ResolveVnodes({{kMax, 1, 0}, {kMax, 0, 0}, {0, 2, 0}});
  EXPECT_EQ((std::vector<Token>{0, kMax}), layout.tokens);
  EXPECT_EQ((std::vector<uint32_t>{2, 0}), layout.owners);
}

}  // namespace
}  // namespace kvring::ring
