// test/repl/quorum_test.cc — repl::QuorumCounter (repl/quorum.h) over one key
// of a two-datacenter ring: how many replies each consistency level asks for and
// where, that replies from another datacenter do not meet a per-datacenter
// need, what its progress says, and which levels it refuses.
// (From branch coord's QuorumNeedTest/QuorumTallyTest, adapted to QuorumCounter.)
#include "repl/quorum.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/protocol.h"
#include "ring/ring.h"

namespace kvring::repl {
namespace {

constexpr uint8_t kLocalOne = net::kConsistencyLocalOne;
constexpr uint8_t kLocalQuorum = net::kConsistencyLocalQuorum;
constexpr uint8_t kEachQuorum = net::kConsistencyEachQuorum;

class QuorumCounterTest : public ::testing::Test {
 protected:
  // n1..n3 in dc1, n4..n5 in dc2; every key has 3 replicas in dc1 and 2 in dc2.
  void SetUp() override { Build("dc1:3,dc2:2"); }
  void Build(const std::string& spec_text) {
    std::vector<ring::NodeInfo> members;
    for (int i = 1; i <= 5; ++i) {
      members.push_back({.id = "n" + std::to_string(i), .address = "10.0.0." + std::to_string(i) + ":7000",
                         .dc = i <= 3 ? "dc1" : "dc2"});
    }
    ring::RingOptions options;
    auto spec = ring::ReplicationSpec::Parse(spec_text);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    options.replication = *spec;
    auto ring = ring::Ring::Build(members, options);
    ASSERT_TRUE(ring.ok()) << ring.status().ToString();
    ring_ = *ring;
    replicas_ = ring_->PreferenceListForKey("k");
  }
  base::Result<QuorumCounter> For(uint8_t level, std::string_view local_dc = "dc1") {
    return QuorumCounter::For(level, net::kConsistencyQuorum, replicas_, ring_->replication().total(), local_dc, "w");
  }
  size_t Needed(uint8_t level, std::string_view local_dc = "dc1") {
    auto q = For(level, local_dc);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? q->needed() : 0;
  }

  std::shared_ptr<const ring::Ring> ring_;
  ring::PreferenceList replicas_;
};

TEST_F(QuorumCounterTest, EachLevelAsksWhatItNamesOfAFiveReplicaTwoDcKey) {
  ASSERT_EQ(5u, replicas_.size());
  EXPECT_EQ(1u, Needed(1));
  EXPECT_EQ(3u, Needed(net::kConsistencyQuorum));
  EXPECT_EQ(3u, Needed(net::kConsistencyDefault)) << "the default level (QUORUM here)";
  EXPECT_EQ(5u, Needed(net::kConsistencyAll));
  EXPECT_EQ(1u, Needed(kLocalOne));
  EXPECT_EQ(2u, Needed(kLocalQuorum)) << "2 of dc1's 3";
  EXPECT_EQ(2u, Needed(kLocalQuorum, "dc2")) << "a quorum of 2 is 2";
  EXPECT_EQ(4u, Needed(kEachQuorum)) << "2 in dc1 and 2 in dc2";
  EXPECT_EQ("write acks 0 of 2 in dc2", For(kLocalQuorum, "dc2")->Progress("write acks"));
}

TEST_F(QuorumCounterTest, APerDcNeedIsMetOnlyByRepliesFromItsDc) {
  QuorumCounter each = *For(kEachQuorum);
  each.Count("dc2");
  each.Count("dc2");
  each.Count("dc1");
  EXPECT_FALSE(each.Met());
  const std::string progress = each.Progress("write acks");
  EXPECT_TRUE(progress == "write acks 1 of 2 in dc1, 2 of 2 in dc2" ||
              progress == "write acks 2 of 2 in dc2, 1 of 2 in dc1")
      << progress;
  each.Count("dc1");
  EXPECT_TRUE(each.Met());

  QuorumCounter local = *For(kLocalQuorum);
  for (int i = 0; i < 3; ++i) local.Count("dc2");
  EXPECT_FALSE(local.Met()) << "dc2's replies do not make dc1's quorum";
  EXPECT_EQ("write acks 0 of 2 in dc1", local.Progress("write acks"));
  local.Count("dc1");
  local.Count("dc1");
  EXPECT_TRUE(local.Met());

  QuorumCounter any = *For(net::kConsistencyQuorum);
  any.Count("dc2");
  any.Count("dc2");
  EXPECT_EQ("2 of 3 write acks", any.Progress("write acks"));
  any.Count("dc1");
  EXPECT_TRUE(any.Met());
}

TEST_F(QuorumCounterTest, ALocalLevelInADcWithoutReplicasIsRefusedNamingTheDc) {
  auto q = For(kLocalQuorum, "dc3");
  ASSERT_TRUE(q.status().IsInvalidArgument()) << q.status().ToString();
  EXPECT_EQ("w=LOCAL_QUORUM: the key has no replica in this node's datacenter dc3", q.status().message());
  EXPECT_TRUE(For(kLocalOne, "dc3").status().IsInvalidArgument());
  EXPECT_EQ(4u, Needed(kEachQuorum, "dc3")) << "EACH_QUORUM counts every DC with replicas, wherever it is asked";
}

TEST_F(QuorumCounterTest, QuorumCountsTheSpecsReplicasALocalQuorumThoseTheKeyHasInTheDc) {
  Build("dc1:3,dc2:4");  // dc2 has two nodes: the key gets 2 of the 4 replicas asked for there
  ASSERT_EQ(5u, replicas_.size());
  EXPECT_EQ(4u, Needed(net::kConsistencyQuorum)) << "a majority of the spec's 7";
  auto all = For(net::kConsistencyAll);
  ASSERT_TRUE(all.status().IsInvalidArgument());
  EXPECT_EQ("w=ALL needs 7 replicas but the key has 5", all.status().message());
  EXPECT_EQ(2u, Needed(kLocalQuorum, "dc2"));
  EXPECT_EQ(2u, Needed(kLocalQuorum, "dc1"));
}

TEST_F(QuorumCounterTest, AKeyWithoutReplicasIsUnavailable) {
  auto q = QuorumCounter::For(1, net::kConsistencyQuorum, ring::PreferenceList(), 3, "dc1", "r");
  EXPECT_TRUE(q.status().IsUnavailable()) << q.status().ToString();
}

}  // namespace
}  // namespace kvring::repl
