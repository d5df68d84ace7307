// In-process tests of the coordinator during a membership change: n1..n3 form
// the ring in force (N=3) and n4 joins (SimCluster::StartTransition), so every
// node routes by the ring in transition (ring/transition.h). What a client must
// see: a write reaches the joining node too but W counts the old owners only, a
// read asks the old owners only, a joining node that misses a write gets a hint,
// a write sent to the joining node is coordinated by an old owner, and keys the
// change does not move never reach the joining node. TearDown reads every key
// at ALL from its first old owner: nothing acknowledged is lost.
#include "ring/token.h"
#include "test/repl/coordinator_test_util.h"

namespace kvring::repl {
namespace {

class CoordinatorTransitionTest : public CoordinatorTest {
 protected:
  void SetUp() override {
    SimClusterOptions options;
    options.nodes = 4;
    options.ring_members = 3;
    options.hints = true;
    Start(options);
    c().StartTransition({"n1", "n2", "n3", "n4"});
    key_ = KeyJoinedBy("n4");
  }

  // A key whose write set is its three old owners, n1 first, plus `joiner` pending.
  std::string KeyJoinedBy(const std::string& joiner) {
    auto transition = c().node("n1").ring->Transition();
    for (int i = 0; i < 100000; ++i) {
      std::string key = "key-" + std::to_string(i);
      const ring::WriteSet set = transition->WriteReplicas(ring::TokenOf(key));
      if (set.size() == 4 && set[0].id == "n1" && set[3].id == joiner && !set.counts(3)) return key;
    }
    ADD_FAILURE() << "no key is moving to " << joiner;
    return "key-none";
  }

  uint64_t HintsFor(std::string_view coordinator, std::string_view owner) {
    return c().node(coordinator).hints->Stats(owner).pending;
  }
  uint64_t Received(std::string_view id, ClusterOpcode opcode) { return c().node(id).endpoint->received(Op(opcode)); }

