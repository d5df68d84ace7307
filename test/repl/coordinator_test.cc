// In-process tests of repl::Coordinator: 3 or 5 simulated nodes (each with its
// own engine on a FaultEnv, replica store, failure detector, ring and
// coordinator; test/util/sim_cluster.h) over the seeded fake network
// (test/util/fake_transport.h), on a simulated clock. Each test states what a
// client must see: which replicas acknowledge at each level, which errors with
// which words, what late, lost and reordered messages, down nodes and partitions
// do, where writes are forwarded, what read repair writes, and what a receipt's
// context supersedes. Every test that writes ends (TearDown) by healing every
// fault and reading each key it wrote at ALL: nothing acknowledged may be lost
// unless a later write's context covered it, and nothing may appear that was
// never written.
#include "test/repl/coordinator_test_util.h"

namespace kvring::repl {
namespace {

// --- Levels -------------------------------------------------------------------------

TEST_F(CoordinatorTest, EachWriteLevelIsAcknowledgedByExactlyThatManyReplicasThenReachesAll) {
  Start();
  struct Level {
    uint8_t w;
    size_t acks;
  };
  const Level levels[] = {{kOne, 1}, {2, 2}, {kQuorum, 2}, {kAll, 3}, {net::kConsistencyDefault, 2}};
  for (const Level& level : levels) {
    const std::string key = "level-" + std::to_string(level.w);
    auto out = c().StartPut("n1", key, "v", "", level.w);
    ASSERT_TRUE(net().RunUntil([&] { return out->done(); }));
    ASSERT_TRUE(out->status.ok()) << out->status.ToString();
    EXPECT_EQ(level.acks, out->acks().size()) << "w=" << int(level.w);
    EXPECT_EQ("n1", out->acks().front()) << "the coordinator's own store acknowledges first";
    net().RunUntilIdle();
    ledger_.Record(key, "v", false, "", 0, *out);
    for (const std::string& id : c().ids()) {
      EXPECT_EQ(Values{"v"}, LiveValues(c().Local(id, key))) << id << " after w=" << int(level.w);
    }
  }
}

// What the hint replay's throttle reads: requests that met their quorum, and the
// time each took (here the fake network's 100 µs a message: a round trip each).
TEST_F(CoordinatorTest, AnsweredRequestsAndTheirLatencyAreCounted) {
  Start();
  ASSERT_TRUE(Put("n1", "timed", "v", "", kAll).status.ok());
  ASSERT_TRUE(c().Get("n1", "timed", kAll).status.ok());
  repl::CoordinatorStats s = c().node("n1").coordinator->stats();
  EXPECT_EQ(2u, s.answered);
  EXPECT_GE(s.answered_micros, 2 * 200u);
  EXPECT_LT(s.answered_micros, 2 * 100'000u);
  net().SetDown(Addr("n3"));
  EXPECT_FALSE(Put("n1", "timed", "w", "", kAll).status.ok());
  EXPECT_EQ(2u, c().node("n1").coordinator->stats().answered) << "a request that failed is not a latency sample";
}

TEST_F(CoordinatorTest, AReadAtEachLevelWaitsForThatManyReplies) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  ASSERT_TRUE(Put("n1", key, "v", "", kAll).status.ok());
  net().SetLinkFaults(Addr("n2"), Addr("n1"), {.min_delay_us = 200'000, .max_delay_us = 200'000});
  net().SetLinkFaults(Addr("n3"), Addr("n1"), {.min_delay_us = 300'000, .max_delay_us = 300'000});
  struct Level {
    uint8_t r;
    uint64_t answered_after_us;
  };
  // n1 reads itself at once; n2's reply takes 100 µs + 200 ms, n3's 100 µs + 300 ms.
  const Level levels[] = {{kOne, 0}, {kQuorum, 200'100}, {kAll, 300'100}};
  for (const Level& level : levels) {
    const uint64_t start = net().now();
    auto got = c().StartGet("n1", key, level.r);
    ASSERT_TRUE(net().RunUntil([&] { return got->done(); }));
    EXPECT_TRUE(got->status.ok()) << got->status.ToString();
    EXPECT_EQ(Values{"v"}, got->values());
    EXPECT_EQ(start + level.answered_after_us, got->at_us) << "r=" << int(level.r);
    net().RunUntilIdle();
    EXPECT_EQ(1, got->calls);
  }
}

TEST_F(CoordinatorTest, EveryCoordinatorReadsTheAcknowledgedValueAtEveryLevel) {
  Start();
  const std::string key = "everywhere";
  auto put = Put("n2", key, "v", "", kQuorum);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  for (const std::string& id : c().ids()) {
    for (uint8_t r : {kOne, kQuorum, kAll}) {
      testing::GetOutcome got = c().Get(id, key, r);
      ASSERT_TRUE(got.status.ok()) << id << " r=" << int(r) << ": " << got.status.ToString();
      EXPECT_EQ(Values{"v"}, got.values()) << id << " r=" << int(r);
      EXPECT_EQ(put.dot(), got.set->siblings().front().dot);
    }
  }
}

TEST_F(CoordinatorTest, AKeyNeverWrittenReadsAsNothingWithTheEmptyContext) {
  Start();
  testing::GetOutcome got = c().Get("n1", "never", kAll);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_FALSE(got.set.has_value());
  EXPECT_EQ(EncodeClientContext(ContextKey::Default(), "never", VersionVector()), got.context());
}

// --- Deletes --------------------------------------------------------------------------

TEST_F(CoordinatorTest, ADeleteWithTheContextOfAGetMakesTheKeyReadAsDeletedEverywhere) {
  Start();
  const std::string key = "doomed";
  ASSERT_TRUE(Put("n1", key, "v", "", kAll).status.ok());
  testing::GetOutcome seen = c().Get("n2", key, kQuorum);
  auto del = Delete("n3", key, seen.context(), kQuorum);
  ASSERT_TRUE(del.status.ok()) << del.status.ToString();
  EXPECT_EQ("n3", del.dot().node);
  for (const std::string& id : c().ids()) {
    testing::GetOutcome got = c().Get(id, key, kAll);
    ASSERT_TRUE(got.status.ok());
    ASSERT_TRUE(got.set.has_value()) << "the tombstone and the history stay";
    EXPECT_TRUE(got.set->IsDeleted()) << id;
    ASSERT_EQ(1u, got.set->siblings().size());
    EXPECT_EQ(del.dot(), got.set->siblings().front().dot);
  }
  // A put with the deleted key's context covers the tombstone: one value again.
  testing::GetOutcome gone = c().Get("n1", key, kAll);
  ASSERT_TRUE(Put("n1", key, "again", gone.context(), kAll).status.ok());
  testing::GetOutcome back = c().Get("n2", key, kAll);
  ASSERT_TRUE(back.set.has_value());
  EXPECT_EQ(1u, back.set->siblings().size());
  EXPECT_EQ(Values{"again"}, back.values());
}

TEST_F(CoordinatorTest, ADeleteWithoutAContextIsRefusedAndSendsNothing) {
  Start();
  const std::string key = "kept";
  ASSERT_TRUE(Put("n1", key, "v", "", kAll).status.ok());
  const uint64_t calls = net().stats().calls;
  auto del = Delete("n1", key, "", kQuorum);
  EXPECT_TRUE(del.status.IsInvalidArgument()) << del.status.ToString();
  EXPECT_EQ(
      "a delete without a context would delete nothing: send the context of a get of the key (the delete removes "
      "what that get returned), or the OVERWRITE flag",
      del.status.message());
  EXPECT_EQ(calls, net().stats().calls);
  EXPECT_EQ(Values{"v"}, c().Get("n2", key, kAll).values());
  // OVERWRITE needs no context: it deletes whatever the coordinating replica holds.
  auto blind = Delete("n1", key, "", kAll, net::kWriteFlagOverwrite);
  ASSERT_TRUE(blind.status.ok()) << blind.status.ToString();
  testing::GetOutcome got = c().Get("n3", key, kAll);
  ASSERT_TRUE(got.set.has_value());
  EXPECT_TRUE(got.set->IsDeleted());
}

// --- Late, lost and reordered messages -------------------------------------------------

TEST_F(CoordinatorTest, AReadWhoseRepliesComeAfterTheDeadlineFailsNamingTheTimeouts) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  ASSERT_TRUE(Put("n1", key, "v", "", kAll).status.ok());
  net().SetLinkFaults(Addr("n2"), Addr("n1"), {.min_delay_us = 600'000, .max_delay_us = 600'000});  // late
  net().SetLinkFaults(Addr("n1"), Addr("n3"), {.drop_probability = 1});                            // lost
  const uint64_t start = net().now();
  auto got = c().StartGet("n1", key, kQuorum);
  ASSERT_TRUE(net().RunUntil([&] { return got->done(); }));
  EXPECT_TRUE(got->status.IsUnavailable());
  EXPECT_EQ("quorum not reached: 1 of 2 read replies within 500ms (n2 timeout, n3 timeout)", got->status.message());
  EXPECT_EQ(start + 500'000, got->at_us);
  net().RunUntilIdle();  // n2's reply arrives at 600 ms: dropped
  EXPECT_EQ(1, got->calls);
  EXPECT_EQ(1u, net().stats().late_replies);
  // One reply is enough for R=1.
  testing::GetOutcome one = c().Get("n1", key, kOne);
  EXPECT_TRUE(one.status.ok()) << one.status.ToString();
  EXPECT_EQ(Values{"v"}, one.values());
}

TEST_F(CoordinatorTest, AWriteWhoseAckComesLateFailsAtAllYetReachesTheSlowReplica) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  net().SetLinkFaults(Addr("n2"), Addr("n1"), {.min_delay_us = 600'000, .max_delay_us = 600'000});
  auto put = Put("n1", key, "slow", "", kAll);
  EXPECT_TRUE(put.status.IsUnavailable());
  EXPECT_EQ("quorum not reached: 2 of 3 write acks within 500ms (n2 timeout)", put.status.message());
  EXPECT_EQ(Values{"slow"}, LiveValues(c().Local("n2", key))) << "a failed write is maybe applied";
  // At QUORUM the same write is acknowledged by n1 and n3 and does not wait for n2.
  testing::GetOutcome seen = c().Get("n1", key, kOne);
  auto quorum = Put("n1", key, "quick", seen.context(), kQuorum);
  ASSERT_TRUE(quorum.status.ok()) << quorum.status.ToString();
  EXPECT_EQ((Values{"n1", "n3"}), quorum.acks());
}

TEST_F(CoordinatorTest, AWriteWhoseAckIsLostFailsOnlyWhereItWasNeeded) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  net().SetLinkFaults(Addr("n3"), Addr("n1"), {.drop_probability = 1});  // n3's replies vanish
  auto quorum = Put("n1", key, "a", "", kQuorum);
  ASSERT_TRUE(quorum.status.ok()) << quorum.status.ToString();
  EXPECT_EQ((Values{"n1", "n2"}), quorum.acks());
  auto all = Put("n1", key, "b", quorum.result.context, kAll);
  EXPECT_EQ("quorum not reached: 2 of 3 write acks within 500ms (n3 timeout)", all.status.message());
  EXPECT_EQ(Values{"b"}, LiveValues(c().Local("n3", key))) << "n3 stored what it could not acknowledge";
}

