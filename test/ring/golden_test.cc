// Determinism: every process must place every key identically, whatever order the
// members were listed in, and a new version must not silently re-place data that
// is already on disk (the engine orders keys by token). The golden values below
// were computed once and pinned: if one changes, data moves between versions —
// make that a deliberate, documented format change, not an accident.
#include <gtest/gtest.h>

#include <algorithm>
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
using testing::MakeNodes;
using testing::WithSpec;

// Nine nodes over two DCs and five racks, used by the rack/DC golden lists.
std::vector<NodeInfo> TwoDcMembers() {
  std::vector<NodeInfo> nodes;
  const char* east_racks[] = {"r1", "r1", "r1", "r2", "r2", "r3"};
  for (int i = 0; i < 6; ++i) nodes.push_back(MakeNode("a" + std::to_string(i + 1), "east", east_racks[i]));
  for (int i = 0; i < 3; ++i) nodes.push_back(MakeNode("b" + std::to_string(i + 1), "west", i < 2 ? "r1" : "r2"));
  return nodes;
}

void ExpectSameRing(const Ring& a, const Ring& b) {
  ASSERT_EQ(a.vnode_count(), b.vnode_count());
  for (size_t i = 0; i < a.vnode_count(); ++i) {
    ASSERT_EQ(a.vnode_token(i), b.vnode_token(i)) << i;
    ASSERT_EQ(a.vnode_owner(i).id, b.vnode_owner(i).id) << i;
  }
  EXPECT_EQ(a.Fingerprint(), b.Fingerprint());
}

TEST(Determinism, ShuffledMemberListsBuildTheSameRing) {
  base::Random rnd(test::TestSeed("Determinism.ShuffledMemberListsBuildTheSameRing"));
  std::vector<NodeInfo> nodes = TwoDcMembers();
  for (NodeInfo& node : MakeNodes(20, "x")) nodes.push_back(node);
  nodes[3].weight = 1.5;
  const RingOptions options = WithSpec("east:2,west:1");
  std::shared_ptr<const Ring> reference = BuildRing(nodes, options);
  for (int round = 0; round < 10; ++round) {
    for (size_t i = nodes.size() - 1; i > 0; --i) std::swap(nodes[i], nodes[rnd.Uniform(i + 1)]);
    std::shared_ptr<const Ring> shuffled = BuildRing(nodes, options);
    ASSERT_NO_FATAL_FAILURE(ExpectSameRing(*reference, *shuffled));
    for (int k = 0; k < 200; ++k) {
      const Token t = rnd.Next64();
      ASSERT_EQ(Ids(reference->PreferenceListFor(t)), Ids(shuffled->PreferenceListFor(t)));
    }
  }
}

TEST(Determinism, FingerprintSeesEveryPlacementInput) {
  const std::vector<NodeInfo> nodes = MakeNodes(4);
  const uint64_t base = BuildRing(nodes)->Fingerprint();
  std::vector<NodeInfo> changed = nodes;
  changed[1].rack = "rack2";
  EXPECT_NE(base, BuildRing(changed)->Fingerprint());
  changed = nodes;
  changed[2].weight = 2;
  EXPECT_NE(base, BuildRing(changed)->Fingerprint());
  changed = nodes;
  changed[0].address = "elsewhere:1";
  EXPECT_NE(base, BuildRing(changed)->Fingerprint());
  EXPECT_NE(base, BuildRing(nodes, WithSpec("2"))->Fingerprint());
  RingOptions fewer;
  fewer.vnodes_per_weight = 128;
  EXPECT_NE(base, BuildRing(nodes, fewer)->Fingerprint());
  EXPECT_EQ(base, BuildRing(nodes)->Fingerprint());
}

TEST(Golden, KeyAndVnodeTokensArePinned) {
  EXPECT_EQ(0xef46db3751d8e999ull, TokenOf(""));
  EXPECT_EQ(0x26c7827d889f6da3ull, TokenOf("hello"));
  EXPECT_EQ(0xdc1fea7da8d2d1c2ull, TokenOf("user:42"));
  EXPECT_EQ(0xd894fa02c36ac9deull, VnodeToken("n1", 0));
  EXPECT_EQ(0x41fee4f758b5fca0ull, VnodeToken("n2", 255));
}

TEST(Golden, FiveNodeRingIsPinned) {
  std::shared_ptr<const Ring> ring = BuildRing(MakeNodes(5));
  ASSERT_EQ(1280u, ring->vnode_count());
  EXPECT_EQ(0x004f167faf702259ull, ring->vnode_token(0));
  EXPECT_EQ("n4", ring->vnode_owner(0).id);
  EXPECT_EQ(0xffa353b05e9e2838ull, ring->vnode_token(1279));
  EXPECT_EQ("n3", ring->vnode_owner(1279).id);
  EXPECT_EQ(0xba9987d422880f04ull, ring->Fingerprint());
  using V = std::vector<std::string>;
  EXPECT_EQ((V{"n3", "n2", "n5"}), Ids(ring->PreferenceListForKey("apple")));
  EXPECT_EQ((V{"n5", "n2", "n4"}), Ids(ring->PreferenceListForKey("banana")));
  EXPECT_EQ((V{"n1", "n2", "n4"}), Ids(ring->PreferenceListForKey("cherry")));
  EXPECT_EQ((V{"n3", "n5", "n2"}), Ids(ring->PreferenceListForKey("user:42")));
}

TEST(Golden, RackAndDcAwareListsArePinned) {
  using V = std::vector<std::string>;
  std::shared_ptr<const Ring> per_dc = BuildRing(TwoDcMembers(), WithSpec("east:2,west:1"));
  EXPECT_EQ(0xb44e57b284bd2ef2ull, per_dc->Fingerprint());
  EXPECT_EQ((V{"a6", "b3", "a2"}), Ids(per_dc->PreferenceListForKey("apple")));
  EXPECT_EQ((V{"b3", "a3", "a4"}), Ids(per_dc->PreferenceListForKey("banana")));
  EXPECT_EQ((V{"a5", "a3", "b3"}), Ids(per_dc->PreferenceListForKey("cherry")));
  EXPECT_EQ((V{"a1", "a4", "b1"}), Ids(per_dc->PreferenceListForKey("user:42")));

  std::shared_ptr<const Ring> total = BuildRing(TwoDcMembers(), WithSpec("3"));
  EXPECT_EQ((V{"b3", "b2", "a3"}), Ids(total->PreferenceListForKey("banana")));
  EXPECT_EQ((V{"a1", "a4", "b1"}), Ids(total->PreferenceListForKey("user:42")));
}

}  // namespace
}  // namespace kvring::ring
