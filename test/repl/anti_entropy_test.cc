// Tests of the anti-entropy schedule and the repair job (repl/anti_entropy.h)
// on three simulated replicas (test/util/sim_cluster.h): a job compares every
// range with every co-replica and records the full comparison; a job saved
// part-way resumes with only the ranges it had not finished; a peer that is not
// up is waited for (and the job says so); the automatic schedule converges by
// itself; the saved state has a pinned byte format and refuses damage.
#include "repl/anti_entropy.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "net/protocol.h"
#include "repl/purge_horizon.h"
#include "repl/repair_state.h"
#include "test/repl/repl_test_util.h"
#include "test/util/sim_cluster.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using base::Status;
using testing::SimCluster;
using testing::SimClusterOptions;

constexpr char kStatePath[] = "/n1/repair";

class AntiEntropyTest : public ::testing::Test {
 protected:
  AntiEntropyTest() : c_(SimClusterOptions{}) {}

  std::unique_ptr<AntiEntropy> Make(uint64_t interval_us = 0) {
    testing::SimNode& n = c_.node("n1");
    AntiEntropyOptions o;
    o.self = "n1";
    o.interval_us = interval_us;
    o.retry_us = 1'000'000;
    o.state_path = kStatePath;
    return std::make_unique<AntiEntropy>(o, n.leaves.get(), n.store.get(), /*hints=*/nullptr, n.liveness.get(),
                                         n.ring.get(), n.endpoint, n.endpoint, n.endpoint, &n.env, c_.net().clock(),
                                         base::Logger::Null());
  }

  void WriteLocally(const std::string& id, const std::string& key, const std::string& value,
                    WriteKind kind = WriteKind::kPut) {
    testing::SimNode& n = c_.node(id);
    bool done = false;
    n.store->Coordinate(
        n.endpoint, key, kind, value, VersionVector(), true, [](Status, const SiblingSet&) {},
        [&done](Status s) {
          EXPECT_TRUE(s.ok()) << s.ToString();
          done = true;
        });
    ASSERT_TRUE(c_.net().RunUntil([&] { return done; }));
  }