TEST_F(CoordinatorTest, ReorderedReplicationNeverBringsBackASupersededWrite) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  // A's REPLICA_WRITE to n2 takes 50 ms; B's, sent after it, 1 ms: n2 gets B first.
  net().SetLinkFaults(Addr("n1"), Addr("n2"), {.min_delay_us = 50'000, .max_delay_us = 50'000});
  auto a = c().StartPut("n1", key, "A", "", kOne);
  ASSERT_TRUE(a->done()) << "W=1 at a replica is acknowledged by its own store at once";
  ledger_.Record(key, "A", false, "", 0, *a);
  net().SetLinkFaults(Addr("n1"), Addr("n2"), {.min_delay_us = 1'000, .max_delay_us = 1'000});
  auto b = c().StartPut("n1", key, "B", a->result.context, kOne);
  ASSERT_TRUE(b->done());
  ledger_.Record(key, "B", false, a->result.context, 0, *b);
  net().RunFor(10'000);
  EXPECT_EQ(Values{"B"}, LiveValues(c().Local("n2", key))) << "B arrived first";
  EXPECT_EQ(1u, c().node("n2").endpoint->received(kReplicaWriteOp)) << "A has not arrived yet";
  net().RunUntilIdle();
  EXPECT_EQ(2u, c().node("n2").endpoint->received(kReplicaWriteOp));
  for (const std::string& id : c().ids()) {
    std::optional<SiblingSet> local = c().Local(id, key);
    ASSERT_TRUE(local.has_value()) << id;
    EXPECT_EQ(Values{"B"}, LiveValues(local)) << id << ": the late A must not come back";
    EXPECT_EQ(1u, local->siblings().size()) << id;
  }
}

