#include "ring/membership_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test/ring/ring_test_util.h"

namespace kvring::ring {
namespace {

using testing::MakeNodes;

TEST(RingHolder, StartsEmptyAtVersionZero) {
  RingHolder holder;
  ASSERT_NE(nullptr, holder.Current());
  EXPECT_EQ(0u, holder.version());
  EXPECT_EQ(0u, holder.Current()->node_count());
  EXPECT_TRUE(holder.Current()->PreferenceListForKey("k").empty());
}

TEST(RingHolder, UpdatePublishesANewRingAndBumpsTheVersion) {
  base::Result<std::unique_ptr<RingHolder>> holder = RingHolder::Create(MakeNodes(3));
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  MembershipView& view = **holder;
  EXPECT_EQ(1u, view.version());
  const std::shared_ptr<const Ring> before = view.Current();
  const PreferenceList old_list = before->PreferenceListForKey("k");

  ASSERT_TRUE(view.Update(MakeNodes(5)).ok());
  EXPECT_EQ(2u, view.version());
  EXPECT_EQ(5u, view.Current()->node_count());
  EXPECT_EQ(2u, view.Current()->version());
  // A reader that loaded the old ring keeps a consistent, living value.
  EXPECT_EQ(3u, before->node_count());
  EXPECT_EQ(1u, before->version());
  EXPECT_EQ(3u, old_list.size());
  EXPECT_FALSE(old_list[0].id.empty());
}

TEST(RingHolder, SameMembersInAnotherOrderChangeNothing) {
  std::unique_ptr<RingHolder> holder = std::move(*RingHolder::Create(MakeNodes(4)));
  const std::shared_ptr<const Ring> before = holder->Current();
  std::vector<NodeInfo> reversed = MakeNodes(4);
  std::reverse(reversed.begin(), reversed.end());
  ASSERT_TRUE(holder->Update(reversed).ok());
  EXPECT_EQ(1u, holder->version());
  EXPECT_EQ(before, holder->Current());
  // A changed label is a change.
  reversed[0].rack = "rack9";
  ASSERT_TRUE(holder->Update(reversed).ok());
  EXPECT_EQ(2u, holder->version());
}

TEST(RingHolder, APendingChangePublishesATransitionFromTheRingInForceUntilItEnds) {
  std::unique_ptr<RingHolder> holder = std::move(*RingHolder::Create(MakeNodes(3)));
  EXPECT_EQ(nullptr, holder->Transition());
  const std::shared_ptr<const Ring> in_force = holder->Current();

  ASSERT_TRUE(holder->Update(MakeNodes(3), MakeNodes(4), "").ok());
  const std::shared_ptr<const RingTransition> t = holder->Transition();
  ASSERT_NE(nullptr, t);
  EXPECT_EQ(in_force, holder->Current());  // the members in force did not change
  EXPECT_EQ(in_force, t->from_ring());
  EXPECT_EQ(4u, t->to().node_count());
  EXPECT_FALSE(t->moves().empty());
  // The same change again publishes nothing new.
  ASSERT_TRUE(holder->Update(MakeNodes(3), MakeNodes(4), "").ok());
  EXPECT_EQ(t, holder->Transition());

  // The joiner becomes a member in force: the change is over.
  ASSERT_TRUE(holder->Update(MakeNodes(4), MakeNodes(4), "").ok());
  EXPECT_EQ(nullptr, holder->Transition());
  EXPECT_EQ(4u, holder->Current()->node_count());
  EXPECT_EQ(2u, holder->version());
}

TEST(RingHolder, InvalidUpdateKeepsTheCurrentRing) {
  std::unique_ptr<RingHolder> holder = std::move(*RingHolder::Create(MakeNodes(3)));
  std::vector<NodeInfo> bad = MakeNodes(4);
  bad[3].id = "n1";
  base::Status s = holder->Update(bad);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(std::string::npos, s.message().find("membership update to version 2")) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("\"n1\" appears twice")) << s.ToString();
  EXPECT_EQ(1u, holder->version());
  EXPECT_EQ(3u, holder->Current()->node_count());
}

TEST(RingHolder, CreateRejectsBadMembersAndOptions) {
  std::vector<NodeInfo> nodes = MakeNodes(2);
  nodes[1].weight = -1;
  EXPECT_FALSE(RingHolder::Create(nodes).ok());
  RingOptions options;
  options.vnodes_per_weight = kMaxVnodesPerWeight + 1;
  EXPECT_FALSE(RingHolder::Create(MakeNodes(2), options).ok());
}

TEST(RingHolder, ReadersSeeWholeRingsWhileMembershipChanges) {
  std::unique_ptr<RingHolder> holder = std::move(*RingHolder::Create(MakeNodes(3)));
  std::atomic<bool> stop{false};
  std::atomic<int> lookups{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last_version = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::shared_ptr<const Ring> ring = holder->Current();
        // Versions only move forward, and each ring is internally consistent:
        // version v was built from v + 2 members (see the writer below).
        EXPECT_GE(ring->version(), last_version);
        last_version = ring->version();
        EXPECT_EQ(ring->version() + 2, ring->node_count());
        EXPECT_EQ(std::min<size_t>(3, ring->node_count()), ring->PreferenceListForKey("k").size());
        lookups.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int n = 4; n <= 40; ++n) ASSERT_TRUE(holder->Update(MakeNodes(n)).ok());
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(38u, holder->version());
  EXPECT_GT(lookups.load(), 0);
}

}  // namespace
}  // namespace kvring::ring