  // Ticks every 100 ms of simulated time until pred holds (at most `max_us`).
  bool TickUntil(AntiEntropy* ae, const std::function<bool()>& pred, uint64_t max_us = 600'000'000) {
    for (uint64_t t = 0; t < max_us; t += 100'000) {
      if (pred()) return true;
      ae->Tick();
      c_.net().RunFor(100'000);
    }
    return pred();
  }

  // Runs a repair job to its end.
  void RunJob(AntiEntropy* ae, const RepairRequest& request) {
    ASSERT_TRUE(ae->StartRepair(request).ok());
    ASSERT_TRUE(TickUntil(ae, [&] { return ae->Progress().state == RepairState::kDone; }));
  }

  bool Holds(const std::string& id, const std::string& key, const std::string& value) {
    auto set = c_.Local(id, key);
    return set && testing::Values(*set) == value;
  }

  SimCluster c_;
};

TEST_F(AntiEntropyTest, ARepairJobComparesEveryRangeWithEveryCoReplicaAndRecordsTheFullComparison) {
  for (int i = 0; i < 40; i++) WriteLocally(i % 2 ? "n2" : "n3", "k" + std::to_string(i), "v" + std::to_string(i));
  auto ae = Make();
  auto started = ae->StartRepair({});
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  const size_t ranges = SharedRanges(*c_.node("n1").ring->Current(), "n1", "n2").size() +
                        SharedRanges(*c_.node("n1").ring->Current(), "n1", "n3").size();
  EXPECT_EQ(ranges, started->ranges_total);
  EXPECT_TRUE(ae->StartRepair({}).status().IsBusy()) << "one job at a time";
  ASSERT_TRUE(TickUntil(ae.get(), [&] { return ae->Progress().state == RepairState::kDone; }));
  const RepairProgress p = ae->Progress();
  EXPECT_EQ(ranges, p.ranges_done);
  EXPECT_EQ(40u, p.keys_received) << "20 from each peer";
  EXPECT_EQ(20u, p.keys_sent) << "n2's keys on to n3 (compared second)";
  EXPECT_GT(p.last_full_wall_us, 0u);
  EXPECT_EQ(60u, p.last_full_keys_repaired);
  for (int i = 0; i < 40; i++) EXPECT_TRUE(Holds("n1", "k" + std::to_string(i), "v" + std::to_string(i))) << i;
  // The end is saved: a restarted node knows the job is done and what it found.
  RepairJobState saved;
  ASSERT_TRUE(LoadRepairJobState(&c_.node("n1").env, kStatePath, &saved).ok());
  EXPECT_EQ(RepairState::kDone, saved.progress.state);
  EXPECT_EQ(ranges, saved.done.size());
}

TEST_F(AntiEntropyTest, AJobSavedPartWayResumesWithOnlyTheRangesItHadNotFinished) {
  WriteLocally("n3", "only-on-n3", "x");
  // A job that had finished every range with n2 when its node stopped.
  RepairJobState state;
  state.progress.job = 7;
  state.progress.state = RepairState::kRunning;
  for (const SharedRange& r : SharedRanges(*c_.node("n1").ring->Current(), "n1", "n2")) state.done.emplace("n2", r.range.end);
  state.progress.ranges_total = 2 * state.done.size();
  ASSERT_TRUE(SaveRepairJobState(&c_.node("n1").env, kStatePath, state).ok());
  auto ae = Make();
  ae->Load();
  EXPECT_EQ(RepairState::kRunning, ae->Progress().state);
  EXPECT_EQ(state.done.size(), ae->Progress().ranges_done);
  ASSERT_TRUE(TickUntil(ae.get(), [&] { return ae->Progress().state == RepairState::kDone; }));
  EXPECT_EQ(state.progress.ranges_total, ae->Progress().ranges_done);
  EXPECT_EQ(0u, c_.node("n2").endpoint->received(Op(ClusterOpcode::kAaeRangeHashes))) << "n2's ranges were done";
  EXPECT_GT(c_.node("n3").endpoint->received(Op(ClusterOpcode::kAaeRangeHashes)), 0u);
  EXPECT_TRUE(Holds("n1", "only-on-n3", "x"));
}

TEST_F(AntiEntropyTest, APeerThatIsNotUpIsWaitedForAndTheJobSaysSo) {
  WriteLocally("n2", "k", "v");
  c_.net().SetDown(SimCluster::AddressOf("n2"));
  c_.RunDetectors(10'000'000);
  ASSERT_NE(Liveness::kUp, c_.node("n1").liveness->StateOf("n2"));
  auto ae = Make();
  ASSERT_TRUE(ae->StartRepair({}).ok());
  ASSERT_TRUE(TickUntil(ae.get(), [&] { return ae->Progress().detail.find("waiting for n2") != std::string::npos; }))
      << ae->Progress().detail;
  const RepairProgress waiting = ae->Progress();
  EXPECT_EQ(RepairState::kRunning, waiting.state);
  EXPECT_EQ(waiting.ranges_total / 2, waiting.ranges_done) << "n3's half is done";
  EXPECT_EQ(0u, c_.node("n2").endpoint->received(Op(ClusterOpcode::kAaeRangeHashes)));
  c_.net().SetDown(SimCluster::AddressOf("n2"), false);
  c_.RunDetectors(10'000'000);
  ASSERT_TRUE(TickUntil(ae.get(), [&] { return ae->Progress().state == RepairState::kDone; }));
  EXPECT_TRUE(Holds("n1", "k", "v"));
}

TEST_F(AntiEntropyTest, TheAutomaticScheduleConvergesWithinOneIntervalAndRecordsAFullComparison) {
  WriteLocally("n2", "a", "1");
  WriteLocally("n3", "b", "2");
  auto ae = Make(/*interval_us=*/10'000'000);
  const uint64_t start = c_.net().now();
  ASSERT_TRUE(TickUntil(ae.get(), [&] { return Holds("n1", "a", "1") && Holds("n1", "b", "2"); }, 20'000'000));
  EXPECT_LE(c_.net().now() - start, 11'000'000u) << "each co-replica within one interval";
  ASSERT_TRUE(TickUntil(ae.get(), [&] { return ae->Progress().last_full_wall_us > 0; }, 20'000'000));
  EXPECT_EQ(3u, ae->Progress().last_full_keys_repaired) << "a and b in, and a on to n3";
  EXPECT_EQ(2u, ae->stats().exchanges);
}

// What the engine's compaction filter would decide for `key` on n1 now.
bool PurgeableOnN1(testing::SimNode& n1, const PurgeHorizon& horizon, const std::string& key, uint64_t seq) {
  std::string value;
  EXPECT_TRUE(n1.db->Get(lsm::ReadOptions(), StorageKey(key), &value).ok());
  return horizon.Purgeable(StorageKey(key), value, seq);
}

uint64_t SequenceOf(lsm::DB* db) {
  const lsm::Snapshot* s = db->GetSnapshot();
  const uint64_t seq = s->sequence();
  db->ReleaseSnapshot(s);
  return seq;
}

TEST_F(AntiEntropyTest, ATombstoneIsPurgeableOnlyOnceEveryCoReplicaWasFoundIdenticalAfterIt) {
  auto put = c_.Put("n1", "gone", "old", "", net::kConsistencyAll);
  ASSERT_TRUE(put.status.ok());
  // n1 and n2 delete it; n3 missed the delete (down, no hint) and holds "old".
  WriteLocally("n1", "gone", "", WriteKind::kDelete);
  WriteLocally("n2", "gone", "", WriteKind::kDelete);
  testing::SimNode& n1 = c_.node("n1");
  const uint64_t deleted_at = SequenceOf(n1.db.get());
  PurgeHorizon horizon("n1", n1.ring.get());
  auto ae = Make();
  ae->FeedPurgeHorizon(&horizon, [&] { return SequenceOf(n1.db.get()); }, nullptr);
  EXPECT_FALSE(PurgeableOnN1(n1, horizon, "gone", deleted_at)) << "no exchange yet: kept";
  // With n2 alone: identical there, but n3 was not compared.
  RunJob(ae.get(), {.peer = "n2"});
  EXPECT_FALSE(PurgeableOnN1(n1, horizon, "gone", deleted_at)) << "n3 not compared since: kept";
  // The full job finds n3's old value and repairs it: that range differed, so still kept.
  RunJob(ae.get(), {});
  ASSERT_TRUE(c_.Local("n3", "gone")->IsDeleted()) << "the tombstone won on n3";
  EXPECT_FALSE(PurgeableOnN1(n1, horizon, "gone", deleted_at)) << "the range differed with n3: kept";
  // The next comparison finds every co-replica identical: now it may go.
  RunJob(ae.get(), {});
  EXPECT_TRUE(PurgeableOnN1(n1, horizon, "gone", deleted_at));
  EXPECT_FALSE(PurgeableOnN1(n1, horizon, "gone", SequenceOf(n1.db.get()) + 1))
      << "a tombstone written after the exchange started is kept";
  // A live value is never purged.
  auto live = c_.Put("n1", "alive", "v", "", net::kConsistencyAll);
  ASSERT_TRUE(live.status.ok());
  EXPECT_FALSE(PurgeableOnN1(n1, horizon, "alive", 0));
}

TEST_F(AntiEntropyTest, RangesAreToldCleanOnlyWhenEveryCoReplicaAgreedAndOnlyWhenTheirSequenceRises) {
  ASSERT_TRUE(c_.Put("n1", "k", "v", "", net::kConsistencyAll).status.ok());
  testing::SimNode& n1 = c_.node("n1");
  PurgeHorizon horizon("n1", n1.ring.get());
  std::map<uint64_t, uint64_t> told;  // range end -> the sequence it was told at
  size_t calls = 0;
  horizon.OnRangeClean([&](const ring::TokenRange& range, uint64_t sequence) {
    told[range.end] = sequence;
    calls++;
  });
  auto ae = Make();
  ae->FeedPurgeHorizon(&horizon, [&] { return SequenceOf(n1.db.get()); }, nullptr);
  RunJob(ae.get(), {.peer = "n2"});
  EXPECT_EQ(0u, calls) << "n3 not compared yet: no range is clean with every co-replica";
  RunJob(ae.get(), {});
  const size_t ranges = SharedRanges(*n1.ring->Current(), "n1", "n3").size();  // N = 3: every range
  EXPECT_EQ(ranges, calls) << "each range once, when its last co-replica agreed";
  EXPECT_EQ(ranges, told.size());
  const uint64_t first = told.begin()->second;
  RunJob(ae.get(), {});
  EXPECT_EQ(ranges, calls) << "no write since: the sequence did not rise, nothing to tell";
  ASSERT_TRUE(c_.Put("n1", "k2", "v", "", net::kConsistencyAll).status.ok());
  RunJob(ae.get(), {});
  EXPECT_EQ(2 * ranges, calls);
  EXPECT_GT(told.begin()->second, first);
}

TEST_F(AntiEntropyTest, NoExchangeFeedsThePurgeRuleWhileAMemberAdvertisesHints) {
  WriteLocally("n1", "gone", "", WriteKind::kDelete);
  WriteLocally("n2", "gone", "", WriteKind::kDelete);
  WriteLocally("n3", "gone", "", WriteKind::kDelete);
  testing::SimNode& n1 = c_.node("n1");
  const uint64_t deleted_at = SequenceOf(n1.db.get());
  PurgeHorizon horizon("n1", n1.ring.get());
  auto ae = Make();
  bool hints = true;
  ae->FeedPurgeHorizon(&horizon, [&] { return SequenceOf(n1.db.get()); }, [&] { return hints; });
  RunJob(ae.get(), {});
  EXPECT_FALSE(PurgeableOnN1(n1, horizon, "gone", deleted_at));
  hints = false;
  RunJob(ae.get(), {});
  EXPECT_TRUE(PurgeableOnN1(n1, horizon, "gone", deleted_at));
}

TEST(RepairState, TheSavedStateIsPinnedByteForByteAndRefusesDamage) {
  RepairJobState st;
  st.progress.job = 2;
  st.progress.state = RepairState::kRunning;
  st.progress.started_wall_us = 1;
  st.progress.ranges_total = 3;
  st.request.peer = "n2";
  st.done.emplace("n2", 0x10);
  st.progress.ranges_done = 1;
  const std::string bytes = EncodeRepairJobState(st);
  const std::string hex = test::Hex(bytes);
  EXPECT_EQ("4b 56 52 45 50 41 49 52 01 02 01 01 02 6e 32 00 03 00 00 00 00 00 00 00 00 00 00 01 02 6e 32 10 00 00 00 "
            "00 00 00 00",
            hex.substr(0, hex.size() - 12));
  RepairJobState back;
  ASSERT_TRUE(DecodeRepairJobState(bytes, &back).ok());
  EXPECT_EQ(st, back);
  std::string flipped = bytes;
  flipped[12] ^= 1;
  Status s = DecodeRepairJobState(flipped, &back);
  EXPECT_EQ("repair state: checksum mismatch", s.message());
  s = DecodeRepairJobState(bytes.substr(0, 6), &back);
  EXPECT_TRUE(s.IsCorruption());
}

}  // namespace
}  // namespace kvring::repl