// --- Down replicas and partitions --------------------------------------------------------

TEST_F(CoordinatorTest, AReplicaThatIsDownIsNamedDownInTheError) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  net().SetDown(Addr("n3"));
  // Before the detector has decided, the error says what the transport saw.
  auto early = Put("n1", key, "v0", "", kAll);
  EXPECT_EQ("quorum not reached: 2 of 3 write acks within 500ms (n3 unreachable (connection to 10.0.0.3:7000 "
            "failed: connect: Connection refused))",
            early.status.message());
  c().RunDetectors(3'000'000);
  EXPECT_TRUE(c().node("n1").liveness->IsDown(Addr("n3")));
  EXPECT_EQ("connection to 10.0.0.3:7000 failed: connect: Connection refused",
            c().node("n1").liveness->Get("n3").reason);
  auto all = Put("n1", key, "v1", "", kAll);
  EXPECT_TRUE(all.status.IsUnavailable());
  EXPECT_EQ("quorum not reached: 2 of 3 write acks within 500ms (n3 down)", all.status.message());
  testing::GetOutcome read_all = c().Get("n1", key, kAll);
  EXPECT_EQ("quorum not reached: 2 of 3 read replies within 500ms (n3 down)", read_all.status.message());
  testing::GetOutcome read_quorum = c().Get("n1", key, kQuorum);
  ASSERT_TRUE(read_quorum.status.ok());
  auto quorum = Put("n1", key, "v2", read_quorum.context(), kQuorum);
  ASSERT_TRUE(quorum.status.ok()) << quorum.status.ToString();
  EXPECT_EQ((Values{"n1", "n2"}), quorum.acks());
  EXPECT_EQ(3u, c().node("n1").coordinator->stats().quorum_failures);
  // Back up: it answers, so it is up again, and the read repairs what it missed.
  net().SetDown(Addr("n3"), false);
  testing::GetOutcome after = c().Get("n1", key, kAll);
  ASSERT_TRUE(after.status.ok()) << after.status.ToString();
  EXPECT_EQ(Values{"v2"}, after.values());
  EXPECT_FALSE(c().node("n1").liveness->IsDown(Addr("n3")));
  EXPECT_EQ(Values{"v2"}, LiveValues(c().Local("n3", key)));
}

TEST_F(CoordinatorTest, APartitionBetweenTheCoordinatorAndItsReplicasFailsItsQuorumInBothModes) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  net().Partition({Addr("n1")}, {Addr("n2"), Addr("n3")});
  c().RunDetectors(3'000'000);  // n1 has nobody to ask: its own failed probes decide
  auto refused = Put("n1", key, "refused", "", kQuorum);
  EXPECT_EQ("quorum not reached: 1 of 2 write acks within 500ms (n2 down, n3 down)", refused.status.message());
  testing::GetOutcome read = c().Get("n1", key, kQuorum);
  EXPECT_EQ("quorum not reached: 1 of 2 read replies within 500ms (n2 down, n3 down)", read.status.message());
  // The majority side works meanwhile.
  auto majority = Put("n2", key, "majority", "", kQuorum);
  ASSERT_TRUE(majority.status.ok()) << majority.status.ToString();
  EXPECT_EQ((Values{"n2", "n3"}), majority.acks());
  // A black hole says nothing of down: healed, then cut again silently, the
  // peers time out instead (before any detector run says more).
  c().HealEverything();
  c().RunDetectors(1'000'000);
  ASSERT_FALSE(c().node("n1").liveness->IsDown(Addr("n2")));
  net().SetPartitionMode(test::PartitionMode::kBlackHole);
  net().Partition({Addr("n1")}, {Addr("n2"), Addr("n3")});
  const uint64_t start = net().now();
  auto lost = c().StartPut("n1", key, "black-holed", "", kQuorum);
  ASSERT_TRUE(net().RunUntil([&] { return lost->done(); }));
  ledger_.Record(key, "black-holed", false, "", 0, *lost);
  EXPECT_EQ("quorum not reached: 1 of 2 write acks within 500ms (n2 timeout, n3 timeout)", lost->status.message());
  EXPECT_EQ(start + 500'000, lost->at_us);
  // Healed, every write is there: n1's two were maybe applied, the majority's acknowledged.
  c().HealEverything();
  testing::GetOutcome healed = c().Get("n1", key, kAll);
  ASSERT_TRUE(healed.status.ok()) << healed.status.ToString();
  EXPECT_EQ((Values{"black-holed", "majority", "refused"}), healed.values());
}

// --- Forwarding -----------------------------------------------------------------------

class CoordinatorForwardingTest : public CoordinatorTest {
 protected:
  void SetUp() override {
    SimClusterOptions options;
    options.nodes = 5;
    options.network.trace = true;
    options.versioning.max_siblings = 2;
    options.versioning.warn_siblings = 0;
    Start(options);
    key_ = c().KeyWithReplicas({"n3", "n4", "n5"});
  }
  // Forwards n1 sent to `id`.
  size_t ForwardsTo(std::string_view id) const {
    const std::string prefix = Addr("n1") + " -> " + Addr(id) + " 0x43 sent";
    return static_cast<size_t>(std::count_if(c_->net().trace().begin(), c_->net().trace().end(),
                                             [&](const std::string& line) {
                                               return line.find(prefix) != std::string::npos;
                                             }));
  }
  std::string key_;
};

