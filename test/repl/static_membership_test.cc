// In-process tests of repl::StaticMembership over the fake network
// (test/util/fake_transport.h): nodes chained by their seeds learn every member
// transitively through MEMBER_INFO (answered as node/node_service.cc does, with
// StaticMembership::OnMemberInfo), persist what they learned in their members
// file on a FaultEnv, reload it after a restart (and a power cut) while every
// seed is down, and all compute the same ring. A malformed members file is a
// Corruption naming the file and the line.
#include "repl/static_membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "repl/messages.h"
#include "ring/membership_view.h"
#include "test/util/fake_transport.h"

namespace kvring::repl {
namespace {

using base::Status;

constexpr uint64_t kTimeoutMs = 500;

std::string Address(int i) { return "10.0.0." + std::to_string(i) + ":7000"; }

ring::RingOptions Options() {
  ring::RingOptions o;
  o.replication = ring::ReplicationSpec::Total(3);
  return o;
}

// One simulated node: its data directory on its own FaultEnv, its ring and its membership.
struct MemberNode {
  ring::NodeInfo self;
  std::vector<std::string> seeds;
  base::FaultEnv env;
  std::unique_ptr<ring::RingHolder> view;
  std::unique_ptr<StaticMembership> membership;
  test::FakeEndpoint* endpoint = nullptr;

  std::string members_path() const { return "/" + self.id + "/members"; }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& n : membership->members()) out.push_back(n.id);
    return out;
  }
};

class StaticMembershipTest : public ::testing::Test {
 protected:
  // Node i has id n<i>; its seed list is `seeds` (node numbers).
  MemberNode* AddNode(int i, std::vector<int> seeds) {
    auto node = std::make_unique<MemberNode>();
    node->self.id = "n" + std::to_string(i);
    node->self.address = Address(i);
    node->self.rack = "rack" + std::to_string(1 + i % 2);
    for (int s : seeds) node->seeds.push_back(Address(s));
    EXPECT_TRUE(node->env.CreateDir("/" + node->self.id).ok());
    node->endpoint = net_.Endpoint(node->self.address);
    MemberNode* raw = node.get();
    // MEMBER_INFO as node/node_service.cc answers it.
    node->endpoint->SetHandler([raw](uint8_t opcode, std::string_view body, test::FakeReply reply) {
      if (opcode != Op(ClusterOpcode::kMemberInfo)) return reply(Status::NotSupported("unknown opcode"), {});
      ring::NodeInfo peer;
      if (!DecodeMember(&body, &peer) || !body.empty()) {
        return reply(Status::InvalidArgument("malformed MEMBER_INFO body"), {});
      }
      std::string payload;
      EncodeMemberList(&payload, raw->membership->OnMemberInfo(peer));
      reply(Status::OK(), payload);
    });
    nodes_.push_back(std::move(node));
    return raw;
  }

  // A start of the node: a fresh ring and membership over its data directory.
  Status Boot(MemberNode* node) {
    node->view = std::make_unique<ring::RingHolder>(Options());
    node->membership = std::make_unique<StaticMembership>(node->self, node->seeds, node->view.get(), node->endpoint,
                                                          &node->env, node->members_path(), base::Logger::Null());
    return node->membership->Load();
  }

  // Polling rounds (every node asks its seeds and members once) until every
  // node knows `want` members; returns the rounds it took (0: never, in 10).
  int PollUntilEveryoneKnows(size_t want) {
    for (int round = 1; round <= 10; ++round) {
      for (auto& n : nodes_) n->membership->Poll(kTimeoutMs);
      net_.RunUntilIdle();
      bool all = true;
      for (auto& n : nodes_) all = all && n->membership->members().size() == want;
      if (all) return round;
    }
    return 0;
  }

  test::FakeNetwork net_;
  std::vector<std::unique_ptr<MemberNode>> nodes_;
};

const std::vector<std::string> kAllIds = {"n1", "n2", "n3", "n4", "n5"};

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(StaticMembershipTest, ANodeLearnsEveryMemberFromOneSeedTransitively) {
  // A chain: n1 has no seed, each other node knows only the one before it.
  AddNode(1, {});
  for (int i = 2; i <= 5; ++i) AddNode(i, {i - 1});
  for (auto& n : nodes_) ASSERT_TRUE(Boot(n.get()).ok());
  EXPECT_EQ((std::vector<std::string>{"n5"}), nodes_[4]->ids()) << "a first start knows only itself";
  EXPECT_EQ(1u, nodes_[4]->view->Current()->node_count());
  const int rounds = PollUntilEveryoneKnows(5);
  ASSERT_GT(rounds, 0) << "membership did not converge in 10 rounds";
  for (auto& n : nodes_) {
    EXPECT_EQ(kAllIds, Sorted(n->ids())) << n->self.id;
    EXPECT_EQ(n->self.id, n->ids().front()) << "members() lists the node itself first";
    EXPECT_TRUE(n->membership->seeds_answered()) << n->self.id;
    EXPECT_EQ(5u, n->view->Current()->node_count()) << n->self.id;
  }
  // n5's only seed is n4: it learned n1 from the others, and asks it directly now.
  EXPECT_GT(net_.Endpoint(Address(1))->received(Op(ClusterOpcode::kMemberInfo)), 0u);
}

