// Gossip membership (repl/gossip.h) in-process, over the seeded fake network:
// nodes that know one seed learn everyone and build the same ring; what a node
// learned is persisted and reloaded; a restarted member's new generation replaces
// its old state however high the old heartbeat; a node of another cluster is
// refused; heartbeats feed the failure detector; statuses of a membership change
// give every node the same ring in transition; a node knows which members have
// heard of its status change (and never counts one that has not).
#include "repl/gossip.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "repl/messages.h"
#include "test/util/fake_transport.h"

namespace kvring::repl {
namespace {

using base::Status;

ring::NodeInfo Node(int i) { return ring::NodeInfo{"n" + std::to_string(i), "10.0.0." + std::to_string(i) + ":7000"}; }

struct GossipNode {
  ring::NodeInfo info;
  std::unique_ptr<ring::RingHolder> ring = std::make_unique<ring::RingHolder>();
  std::unique_ptr<FailureDetector> detector;
  std::unique_ptr<Gossiper> gossip;
  test::FakeEndpoint* endpoint = nullptr;
};

class GossipTest : public ::testing::Test {
 protected:
  GossipTest() : net_(test::FakeNetworkOptions{.seed = 7}) { EXPECT_TRUE(env_.CreateDir("/data").ok()); }

  // Node i with the given seeds (addresses) and cluster name.
  GossipNode& Add(int i, std::vector<std::string> seeds, std::string cluster = "kvring", uint64_t generation = 1) {
    auto n = std::make_unique<GossipNode>();
    n->info = Node(i);
    n->detector = std::make_unique<FailureDetector>(net_.clock(), DetectorOptions(), n->info.id);
    n->endpoint = net_.Endpoint(n->info.address);
    GossipOptions o;
    o.cluster = std::move(cluster);
    o.self = n->info;
    o.generation = generation;
    o.seeds = std::move(seeds);
    o.members_path = "/data/" + n->info.id + "-members";
    o.seed = static_cast<uint64_t>(i);
    n->gossip = std::make_unique<Gossiper>(o, n->ring.get(), n->detector.get(), n->endpoint, &env_, net_.clock(),
                                           base::Logger::Null());
    GossipNode* raw = n.get();
    n->endpoint->SetHandler([raw](uint8_t opcode, std::string_view body, test::FakeReply reply) {
      if (opcode == Op(ClusterOpcode::kGossipSyn)) {
        auto r = raw->gossip->OnSyn(body);
        return r.ok() ? reply(Status::OK(), r.value()) : reply(r.status(), "");
      }
      if (opcode == Op(ClusterOpcode::kGossipPush)) return reply(raw->gossip->OnPush(body), "");
      reply(Status::NotSupported("opcode"), "");
    });
    EXPECT_TRUE(n->gossip->Load().ok());
    nodes_.push_back(std::move(n));
    return *nodes_.back();
  }

  // Gossip rounds every second of simulated time.
  void Rounds(int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (auto& n : nodes_) {
        if (n->gossip != nullptr) n->gossip->Tick();
      }
      net_.RunFor(1'000'000);
    }
  }

  std::set<std::string> Known(GossipNode& n) {
    std::set<std::string> ids;
    for (const auto& m : n.gossip->members()) ids.insert(m.id);
    return ids;
  }