TEST_F(CoordinatorForwardingTest, ANonReplicaForwardsAWriteToTheFirstReplica) {
  auto put = Put("n1", key_, "v", "", kQuorum);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  EXPECT_EQ("n3", put.dot().node) << "the first replica coordinates and mints the dot";
  EXPECT_EQ("n3", put.acks().front());
  EXPECT_EQ(2u, put.acks().size());
  EXPECT_EQ(1u, c().node("n1").coordinator->stats().forwarded);
  EXPECT_EQ(1u, c().node("n3").endpoint->received(kForwardWriteOp));
  EXPECT_EQ(0u, c().node("n4").endpoint->received(kForwardWriteOp));
  EXPECT_FALSE(c().Local("n1", key_).has_value()) << "a non-replica stores nothing";
  EXPECT_FALSE(c().Local("n2", key_).has_value());
  testing::GetOutcome got = c().Get("n2", key_, kAll);
  EXPECT_EQ(Values{"v"}, got.values());
  // A delete forwards the same way, with its context.
  auto del = Delete("n2", key_, got.context(), kAll);
  ASSERT_TRUE(del.status.ok()) << del.status.ToString();
  EXPECT_EQ("n3", del.dot().node);
  EXPECT_TRUE(c().Get("n1", key_, kAll).set->IsDeleted());
}

TEST_F(CoordinatorForwardingTest, AForwardSkipsAReplicaTheDetectorKnowsIsDown) {
  net().SetDown(Addr("n3"));
  c().RunDetectors(3'000'000);  // n1's probes (and n2's, asked to help) find n3 down
  ASSERT_TRUE(c().node("n1").liveness->IsDown(Addr("n3")));
  auto put = Put("n1", key_, "v", "", kQuorum);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  EXPECT_EQ("n4", put.dot().node);
  EXPECT_EQ((Values{"n4", "n5"}), put.acks());
  EXPECT_EQ(0u, ForwardsTo("n3")) << "a replica known to be down is tried last";
  EXPECT_EQ(1u, ForwardsTo("n4"));
}

TEST_F(CoordinatorForwardingTest, AForwardToADownReplicaNotYetKnownMovesOnToTheNext) {
  net().SetDown(Addr("n3"));
  auto put = Put("n1", key_, "v", "", kQuorum);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  EXPECT_EQ("n4", put.dot().node);
  EXPECT_EQ(1u, ForwardsTo("n3"));
  EXPECT_EQ(1u, ForwardsTo("n4"));
  EXPECT_FALSE(c().node("n1").liveness->IsDown(Addr("n3"))) << "one refusal is a suspicion, not a verdict";
}