TEST_F(StaticMembershipTest, EveryNodeComputesTheSameRing) {
  AddNode(1, {});
  for (int i = 2; i <= 5; ++i) AddNode(i, {1 + (i % 2)});  // seeds n1 or n2
  for (auto& n : nodes_) ASSERT_TRUE(Boot(n.get()).ok());
  ASSERT_GT(PollUntilEveryoneKnows(5), 0);
  auto reference = ring::RingHolder::Create(nodes_[0]->membership->members(), Options());
  ASSERT_TRUE(reference.ok());
  const auto expected = (*reference)->Current();
  for (auto& n : nodes_) {
    const auto ring = n->view->Current();
    EXPECT_EQ(expected->Fingerprint(), ring->Fingerprint()) << n->self.id;
    EXPECT_GE(ring->version(), 1u);
    for (int k = 0; k < 1000; ++k) {
      const std::string key = "key-" + std::to_string(k);
      std::vector<std::string> want, got;
      for (const ring::NodeInfo* r : expected->PreferenceListForKey(key)) want.push_back(r->id);
      for (const ring::NodeInfo* r : ring->PreferenceListForKey(key)) got.push_back(r->id);
      ASSERT_EQ(want, got) << n->self.id << " places " << key << " elsewhere";
    }
  }
}

TEST_F(StaticMembershipTest, TheMembersFileListsEveryOtherMemberOneALine) {
  AddNode(1, {});
  AddNode(2, {1});
  AddNode(3, {1});
  for (auto& n : nodes_) ASSERT_TRUE(Boot(n.get()).ok());
  ASSERT_GT(PollUntilEveryoneKnows(3), 0);
  std::string text;
  ASSERT_TRUE(nodes_[1]->env.ReadRaw("/n2/members", &text).ok());
  EXPECT_EQ(
      "n1 10.0.0.1:7000 dc1 rack2 1.000000\n"
      "n3 10.0.0.3:7000 dc1 rack2 1.000000\n",
      text);
}

TEST_F(StaticMembershipTest, ARestartedNodeReloadsItsMembersAfterAPowerCutWhileItsSeedsAreDown) {
  AddNode(1, {});
  for (int i = 2; i <= 5; ++i) AddNode(i, {i - 1});
  for (auto& n : nodes_) ASSERT_TRUE(Boot(n.get()).ok());
  ASSERT_GT(PollUntilEveryoneKnows(5), 0);
  MemberNode* n5 = nodes_[4].get();
  const uint64_t fingerprint = n5->view->Current()->Fingerprint();
  const std::vector<ring::NodeInfo> before = n5->membership->members();
  // n5 dies with the power; every other node is down when it comes back.
  n5->membership.reset();
  n5->env.SimulatePowerLoss();
  for (int i = 1; i <= 4; ++i) net_.SetDown(Address(i));
  ASSERT_TRUE(Boot(n5).ok());
  EXPECT_EQ(before, n5->membership->members()) << "the members file must survive the power cut";
  EXPECT_EQ(fingerprint, n5->view->Current()->Fingerprint()) << "it places keys as before";
  n5->membership->Poll(kTimeoutMs);
  net_.RunUntilIdle();
  EXPECT_EQ(before, n5->membership->members()) << "unreachable seeds change nothing";
  EXPECT_FALSE(n5->membership->seeds_answered());
  EXPECT_GT(net_.stats().refused, 0u);
}

TEST_F(StaticMembershipTest, AMalformedMembersFileIsACorruptionNamingTheFileAndLine) {
  MemberNode* n1 = AddNode(1, {});
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"n2 10.0.0.2:7000 dc1 rack1 1\nn3 10.0.0.3:7000 dc1\n", "/n1/members:2: malformed member line"},
      {"n2 10.0.0.2:7000 dc1 rack1 heavy\n", "/n1/members:1: malformed member line"},
      {"\nn2 10.0.0.2:7000 dc1 rack1 1\n\nn3\n", "/n1/members:4: malformed member line"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(base::WriteStringToFileAtomic(&n1->env, c.text, n1->members_path()).ok());
    Status s = Boot(n1);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(c.message, s.message());
  }
}

// Found by this test: a node whose members file was malformed published no ring
// at all (node.cc logs "starting from the seeds alone"), so until a seed
// answered, and forever without seeds, it placed no key, not even on itself.
TEST_F(StaticMembershipTest, ANodeWithAMalformedMembersFileStartsFromItselfAndItsSeeds) {
  AddNode(1, {});
  MemberNode* n2 = AddNode(2, {1});
  ASSERT_TRUE(Boot(nodes_[0].get()).ok());
  ASSERT_TRUE(base::WriteStringToFileAtomic(&n2->env, "n9 garbage\n", n2->members_path()).ok());
  EXPECT_TRUE(Boot(n2).IsCorruption());
  EXPECT_EQ((std::vector<std::string>{"n2"}), n2->ids());
  ASSERT_EQ(1u, n2->view->Current()->node_count()) << "the node must at least place keys on itself";
  EXPECT_EQ("n2", n2->view->Current()->nodes()[0].id);
  ASSERT_GT(PollUntilEveryoneKnows(2), 0);
  EXPECT_EQ(2u, n2->view->Current()->node_count());
}

}  // namespace
}  // namespace kvring::repl