  base::FaultEnv env_;
  test::FakeNetwork net_;
  std::vector<std::unique_ptr<GossipNode>> nodes_;
};

TEST_F(GossipTest, NodesThatKnowOneSeedLearnEveryoneAndBuildTheSameRing) {
  const std::string seed = Node(1).address;
  Add(1, {});
  for (int i = 2; i <= 5; ++i) Add(i, {seed});
  Rounds(5);
  const std::set<std::string> all = {"n1", "n2", "n3", "n4", "n5"};
  std::set<uint64_t> fingerprints;
  for (auto& n : nodes_) {
    EXPECT_EQ(all, Known(*n)) << n->info.id;
    fingerprints.insert(n->ring->Current()->Fingerprint());
    EXPECT_EQ(5u, n->ring->Current()->node_count());
  }
  EXPECT_EQ(1u, fingerprints.size());
}

TEST_F(GossipTest, OnlyNewerStatesTravelAndHeartbeatsReachEveryNode) {
  Add(1, {});
  Add(2, {Node(1).address});
  Add(3, {Node(1).address});
  Rounds(5);
  uint64_t version_before = 0;
  for (const auto& v : nodes_[2]->gossip->Snapshot()) {
    if (v.state.node.id == "n1") version_before = v.state.version;
  }
  Rounds(5);
  for (const auto& v : nodes_[2]->gossip->Snapshot()) {
    if (v.state.node.id != "n1") continue;
    EXPECT_GT(v.state.version, version_before) << "n1's heartbeat must keep reaching n3";
    EXPECT_LT(v.heartbeat_age_us, 3'000'000u);
  }
  // A SYN whose digests are all current is answered with nothing.
  std::vector<GossipDigest> digests;
  for (const auto& v : nodes_[0]->gossip->Snapshot()) digests.push_back({v.state.node.id, v.state.generation, v.state.version});
  std::string body;
  EncodeGossipSyn(&body, "kvring", "n9", digests);
  auto reply = nodes_[0]->gossip->OnSyn(body);
  ASSERT_TRUE(reply.ok());
  std::vector<MemberState> states;
  std::vector<std::string> wants;
  ASSERT_TRUE(DecodeGossipAck(reply.value(), &states, &wants));
  EXPECT_TRUE(states.empty());
  EXPECT_TRUE(wants.empty());
}

TEST_F(GossipTest, ARestartedMembersNewGenerationReplacesItsOldStateHoweverHighItsHeartbeat) {
  Add(1, {});
  Add(2, {Node(1).address});
  Rounds(20);  // n2's heartbeat is at ~20 everywhere
  nodes_[1]->gossip.reset();
  nodes_[1] = nullptr;
  nodes_.pop_back();
  Add(2, {Node(1).address}, "kvring", /*generation=*/2);
  Rounds(3);
  for (const auto& v : nodes_[0]->gossip->Snapshot()) {
    if (v.state.node.id == "n2") {
      EXPECT_EQ(2u, v.state.generation);
      EXPECT_LT(v.state.version, 10u);
    }
  }
}

TEST_F(GossipTest, WhatANodeLearnedIsReloadedAfterARestartWithItsSeedsGone) {
  Add(1, {});
  Add(2, {Node(1).address});
  Add(3, {Node(1).address});
  Rounds(5);
  nodes_[2]->gossip.reset();
  net_.SetDown(Node(1).address);
  net_.SetDown(Node(2).address);
  nodes_.pop_back();
  GossipNode& n3 = Add(3, {Node(1).address}, "kvring", 2);
  EXPECT_EQ((std::set<std::string>{"n1", "n2", "n3"}), Known(n3));
  EXPECT_EQ(3u, n3.ring->Current()->node_count());
}

TEST_F(GossipTest, ANodeOfAnotherClusterIsRefusedAndLearnsNothing) {
  Add(1, {});
  Add(2, {Node(1).address});
  GossipNode& stranger = Add(3, {Node(1).address}, "elsewhere");
  Rounds(5);
  EXPECT_EQ((std::set<std::string>{"n3"}), Known(stranger));
  EXPECT_EQ((std::set<std::string>{"n1", "n2"}), Known(*nodes_[0]));
  EXPECT_GT(nodes_[0]->gossip->stats().refused_cluster, 0u);
  std::string body;
  EncodeGossipSyn(&body, "elsewhere", "n3", {});
  auto refused = nodes_[0]->gossip->OnSyn(body);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(std::string::npos, refused.status().message().find("cluster name mismatch")) << refused.status().ToString();
}

TEST_F(GossipTest, HeartbeatsAreEvidenceForTheFailureDetector) {
  Add(1, {});
  Add(2, {Node(1).address});
  Rounds(3);
  const uint64_t before = nodes_[0]->detector->Get("n2").evidence_us;
  Rounds(3);
  EXPECT_GT(nodes_[0]->detector->Get("n2").evidence_us, before);
}

TEST_F(GossipTest, StatusesOfAChangeGiveEveryNodeTheSameRingInTransitionUntilItEnds) {
  Add(1, {});
  Add(2, {Node(1).address});
  Add(3, {Node(1).address});
  Rounds(4);
  for (auto& n : nodes_) ASSERT_EQ(nullptr, n->ring->Transition()) << n->info.id;

  // n3 decommissions: leaving, in the ring in force, not in the ring after.
  nodes_[2]->gossip->SetSelfStatus(MemberStatus::kLeaving);
  Rounds(4);
  for (auto& n : nodes_) {
    auto t = n->ring->Transition();
    ASSERT_NE(nullptr, t) << n->info.id;
    EXPECT_EQ(3u, t->from().node_count()) << n->info.id;
    EXPECT_EQ(2u, t->to().node_count()) << n->info.id;
    EXPECT_EQ(nullptr, t->to().FindNode("n3")) << n->info.id;
    EXPECT_EQ(nodes_[0]->ring->Transition()->to().Fingerprint(), t->to().Fingerprint()) << n->info.id;
    EXPECT_EQ("", t->unavailable());
  }
  // Left: in neither ring, and the transition is over.
  nodes_[2]->gossip->SetSelfStatus(MemberStatus::kLeft);
  Rounds(4);
  for (auto& n : nodes_) {
    EXPECT_EQ(nullptr, n->ring->Transition()) << n->info.id;
    EXPECT_EQ(2u, n->ring->Current()->node_count()) << n->info.id;
  }
}

TEST_F(GossipTest, ANodeSpeaksForAGoneMemberWhichNeverServesAsASource) {
  Add(1, {});
  Add(2, {Node(1).address});
  Add(3, {Node(1).address});
  Add(4, {Node(1).address});
  Rounds(4);
  net_.SetDown(Node(4).address);  // n4 is gone
  nodes_[3]->gossip.reset();
  EXPECT_FALSE(nodes_[0]->gossip->SetStatusOf("n1", MemberStatus::kRemoving).ok());  // not for itself
  EXPECT_TRUE(nodes_[0]->gossip->SetStatusOf("n9", MemberStatus::kRemoving).IsNotFound());
  ASSERT_TRUE(nodes_[0]->gossip->SetStatusOf("n4", MemberStatus::kRemoving).ok());
  Rounds(4);
  for (int i = 0; i < 3; ++i) {
    auto t = nodes_[i]->ring->Transition();
    ASSERT_NE(nullptr, t) << i;
    EXPECT_EQ("n4", t->unavailable()) << i;
    for (const ring::RangeMove& m : t->moves()) {
      for (const std::string& src : m.sources) EXPECT_NE("n4", src);
    }
    auto status = nodes_[i]->gossip->StatusOf("n4");
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(MemberStatus::kRemoving, *status) << i;
  }
  ASSERT_TRUE(nodes_[1]->gossip->SetStatusOf("n4", MemberStatus::kRemoved).ok());
  Rounds(4);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(nullptr, nodes_[i]->ring->Transition()) << i;
    EXPECT_EQ(3u, nodes_[i]->ring->Current()->node_count()) << i;
  }
}