TEST_F(CoordinatorForwardingTest, AForwardWithoutAnAnswerFailsAsMaybeAppliedAndIsNotForwardedAgain) {
  net().SetPartitionMode(test::PartitionMode::kBlackHole);
  net().Block(Addr("n1"), Addr("n3"));  // the forward vanishes; n1 cannot tell it from a lost receipt
  const uint64_t start = net().now();
  auto put = c().StartPut("n1", key_, "v", "", kQuorum);
  ASSERT_TRUE(net().RunUntil([&] { return put->done(); }));
  ledger_.Record(key_, "v", false, "", 0, *put);
  EXPECT_TRUE(put->status.IsUnavailable()) << put->status.ToString();
  EXPECT_EQ("write forwarded to n3 not confirmed (n3 timeout): it may have been applied", put->status.message());
  EXPECT_EQ(start + 500'000, put->at_us);
  EXPECT_EQ(0u, ForwardsTo("n4"));
  EXPECT_FALSE(c().node("n1").liveness->IsDown(Addr("n3"))) << "a timeout is no evidence of down";
  EXPECT_EQ(1u, c().node("n1").coordinator->stats().quorum_failures);
}

// Found by these tests: n1 used to forward a write again after a timeout, though
// the first replica may have applied it. The write then existed under two dots,
// the receipt covered one, and a put with that receipt brought the client's own
// superseded value back as a sibling.
TEST_F(CoordinatorForwardingTest, AForwardThatMayHaveBeenAppliedIsNeverForwardedAgain) {
  net().SetPartitionMode(test::PartitionMode::kBlackHole);
  net().Block(Addr("n3"), Addr("n1"));  // n3 coordinates the write; its receipt never reaches n1
  auto put = c().StartPut("n1", key_, "v1", "", kQuorum);
  ASSERT_TRUE(net().RunUntil([&] { return put->done(); }));
  ledger_.Record(key_, "v1", false, "", 0, *put);
  EXPECT_TRUE(put->status.IsUnavailable()) << put->status.ToString();
  EXPECT_EQ("write forwarded to n3 not confirmed (n3 timeout): it may have been applied", put->status.message());
  EXPECT_EQ(0u, ForwardsTo("n4")) << "forwarding again could apply the write twice, under two dots";
  net().RunUntilIdle();
  c().HealEverything();
  testing::GetOutcome seen = c().Get("n2", key_, kAll);
  EXPECT_EQ(Values{"v1"}, seen.values()) << "applied once, by n3";
  ASSERT_EQ(1u, seen.set->siblings().size());
  EXPECT_EQ("n3", seen.set->siblings().front().dot.node);
  // The client's next write, with what it read, leaves one value.
  ASSERT_TRUE(Put("n1", key_, "v2", seen.context(), kQuorum).status.ok());
  EXPECT_EQ(Values{"v2"}, c().Get("n2", key_, kAll).values());
}

// Found by these tests too: n1 took the replica's own Unavailable answer (its
// quorum failed, after it had stored the write) for "not reached", and forwarded
// the write to the next replica, which stored it a second time under its own dot.
TEST_F(CoordinatorForwardingTest, AReplicasFailedQuorumIsItsAnswerAndTheWriteIsNotForwardedAgain) {
  net().Partition({Addr("n3")}, {Addr("n4"), Addr("n5")});  // n1 reaches n3; n3 reaches no other replica
  auto put = Put("n1", key_, "v1", "", kQuorum);
  EXPECT_TRUE(put.status.IsUnavailable()) << put.status.ToString();
  EXPECT_EQ("quorum not reached: 1 of 2 write acks within 500ms (n4 unreachable (connection to 10.0.0.4:7000 "
            "failed: connect: No route to host), n5 unreachable (connection to 10.0.0.5:7000 failed: connect: No "
            "route to host))",
            put.status.message())
      << "the coordinating replica's answer, unchanged";
  EXPECT_EQ(0u, ForwardsTo("n4"));
  EXPECT_FALSE(c().node("n1").liveness->IsDown(Addr("n3"))) << "n3 answered";
  c().HealEverything();
  testing::GetOutcome seen = c().Get("n2", key_, kAll);
  EXPECT_EQ(Values{"v1"}, seen.values()) << "stored once, by n3 (a failed write is maybe applied)";
}

// A replica whose disk is full stores nothing and says NoSpace: the next one
// coordinates the write instead.
TEST_F(CoordinatorForwardingTest, AForwardRefusedByAReplicaWithAFullDiskMovesOnToTheNext) {
  base::FaultEnv& disk = c().node("n3").env;
  disk.SetSpaceLimit(disk.BytesStored());
  auto put = Put("n1", key_, "v", "", kQuorum);
  ASSERT_TRUE(put.status.ok()) << put.status.ToString();
  EXPECT_EQ("n4", put.dot().node);
  EXPECT_EQ(1u, ForwardsTo("n3"));
  EXPECT_EQ(1u, ForwardsTo("n4"));
  disk.SetSpaceLimit(base::FaultEnv::kUnlimited);
  EXPECT_EQ(Values{"v"}, c().Get("n2", key_, kAll).values());
}

// Found by these tests: a forward whose connection was lost after the request
// arrived used to be forwarded again, like one that never left, and was stored
// twice under two dots. The transport now reports a lost connection as Aborted
// (sent, outcome unknown) and only an Unavailable that never left is forwarded on.
TEST_F(CoordinatorForwardingTest, AForwardLostAfterItArrivedIsNotStoredTwice) {
  net().Block(Addr("n3"), Addr("n1"));  // kRefused: n3's receipt fails as "connection ... lost"
  auto put = Put("n1", key_, "v1", "", kQuorum);
  EXPECT_FALSE(put.status.ok()) << "the outcome is unknown: it may have been applied at n3";
  c().HealEverything();
  testing::GetOutcome seen = c().Get("n2", key_, kAll);
  EXPECT_EQ(1u, seen.set->siblings().size()) << "stored under " << testing::Dots(*seen.set);
}

TEST_F(CoordinatorForwardingTest, AWriteNoReplicaCanCoordinateNamesEachReplica) {
  for (const char* id : {"n3", "n4", "n5"}) net().SetDown(Addr(id));
  c().RunDetectors(3'000'000);
  auto put = Put("n1", key_, "v", "", kOne);
  EXPECT_TRUE(put.status.IsUnavailable());
  EXPECT_EQ("no replica of the key could coordinate the write (n3 down, n4 down, n5 down)", put.status.message());
  EXPECT_EQ(1u, c().node("n1").coordinator->stats().quorum_failures);
}

TEST_F(CoordinatorForwardingTest, AReplicasRefusalOfAForwardedWriteReachesTheClientAndNoOtherReplicaIsTried) {
  ASSERT_TRUE(Put("n1", key_, "s1", "", kAll).status.ok());
  ASSERT_TRUE(Put("n1", key_, "s2", "", kAll).status.ok());
  auto refused = Put("n1", key_, "s3", "", kOne);  // n3 is at the cap of 2
  EXPECT_TRUE(refused.status.IsTooLarge()) << refused.status.ToString();
  EXPECT_EQ("key has 2 siblings (limit 2); resolve them with a put that carries the context from a get",
            refused.status.message());
  EXPECT_EQ(3u, ForwardsTo("n3"));
  EXPECT_EQ(0u, ForwardsTo("n4")) << "a replica's answer is final: only unreachable replicas are skipped";
  for (const char* id : {"n3", "n4", "n5"}) EXPECT_EQ((Values{"s1", "s2"}), LiveValues(c().Local(id, key_))) << id;
}

TEST_F(CoordinatorForwardingTest, ADamagedContextIsRefusedBeforeAnythingIsForwarded) {
  std::string damaged = EncodeClientContext(ContextKey::Default(), key_, VV("[n3:1]"));
  damaged.back() ^= 1;
  auto put = Put("n1", key_, "v", damaged, kQuorum);
  EXPECT_TRUE(put.status.IsInvalidArgument()) << put.status.ToString();
  EXPECT_NE(std::string::npos, put.status.message().find("context: forged, damaged or another key's"))
      << put.status.message();
  EXPECT_EQ(0u, ForwardsTo("n3"));
  EXPECT_EQ(0u, c().node("n1").coordinator->stats().forwarded);
}

// --- Read repair ------------------------------------------------------------------------

TEST_F(CoordinatorTest, AReadRepairsEveryStaleReplicaWithTheMergedSet) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  net().Partition({Addr("n3")}, {Addr("n1"), Addr("n2")});
  ASSERT_TRUE(Put("n1", key, "v1", "", kQuorum).status.ok());  // on n1 and n2
  ASSERT_TRUE(Put("n3", key, "v2", "", kOne).status.ok());     // on n3 alone
  net().Heal();
  ASSERT_EQ(Values{"v1"}, LiveValues(c().Local("n1", key)));
  ASSERT_EQ(Values{"v2"}, LiveValues(c().Local("n3", key)));
  testing::GetOutcome got = c().Get("n2", key, kQuorum);
  // R=2: n2 itself and n1, the first to answer (v2 went to n3 alone, at W=1).
  EXPECT_EQ(Values{"v1"}, got.values());
  // The repair waits for every reply, n3's included, and writes the merge everywhere.
  EXPECT_EQ(3u, c().node("n2").coordinator->stats().read_repairs) << "each replica lacked a sibling";
  std::optional<SiblingSet> n1 = c().Local("n1", key);
  ASSERT_TRUE(n1.has_value());
  EXPECT_EQ((Values{"v1", "v2"}), LiveValues(n1));
  for (const char* id : {"n2", "n3"}) EXPECT_EQ(*n1, c().Local(id, key)) << id << " differs from n1";
  EXPECT_EQ((Values{"v1", "v2"}), c().Get("n2", key, kQuorum).values());
  EXPECT_EQ(3u, c().node("n2").coordinator->stats().read_repairs) << "nothing left to repair";
}

