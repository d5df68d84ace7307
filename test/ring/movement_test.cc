// Minimal movement: a node's tokens depend on its own id only, so a join takes
// arcs from the others and moves keys only TO the joining node; a leave hands only
// the leaving node's arcs to their clockwise successors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
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

constexpr int kKeys = 100000;

std::vector<std::string> RandomKeys(const char* test_name) {
  base::Random rnd(test::TestSeed(test_name));
  std::vector<std::string> keys;
  keys.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) keys.push_back("user:" + std::to_string(rnd.Next64()));
  return keys;
}

TEST(Movement, AddingAnEleventhNodeMovesAboutOneEleventhOfKeysAllToIt) {
  const std::vector<std::string> keys = RandomKeys("Movement.AddingAnEleventhNodeMovesAboutOneEleventhOfKeysAllToIt");
  std::shared_ptr<const Ring> before = BuildRing(MakeNodes(10));
  std::shared_ptr<const Ring> after = BuildRing(MakeNodes(11));
  int moved = 0;
  for (const std::string& key : keys) {
    const Token t = TokenOf(key);
    const std::string& old_owner = before->Primary(t)->id;
    const std::string& new_owner = after->Primary(t)->id;
    if (old_owner == new_owner) continue;
    ++moved;
    ASSERT_EQ("n11", new_owner) << key << " moved between old nodes: " << old_owner << " -> " << new_owner;
  }
  const double fraction = static_cast<double>(moved) / kKeys;
  std::printf("add n11 to n1..n10: %.4f of %d keys moved (1/11 = %.4f)\n", fraction, kKeys, 1.0 / 11);
  EXPECT_GE(fraction, 0.07);
  EXPECT_LE(fraction, 0.11);
}

TEST(Movement, JoinChangesReplicaSetsOnlyByAddingTheNewNode) {
  std::shared_ptr<const Ring> before = BuildRing(MakeNodes(10));
  std::shared_ptr<const Ring> after = BuildRing(MakeNodes(11));
  base::Random rnd(test::TestSeed("Movement.JoinChangesReplicaSetsOnlyByAddingTheNewNode"));
  int changed = 0;
  for (int i = 0; i < 20000; ++i) {
    const Token t = rnd.Next64();
    const std::vector<std::string> old_ids = Ids(before->PreferenceListFor(t));
    const std::vector<std::string> new_ids = Ids(after->PreferenceListFor(t));
    if (new_ids == old_ids) continue;
    ++changed;
    // n11 entered the walk somewhere; the old replicas keep their order and the
    // last one drops out.
    std::vector<std::string> without = new_ids;
    without.erase(std::find(without.begin(), without.end(), "n11"));
    ASSERT_EQ(std::vector<std::string>(old_ids.begin(), old_ids.end() - 1), without);
  }
  // About N/11 of the key space gains n11 as a replica.
  EXPECT_GT(changed, 20000 * 0.2);
  EXPECT_LT(changed, 20000 * 0.35);
}

TEST(Movement, RemovingANodeMovesOnlyItsKeys) {
  const std::vector<std::string> keys = RandomKeys("Movement.RemovingANodeMovesOnlyItsKeys");
  std::vector<NodeInfo> nodes = MakeNodes(10);
  std::shared_ptr<const Ring> before = BuildRing(nodes);
  nodes.erase(nodes.begin() + 3);  // n4 leaves
  std::shared_ptr<const Ring> after = BuildRing(nodes);
  int moved = 0;
  for (const std::string& key : keys) {
    const Token t = TokenOf(key);
    const std::string& old_owner = before->Primary(t)->id;
    if (old_owner != "n4") {
      ASSERT_EQ(old_owner, after->Primary(t)->id) << key;
      continue;
    }
    ++moved;
    // A departed node's replica set loses it and gains the next node clockwise.
    std::vector<std::string> old_ids = Ids(before->PreferenceListFor(t));
    old_ids.erase(old_ids.begin());
    const std::vector<std::string> new_ids = Ids(after->PreferenceListFor(t));
    ASSERT_EQ(old_ids, std::vector<std::string>(new_ids.begin(), new_ids.end() - 1)) << key;
  }
  const double fraction = static_cast<double>(moved) / kKeys;
  std::printf("remove n4 from n1..n10: %.4f of keys moved (1/10 = 0.1000)\n", fraction);
  EXPECT_GT(fraction, 0.07);
  EXPECT_LT(fraction, 0.13);
}

TEST(Movement, RaisingAWeightOnlyMovesKeysToThatNode) {
  // A node's first 256 vnodes stay where they were when it grows to 512.
  std::vector<NodeInfo> nodes = MakeNodes(5);
  std::shared_ptr<const Ring> before = BuildRing(nodes);
  nodes[2].weight = 2.0;
  std::shared_ptr<const Ring> after = BuildRing(nodes);
  base::Random rnd(test::TestSeed("Movement.RaisingAWeightOnlyMovesKeysToThatNode"));
  int moved = 0;
  for (int i = 0; i < 20000; ++i) {
    const Token t = rnd.Next64();
    if (before->Primary(t)->id == after->Primary(t)->id) continue;
    ++moved;
    ASSERT_EQ("n3", after->Primary(t)->id);
  }
  // n3 goes from 1/5 to 2/6 of the ring: about 2/15 of keys move.
  EXPECT_GT(moved, 20000 * 0.09);
  EXPECT_LT(moved, 20000 * 0.18);
}

// With racks and DCs the walk skips and defers nodes, yet the same two properties
// hold for whole replica sets: a join only brings the new node in (it can push old
// replicas out, never pull another old node in), and a leave only changes the
// keys the leaver held. Checked over random topologies and specs.
TEST(Movement, RackAwareReplicaSetsOnlyGainTheJoinerAndOnlyLoseTheLeaver) {
  base::Random rnd(test::TestSeed("Movement.RackAwareReplicaSetsOnlyGainTheJoinerAndOnlyLoseTheLeaver"));
  for (int round = 0; round < 150; ++round) {
    RingOptions options;
    options.vnodes_per_weight = 1 + static_cast<uint32_t>(rnd.Uniform(64));
    options.replication = testing::RandomSpec(rnd);
    std::vector<NodeInfo> nodes = testing::RandomMembers(rnd);
    std::vector<NodeInfo> grown = nodes;
    const NodeInfo joiner = MakeNode("joiner", "dc" + std::to_string(1 + rnd.Uniform(3)),
                                     "r" + std::to_string(1 + rnd.Uniform(5)));
    grown.push_back(joiner);
    std::shared_ptr<const Ring> before = BuildRing(nodes, options);
    std::shared_ptr<const Ring> after = BuildRing(grown, options);
    const std::string context = "round " + std::to_string(round) + " spec " + options.replication.ToString();
    for (int probe = 0; probe < 100; ++probe) {
      const Token t = rnd.Next64();
      const PreferenceList old_list = before->PreferenceListFor(t);
      const PreferenceList new_list = after->PreferenceListFor(t);
      for (const NodeInfo* node : new_list) {
        ASSERT_TRUE(node->id == "joiner" || old_list.ContainsId(node->id))
            << context << ": join pulled " << node->id << " in: " << old_list.ToString() << " -> "
            << new_list.ToString();
      }
      // Read backwards: `after` minus the joiner is a leave of the joiner.
      if (!new_list.ContainsId("joiner")) {
        ASSERT_EQ(Ids(old_list), Ids(new_list)) << context << ": a leave changed a key the leaver did not hold";
      }
    }
  }
}

}  // namespace
}  // namespace kvring::ring