  std::string key_;
};

TEST_F(CoordinatorTransitionTest, AWriteDuringAJoinReachesTheJoinerButTheOldOwnersAloneMeetTheQuorum) {
  // n4's acks take 400 ms: the answer cannot wait for them.
  net().SetLinkFaults(Addr("n4"), Addr("n1"), {.min_delay_us = 400'000, .max_delay_us = 400'000});
  const uint64_t start = net().now();
  auto put = c().StartPut("n1", key_, "v", "", kQuorum);
  ASSERT_TRUE(net().RunUntil([&] { return put->done(); }));
  ASSERT_TRUE(put->status.ok()) << put->status.ToString();
  EXPECT_LT(put->at_us - start, 400'000u) << "answered before the joiner's ack";
  EXPECT_EQ(2u, put->acks().size());
  for (const std::string& id : put->acks()) EXPECT_NE("n4", id) << "a pending replica is not a counted ack";
  net().RunUntilIdle();
  ledger_.Record(key_, "v", false, "", 0, *put);
  EXPECT_EQ(Values{"v"}, LiveValues(c().Local("n4", key_))) << "the joiner holds the write";
  EXPECT_EQ(0u, HintsFor("n1", "n4")) << "it answered in time: no hint";
  // The other way round: the joiner acks at once, the old owners after 300 ms.
  // Its ack does not stand for theirs: the answer waits for one of them.
  net().ClearLinkFaults();
  for (const char* old : {"n2", "n3"}) {
    net().SetLinkFaults(Addr(old), Addr("n1"), {.min_delay_us = 300'000, .max_delay_us = 300'000});
  }
  const uint64_t second = net().now();
  auto late = c().StartPut("n1", key_, "w", "", kQuorum);
  ASSERT_TRUE(net().RunUntil([&] { return late->done(); }));
  ASSERT_TRUE(late->status.ok()) << late->status.ToString();
  EXPECT_GE(late->at_us - second, 300'000u) << "answered on the joiner's ack";
  net().RunUntilIdle();
  ledger_.Record(key_, "w", false, "", 0, *late);
}

// (From main's coordinator_test.cc, moved here with the fixture.)
TEST_F(CoordinatorTransitionTest, AWriteDuringAJoinReachesThePendingReplicaButOnlyTheOldOwnersCountTowardsW) {
  const std::vector<std::string> old = c().ReplicasOf(key_);
  ASSERT_EQ(3u, old.size());
  auto all = Put(old[0], key_, "v1", "", kAll);
  ASSERT_TRUE(all.status.ok()) << all.status.ToString();
  net().RunUntilIdle();
  EXPECT_EQ(Values{"v1"}, LiveValues(c().Local("n4", key_))) << "the joiner receives the write";
  // With one old owner cut off, the joiner's ack does not make up for it.
  net().Block(Addr(old[0]), Addr(old[2]));
  auto short_one = Put(old[0], key_, "v2", "", kAll);
  EXPECT_TRUE(short_one.status.IsUnavailable()) << short_one.status.ToString();
  EXPECT_NE(std::string::npos, short_one.status.message().find("2 of 3 write acks")) << short_one.status.message();
  net().Heal();
  net().RunUntilIdle();
  EXPECT_EQ((Values{"v1", "v2"}), LiveValues(c().Local("n4", key_)));
  // Reads go to the old owners only: with the joiner gone a read at ALL still succeeds.
  net().SetDown(Addr("n4"));
  testing::GetOutcome read_all = c().Get(old[1], key_, kAll);
  ASSERT_TRUE(read_all.status.ok()) << read_all.status.ToString();
  EXPECT_EQ((Values{"v1", "v2"}), read_all.values());
  net().SetDown(Addr("n4"), false);
}

TEST_F(CoordinatorTransitionTest, AReadDuringAJoinAsksTheOldOwnersOnly) {
  ASSERT_TRUE(Put("n1", key_, "v", "", kAll).status.ok());
  const uint64_t reads_before = Received("n4", ClusterOpcode::kReplicaRead);
  for (const std::string& id : c().ids()) {
    testing::GetOutcome got = c().Get(id, key_, kAll);
    ASSERT_TRUE(got.status.ok()) << id << ": " << got.status.ToString();
    EXPECT_EQ(Values{"v"}, got.values()) << id;
  }
  EXPECT_EQ(reads_before, Received("n4", ClusterOpcode::kReplicaRead)) << "nobody asked the joiner";
  // R counts on the old owners: with one of them down, ALL fails although n4 is up.
  net().SetDown(Addr(c().ReplicasOf(key_)[2]));
  c().RunDetectors(3'000'000);
  EXPECT_TRUE(c().Get("n1", key_, kAll).status.IsUnavailable());
}

TEST_F(CoordinatorTransitionTest, AJoinerThatIsDownGetsAHintAndTheWriteStillSucceeds) {
  net().SetDown(Addr("n4"));
  auto unknown = Put("n1", key_, "v1", "", kAll);  // not known down yet: the call fails, a hint is kept
  ASSERT_TRUE(unknown.status.ok()) << unknown.status.ToString();
  EXPECT_EQ(3u, unknown.acks().size());
  EXPECT_EQ(1u, HintsFor("n1", "n4"));
  c().RunDetectors(3'000'000);
  ASSERT_TRUE(c().node("n1").liveness->IsDown(Addr("n4")));
  testing::GetOutcome seen = c().Get("n1", key_, kAll);
  auto known = Put("n1", key_, "v2", seen.context(), kQuorum);  // known down: hinted without a call
  ASSERT_TRUE(known.status.ok()) << known.status.ToString();
  EXPECT_EQ(1u, HintsFor("n1", "n4")) << "one hint per (owner, key)";
  EXPECT_EQ(2u, c().node("n1").coordinator->stats().hints_kept);
  EXPECT_EQ(0u, c().node("n1").coordinator->stats().stand_in_writes) << "no stand-in for a pending replica";
}

TEST_F(CoordinatorTransitionTest, AWriteSentToTheJoinerIsForwardedToAnOldOwner) {
  auto put = Put("n4", key_, "v", "", kQuorum);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  EXPECT_EQ("n1", put.dot().node) << "the first old owner coordinates";
  EXPECT_EQ(1u, c().node("n4").coordinator->stats().forwarded);
  EXPECT_EQ(Values{"v"}, LiveValues(c().Local("n4", key_))) << "and writes the joiner as a pending replica";
}

TEST_F(CoordinatorTransitionTest, KeysTheChangeDoesNotMoveAreNotWrittenToTheJoiner) {
  auto transition = c().node("n1").ring->Transition();
  std::string still;
  for (int i = 0; i < 1000 && still.empty(); ++i) {
    std::string key = "still-" + std::to_string(i);
    if (!transition->WriteReplicas(ring::TokenOf(key)).ContainsId("n4")) still = key;
  }
  ASSERT_FALSE(still.empty());
  const uint64_t writes_before = Received("n4", ClusterOpcode::kReplicaWrite);
  ASSERT_TRUE(Put(c().ReplicasOf(still)[0], still, "v", "", kAll).status.ok());
  EXPECT_EQ(writes_before, Received("n4", ClusterOpcode::kReplicaWrite));
  EXPECT_FALSE(c().Local("n4", still).has_value());
}

}  // namespace
}  // namespace kvring::repl