TEST_F(CoordinatorTest, AReadRepairsAReplicaThatMissedTheKey) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  net().SetDown(Addr("n3"));
  ASSERT_TRUE(Put("n1", key, "v", "", kQuorum).status.ok());
  net().SetDown(Addr("n3"), false);
  ASSERT_FALSE(c().Local("n3", key).has_value());
  testing::GetOutcome got = c().Get("n1", key, kOne);
  EXPECT_EQ(Values{"v"}, got.values());
  EXPECT_EQ(1u, c().node("n1").coordinator->stats().read_repairs);
  EXPECT_EQ(c().Local("n1", key), c().Local("n3", key)) << "even an R=1 read repairs once every reply is in";
}

TEST_F(CoordinatorTest, AReadRepairNeverUndoesAWriteThatRacedWithIt) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  net().SetDown(Addr("n3"));
  auto a = Put("n1", key, "A", "", kQuorum);  // n3 misses A
  ASSERT_TRUE(a.status.ok());
  net().SetDown(Addr("n3"), false);
  // Between n1 and n3 each message takes 100 ms: n3's read reply reaches n1 at
  // 200 ms, and n1's repair of n3 (the merged set {A}) lands at 300 ms.
  net().SetLinkFaults(Addr("n1"), Addr("n3"), {.min_delay_us = 100'000, .max_delay_us = 100'000});
  net().SetLinkFaults(Addr("n3"), Addr("n1"), {.min_delay_us = 100'000, .max_delay_us = 100'000});
  auto got = c().StartGet("n1", key, kQuorum);
  ASSERT_TRUE(net().RunUntil([&] { return got->done(); }));
  EXPECT_EQ(Values{"A"}, got->values());
  net().RunFor(250'000);
  ASSERT_EQ(0u, c().node("n3").endpoint->received(kReplicaWriteOp)) << "the repair has not landed yet";
  // Meanwhile a client who read A replaces it with B through n3.
  auto b = c().StartPut("n3", key, "B", a.result.context, kOne);
  ASSERT_TRUE(b->done());
  ledger_.Record(key, "B", false, a.result.context, 0, *b);
  net().RunUntilIdle();
  EXPECT_EQ(1u, c().node("n1").coordinator->stats().read_repairs);
  EXPECT_GE(c().node("n3").endpoint->received(kReplicaWriteOp), 1u) << "the repair did land, after B";
  for (const std::string& id : c().ids()) {
    std::optional<SiblingSet> local = c().Local(id, key);
    ASSERT_TRUE(local.has_value()) << id;
    EXPECT_EQ(Values{"B"}, LiveValues(local)) << id << ": the repair must merge, never replace";
    EXPECT_EQ(1u, local->siblings().size()) << id;
    EXPECT_TRUE(local->history().Covers(a.dot())) << id;
  }
}

// --- Refusals and their words --------------------------------------------------------------

TEST_F(CoordinatorTest, AWriteRefusedAtTheSiblingCapIsNotReplicated) {
  SimClusterOptions options;
  options.versioning.max_siblings = 3;
  options.versioning.warn_siblings = 0;
  Start(options);
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  for (const char* v : {"s1", "s2", "s3"}) ASSERT_TRUE(Put("n1", key, v, "", kAll).status.ok()) << v;
  const uint64_t n2_writes = c().node("n2").endpoint->received(kReplicaWriteOp);
  auto refused = Put("n1", key, "s4", "", kOne);
  EXPECT_TRUE(refused.status.IsTooLarge()) << refused.status.ToString();
  EXPECT_EQ("key has 3 siblings (limit 3); resolve them with a put that carries the context from a get",
            refused.status.message());
  EXPECT_TRUE(refused.result.acks.empty());
  EXPECT_EQ(n2_writes, c().node("n2").endpoint->received(kReplicaWriteOp)) << "a refused write is not sent on";
  EXPECT_EQ(1u, c().node("n1").store->stats().refused_siblings);
  for (const std::string& id : c().ids()) {
    EXPECT_EQ((Values{"s1", "s2", "s3"}), LiveValues(c().Local(id, key))) << id;
  }
  // A put with a get's context resolves them and goes through.
  testing::GetOutcome seen = c().Get("n2", key, kAll);
  ASSERT_TRUE(Put("n1", key, "merged", seen.context(), kAll).status.ok());
  EXPECT_EQ(Values{"merged"}, c().Get("n3", key, kAll).values());
}

// --- Per-datacenter levels ------------------------------------------------------------------

constexpr uint8_t kLocalOne = net::kConsistencyLocalOne;
constexpr uint8_t kLocalQuorum = net::kConsistencyLocalQuorum;
constexpr uint8_t kEachQuorum = net::kConsistencyEachQuorum;

// n1, n2 in dc1 and n3, n4 in dc2, two replicas of every key in each.
SimClusterOptions TwoDcs() {
  SimClusterOptions o;
  o.nodes = 4;
  o.replication = "dc1:2,dc2:2";
  o.dcs = {"dc1", "dc1", "dc2", "dc2"};
  return o;
}