// A membership operation streams only once every live member holds its status:
// NotYetHeard must never leave out a member that still lacks it (that member
// would coordinate writes to the old owners alone), and must empty once each
// has it, whether it learned it from a spread or from ordinary rounds.
TEST_F(GossipTest, AStatusChangeIsCountedHeardOnlyByMembersThatHoldIt) {
  Add(1, {});
  for (int i = 2; i <= 5; ++i) Add(i, {Node(1).address});
  Rounds(4);
  Gossiper& n3 = *nodes_[2]->gossip;
  n3.SetSelfStatus(MemberStatus::kLeaving);
  auto digest = n3.DigestOf("n3");
  ASSERT_TRUE(digest.ok());
  EXPECT_TRUE(n3.DigestOf("n9").status().IsNotFound());
  EXPECT_EQ((std::vector<std::string>{"n1", "n2", "n4", "n5"}), n3.NotYetHeard(*digest));
  // Ordinary rounds on lossy links (a reply may come back while the push that
  // follows it is lost), in small steps: whoever is no longer listed holds it.
  net_.SetDefaultFaults(test::LinkFaults{.min_delay_us = 100, .max_delay_us = 20'000, .drop_probability = 0.3});
  size_t steps = 0;
  while (!n3.NotYetHeard(*digest).empty() && steps < 200) {
    if (steps % 10 == 0) {
      for (auto& n : nodes_) n->gossip->Tick();
    }
    net_.RunFor(100'000);
    ++steps;
    const std::vector<std::string> unheard = n3.NotYetHeard(*digest);
    for (auto& n : nodes_) {
      if (n->info.id == "n3" || std::count(unheard.begin(), unheard.end(), n->info.id) != 0) continue;
      EXPECT_EQ(MemberStatus::kLeaving, *n->gossip->StatusOf("n3")) << n->info.id << " counted as heard";
    }
  }
  EXPECT_TRUE(n3.NotYetHeard(*digest).empty()) << "after " << steps << " steps";
  net_.SetDefaultFaults(test::LinkFaults{});

  // Spread: one round trip to every member, a partitioned one stays listed until it heard.
  net_.Isolate(Node(5).address);
  n3.SetSelfStatus(MemberStatus::kLeft);
  digest = n3.DigestOf("n3");
  n3.Spread();
  net_.RunFor(10'000);
  EXPECT_EQ((std::vector<std::string>{"n5"}), n3.NotYetHeard(*digest));
  for (int i : {0, 1, 3}) EXPECT_EQ(MemberStatus::kLeft, *nodes_[i]->gossip->StatusOf("n3")) << i;
  net_.Heal();
  n3.Spread();
  net_.RunFor(10'000);
  EXPECT_TRUE(n3.NotYetHeard(*digest).empty());
  EXPECT_EQ(MemberStatus::kLeft, *nodes_[4]->gossip->StatusOf("n3"));
}

// Neither the member spoken for nor one that left coordinates: neither is waited for.
TEST_F(GossipTest, TheSubjectAndMembersThatLeftAreNotWaitedFor) {
  Add(1, {});
  Add(2, {Node(1).address});
  Add(3, {Node(1).address});
  Add(4, {Node(1).address});
  Rounds(4);
  nodes_[3]->gossip->SetSelfStatus(MemberStatus::kLeft);
  Rounds(4);
  ASSERT_EQ(MemberStatus::kLeft, *nodes_[0]->gossip->StatusOf("n4"));
  net_.SetDown(Node(4).address);
  net_.SetDown(Node(2).address);
  ASSERT_TRUE(nodes_[0]->gossip->SetStatusOf("n2", MemberStatus::kRemoving).ok());
  auto digest = nodes_[0]->gossip->DigestOf("n2");
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ((std::vector<std::string>{"n3"}), nodes_[0]->gossip->NotYetHeard(*digest));
  nodes_[0]->gossip->Spread();
  net_.RunFor(10'000);
  EXPECT_TRUE(nodes_[0]->gossip->NotYetHeard(*digest).empty());
}

}  // namespace
}  // namespace kvring::repl