TEST_F(CoordinatorTest, LocalQuorumKeepsWorkingInOneDatacenterWhileTheOtherIsGoneAndEachQuorumDoesNot) {
  Start(TwoDcs());
  const std::string key = "dc-key";
  ASSERT_TRUE(Put("n1", key, "v1", "", kEachQuorum).status.ok());
  net().SetDown(Addr("n3"));
  net().SetDown(Addr("n4"));
  c().RunDetectors(3'000'000);
  auto local = Put("n1", key, "v2", c().Get("n1", key, kLocalQuorum).context(), kLocalQuorum);
  ASSERT_TRUE(local.status.ok()) << local.status.ToString();
  testing::GetOutcome read = c().Get("n2", key, kLocalQuorum);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(Values{"v2"}, read.values());
  EXPECT_TRUE(c().Get("n2", key, kLocalOne).status.ok());
  // EACH_QUORUM needs dc2 too, and says so per datacenter.
  auto each = Put("n1", key, "v3", read.context(), kEachQuorum, net::kWriteFlagStrict);
  EXPECT_TRUE(each.status.IsUnavailable());
  EXPECT_NE(std::string::npos, each.status.message().find("write acks 2 of 2 in dc1, 0 of 2 in dc2"))
      << each.status.message();
  auto each_read = c().StartGet("n1", key, kEachQuorum, net::kGetFlagStrict);
  ASSERT_TRUE(net().RunUntil([&] { return each_read->done(); }));
  EXPECT_NE(std::string::npos, each_read->status.message().find("read replies 2 of 2 in dc1, 0 of 2 in dc2"))
      << each_read->status.message();
  net().SetDown(Addr("n3"), false);
  net().SetDown(Addr("n4"), false);
}

TEST_F(CoordinatorTest, ALocalLevelCountsOnlyTheCoordinatorsDatacenter) {
  Start(TwoDcs());
  const std::string key = "dc-key";
  ASSERT_TRUE(Put("n1", key, "v1", "", kAll).status.ok());
  // With dc1 cut off from n1's peers, n1's LOCAL_QUORUM (2 of dc1's 2) fails even
  // though all of dc2 answers.
  net().Block(Addr("n1"), Addr("n2"));
  auto cut = Put("n1", key, "v2", c().Get("n1", key, kOne).context(), kLocalQuorum, net::kWriteFlagStrict);
  EXPECT_TRUE(cut.status.IsUnavailable());
  EXPECT_NE(std::string::npos, cut.status.message().find("write acks 1 of 2 in dc1")) << cut.status.message();
  // LOCAL_ONE needs n1 alone.
  EXPECT_TRUE(Put("n1", key, "v3", "", kLocalOne).status.ok());
  net().Heal();
}

TEST_F(CoordinatorTest, PerDatacenterLevelsAreNamedAndParsed) {
  for (const char* name : {"LOCAL_ONE", "LOCAL_QUORUM", "EACH_QUORUM", "local_quorum"}) {
    uint8_t level = 0;
    ASSERT_TRUE(net::ParseConsistency(name, &level)) << name;
    std::string upper(name);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_EQ(upper, net::ConsistencyName(level));
  }
  uint8_t level = 0;
  EXPECT_FALSE(net::ParseConsistency("LOCAL_ALL", &level));
  EXPECT_EQ(251, [] { uint8_t l = 0; net::ParseConsistency("local_one", &l); return l; }());
  EXPECT_EQ(252, [] { uint8_t l = 0; net::ParseConsistency("local_quorum", &l); return l; }());
  EXPECT_EQ(253, [] { uint8_t l = 0; net::ParseConsistency("each_quorum", &l); return l; }());
}

TEST_F(CoordinatorTest, ALocalLevelOnANodeWhoseDatacenterHoldsNoReplicaIsRefusedBeforeAnythingIsSent) {
  SimClusterOptions o = TwoDcs();
  o.replication = "dc2:2";  // dc1's nodes hold no replica
  Start(o);
  const uint64_t calls = net().stats().calls;
  auto put = Put("n1", "k", "v", "", kLocalQuorum);
  EXPECT_TRUE(put.status.IsInvalidArgument());
  EXPECT_EQ("w=LOCAL_QUORUM: the key has no replica in this node's datacenter dc1", put.status.message());
  EXPECT_EQ(calls, net().stats().calls);
}

// (From branch coord's coordinator_dc_test.cc.)
TEST_F(CoordinatorTest, ALocalWriteIsForwardedOnlyToAReplicaOfTheClientsDatacenter) {
  SimClusterOptions o;
  o.nodes = 6;  // n1..n3 in dc1, n4..n6 in dc2; two replicas per datacenter
  o.replication = "dc1:2,dc2:2";
  o.dcs = {"dc1", "dc1", "dc1", "dc2", "dc2", "dc2"};
  Start(o);
  std::string key;
  for (int i = 0; i < 1000 && key.empty(); ++i) {
    const std::string k = "key-" + std::to_string(i);
    const Values replicas = c().ReplicasOf(k);
    if (std::find(replicas.begin(), replicas.end(), "n6") == replicas.end()) key = k;
  }
  ASSERT_FALSE(key.empty());
  Values dc2;
  for (const std::string& id : c().ReplicasOf(key)) {
    if (c().node(id).info.dc == "dc2") dc2.push_back(id);
  }
  ASSERT_EQ(2u, dc2.size());
  for (const std::string& id : dc2) net().SetDown(Addr(id));
  c().RunDetectors(3'000'000);
  auto put = Put("n6", key, "v", "", kLocalQuorum);
  EXPECT_TRUE(put.status.IsUnavailable());
  EXPECT_EQ("no replica of the key could coordinate the write (" + dc2[0] + " down, " + dc2[1] + " down)",
            put.status.message())
      << "dc1's replicas are up but cannot count dc2's quorum";
  for (const char* id : {"n1", "n2", "n3"}) EXPECT_EQ(0u, c().node(id).endpoint->received(kForwardWriteOp)) << id;
  auto global = Put("n6", key, "w", "", 2);  // any replica may coordinate a level that is not LOCAL_*
  ASSERT_TRUE(global.status.ok()) << global.status.ToString();
  EXPECT_EQ("dc1", c().node(global.dot().node).info.dc);
}

// (From branch coord's coordinator_dc_test.cc.)
TEST_F(CoordinatorTest, InADatacenterWithoutReplicasLocalReadsAreRefusedButEachQuorumWorks) {
  SimClusterOptions o;
  o.nodes = 5;
  o.replication = "dc1:2,dc2:2";
  o.dcs = {"dc1", "dc1", "dc2", "dc2", "dc3"};
  Start(o);
  const uint64_t calls = net().stats().calls;
  testing::GetOutcome got = c().Get("n5", "k", kLocalOne);
  EXPECT_TRUE(got.status.IsInvalidArgument());
  EXPECT_EQ("r=LOCAL_ONE: the key has no replica in this node's datacenter dc3", got.status.message());
  EXPECT_EQ(calls, net().stats().calls);
  auto each = Put("n5", "k", "v", "", kEachQuorum);
  ASSERT_TRUE(each.status.ok()) << "EACH_QUORUM counts every datacenter holding replicas: " << each.status.ToString();
  testing::GetOutcome read = c().Get("n5", "k", kEachQuorum);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(Values{"v"}, read.values());
}

TEST_F(CoordinatorTest, ALevelAboveTheReplicaCountIsRefusedNamingBothNumbers) {
  Start();
  EXPECT_EQ("r=4 needs 4 replicas but the key has 3", c().Get("n1", "k", 4).status.message());
  auto put = Put("n1", "k", "v", "", 4);
  EXPECT_TRUE(put.status.IsInvalidArgument());
  EXPECT_EQ("w=4 needs 4 replicas but the key has 3", put.status.message());
}

TEST_F(CoordinatorTest, ADamagedContextIsRefusedAndNothingIsWritten) {
  Start();
  auto put = Put("n1", "k", "v", "not a context", kQuorum);
  EXPECT_TRUE(put.status.IsInvalidArgument()) << put.status.ToString();
  EXPECT_EQ(0, put.status.message().rfind("context: ", 0)) << put.status.message();
  EXPECT_FALSE(c().Local("n1", "k").has_value());
}

// --- Receipts -------------------------------------------------------------------------------

TEST_F(CoordinatorTest, AReceiptsContextSupersedesExactlyThatWrite) {
  Start();
  const std::string key = "receipt";
  auto a = Put("n1", key, "A", "", kAll);
  ASSERT_TRUE(a.status.ok());
  EXPECT_EQ(VV("[n1:1]"), Counters(Decoded(key, a.result.context)));
  Dot dot;
  VersionVector seen;
  ASSERT_TRUE(DecodeSiblingClock(a.result.clock, &dot, &seen).ok());
  EXPECT_EQ((Dot{"n1", 1}), dot);
  EXPECT_TRUE(seen.empty()) << "A was written from nothing";
  // The receipt's clock is the stored sibling's clock.
  std::optional<SiblingSet> stored = c().Local("n2", key);
  ASSERT_TRUE(stored.has_value());
  std::string clock;
  EncodeSiblingClock(&clock, stored->siblings().front());
  EXPECT_EQ(clock, a.result.clock);

  auto x = Put("n2", key, "X", "", kAll);  // someone else's write, never seen by A's writer
  ASSERT_TRUE(x.status.ok());
  auto a2 = Put("n1", key, "A2", a.result.context, kAll);
  ASSERT_TRUE(a2.status.ok());
  EXPECT_EQ((Values{"A2", "X"}), c().Get("n3", key, kAll).values()) << "A2 replaces A, and only A";
  auto a3 = Put("n3", key, "A3", a2.result.context, kAll);
  ASSERT_TRUE(a3.status.ok());
  EXPECT_EQ((Values{"A3", "X"}), c().Get("n1", key, kAll).values()) << "a receipt from n1 works through n3";
}

TEST_F(CoordinatorTest, AReceiptAfterWritesTheClientNeverSawCoversOnlyWhatItSaw) {
  Start();
  const std::string key = c().KeyWithReplicas({"n1", "n2", "n3"});
  ASSERT_TRUE(Put("n1", key, "A", "", kAll).status.ok());
  const std::string read_context = c().Get("n1", key, kAll).context();  // [n1:1]
  ASSERT_TRUE(Put("n1", key, "Y", "", kAll).status.ok());               // n1:2, unseen by the reader
  auto z = Put("n1", key, "Z", read_context, kAll);
  ASSERT_TRUE(z.status.ok());
  EXPECT_EQ((Dot{"n1", 3}), z.dot());
  EXPECT_EQ(VV("[n1:1]"), Counters(Decoded(key, z.result.context)))
      << "covering n1:3 would cover n1:2 (Y) too: the receipt hands back the write's context";
  auto z2 = Put("n1", key, "Z2", z.result.context, kAll);
  ASSERT_TRUE(z2.status.ok());
  EXPECT_EQ((Values{"Y", "Z", "Z2"}), c().Get("n2", key, kAll).values()) << "Y is never lost";
}

}  // namespace
}  // namespace kvring::repl

namespace kvring::repl {
namespace {

// A merge may reach twice a coordinated write's limit (two replicas' sets meet),
// no more: a larger set could not be read back in one frame. The sim's stores
// take 1 MiB sets, so merges stop at 2 MiB.
TEST(ReplicaStoreMerge, AMergeTooLargeToReadBackIsRefusedAndNothingIsStored) {
  testing::SimCluster c({});
  ASSERT_TRUE(c.Put("n1", "big", "small", "", 3).status.ok());
  std::vector<Sibling> siblings;
  VersionVector history;
  for (int i = 0; i < 3; ++i) {
    Sibling s;
    s.dot = Dot{"peer" + std::to_string(i), 1};
    s.value = std::string(800 << 10, static_cast<char>('a' + i));
    history.Witness(s.dot.node, 1, 0);
    siblings.push_back(std::move(s));
  }
  auto incoming = SiblingSet::FromParts(history, std::move(siblings));
  ASSERT_TRUE(incoming.ok()) << incoming.status().ToString();
  testing::SimNode& n2 = c.node("n2");
  Status applied = Status::OK();
  bool durable_called = false;
  n2.store->Merge(
      n2.endpoint, "big", *incoming, [&](Status s, const SiblingSet&) { applied = s; },
      [&](Status) { durable_called = true; });
  c.net().RunUntilIdle();
  EXPECT_TRUE(applied.IsTooLarge()) << applied.ToString();
  EXPECT_NE(std::string::npos, applied.message().find("could not be read back")) << applied.message();
  EXPECT_FALSE(durable_called);
  EXPECT_EQ(1u, n2.store->stats().merges_refused_size);
  EXPECT_EQ((Values{"small"}), LiveValues(c.Local("n2", "big")));
}

}  // namespace
}  // namespace kvring::repl
