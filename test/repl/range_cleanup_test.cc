// test/repl/range_cleanup_test.cc — repl::RangeCleaner in-process, on an engine
// in a fault-injecting Env with a ring of n1..n3 (N=2): a cleanup leaves n1
// exactly the keys of the ranges it replicates, is refused while the cluster is
// in transition or while another cleanup runs, and the automatic one runs its
// delay after a change that took ranges away, and only then.
// (From branch cleanup's CleanerTest, adapted to RangeCleaner.)
#include "repl/range_cleanup.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/fault_env.h"
#include "repl/aae_ranges.h"
#include "repl/replica_store.h"
#include "ring/membership_view.h"
#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

constexpr int kKeys = 500;

std::vector<ring::NodeInfo> Members(int n) {
  std::vector<ring::NodeInfo> out;
  for (int i = 1; i <= n; i++) out.push_back({.id = "n" + std::to_string(i), .address = "h:" + std::to_string(i)});
  return out;
}

class RangeCleanerTest : public ::testing::Test {
 protected:
  RangeCleanerTest() {
    lsm::Options o;
    o.env = &env_;
    EXPECT_TRUE(lsm::DB::Open(o, "/db", &db_).ok());
    ring::RingOptions ro;
    ro.vnodes_per_weight = 16;
    ro.replication = ring::ReplicationSpec::Total(2);
    view_ = std::make_unique<ring::RingHolder>(ro);
    EXPECT_TRUE(view_->Update(Members(3)).ok());
    for (int i = 0; i < kKeys; i++) {
      EXPECT_TRUE(db_->Put(lsm::WriteOptions(), StorageKey("k" + std::to_string(i)), "v").ok());
    }
  }
  std::unique_ptr<RangeCleaner> Cleaner(const std::string& self, uint64_t delay_us = 0) {
    return std::make_unique<RangeCleaner>(CleanupOptions{self, delay_us}, db_.get(), view_.get(), &loop_, &loop_,
                                          &clock_, base::Logger::Null());
  }
  // Runs a cleanup to its end: its status and the ranges it deleted.
  std::pair<base::Status, std::vector<ring::TokenRange>> Run(RangeCleaner* cleaner) {
    bool done = false;
    std::pair<base::Status, std::vector<ring::TokenRange>> out;
    cleaner->Run([&](base::Status s, std::vector<ring::TokenRange> ranges) {
      out = {s, std::move(ranges)};
      done = true;
    });
    EXPECT_TRUE(loop_.RunUntil([&] { return done; }));
    return out;
  }
  bool Holds(const std::string& key) {
    std::string value;
    return db_->Get(lsm::ReadOptions(), StorageKey(key), &value).ok();
  }
  // Keys the engine holds that n1 does not replicate, and keys it replicates that are gone.
  std::pair<int, int> Misplaced() {
    int extra = 0, missing = 0;
    const auto ring = view_->Current();
    for (int i = 0; i < kKeys; i++) {
      const std::string key = "k" + std::to_string(i);
      const bool holds = Holds(key);
      const bool replicates = ring->PreferenceListForKey(key).ContainsId("n1");
      extra += holds && !replicates;
      missing += !holds && replicates;
    }
    return {extra, missing};
  }

  base::FaultEnv env_;
  base::ManualClock clock_;
  testing::QueueExecutor loop_;
  std::unique_ptr<lsm::DB> db_;
  std::unique_ptr<ring::RingHolder> view_;
};

TEST_F(RangeCleanerTest, DropsExactlyTheKeysOfTheRangesTheNodeDoesNotReplicate) {
  auto cleaner = Cleaner("n1");
  ASSERT_GT(Misplaced().first, 50) << "the test proves nothing";
  auto [status, ranges] = Run(cleaner.get());
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(std::make_pair(0, 0), Misplaced());
  EXPECT_EQ(RangesReplicated(*view_->Current(), "n1", false).size(), ranges.size());
  ASSERT_GT(ranges.size(), 2u);
  EXPECT_EQ(1u, db_->GetStats().range_deletes) << "every range in one range delete, not key by key or arc by arc";
  EXPECT_EQ(1u, cleaner->stats().runs);
  EXPECT_EQ(ranges.size(), cleaner->stats().ranges_deleted);
  ASSERT_TRUE(Run(cleaner.get()).first.ok());
  EXPECT_EQ(std::make_pair(0, 0), Misplaced()) << "a second run changes nothing";
}

TEST_F(RangeCleanerTest, IsRefusedDuringAMembershipChangeAndDeletesNothing) {
  ASSERT_TRUE(view_->Update(Members(3), Members(4), "").ok());
  ASSERT_NE(nullptr, view_->Transition());
  auto cleaner = Cleaner("n1");
  const int extra = Misplaced().first;
  auto [status, ranges] = Run(cleaner.get());
  EXPECT_TRUE(status.IsBusy()) << status.ToString();
  EXPECT_NE(std::string::npos, status.message().find("in transition")) << status.ToString();
  EXPECT_TRUE(ranges.empty());
  EXPECT_EQ(0u, db_->GetStats().range_deletes) << "a refused cleanup deletes nothing";
  EXPECT_EQ(extra, Misplaced().first);
  EXPECT_EQ(0u, cleaner->stats().runs);
}

TEST_F(RangeCleanerTest, ASecondCleanupWhileOneRunsIsRefused) {
  auto cleaner = Cleaner("n1");
  bool first_done = false;
  cleaner->Run([&](base::Status s, std::vector<ring::TokenRange>) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    first_done = true;
  });
  auto [status, ranges] = Run(cleaner.get());  // before the first one's work ran
  EXPECT_TRUE(status.IsBusy()) << status.ToString();
  EXPECT_EQ("a cleanup runs", status.message());
  ASSERT_TRUE(loop_.RunUntil([&] { return first_done; }));
  EXPECT_EQ(std::make_pair(0, 0), Misplaced());
}

// What aae_ranges.h documents: a node the ring does not name replicates nothing,
// so its cleanup deletes everything it holds.
// A node its own ring lacks (it left, or its view is not built) would delete
// everything: refused, nothing deleted.
TEST_F(RangeCleanerTest, ANonMembersCleanupIsRefusedAndDeletesNothing) {
  auto stranger = Cleaner("n9");
  const base::Status s = Run(stranger.get()).first;
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("n9 is not a member")) << s.ToString();
  int held = 0;
  for (int i = 0; i < kKeys; i++) held += Holds("k" + std::to_string(i));
  EXPECT_EQ(kKeys, held);
  EXPECT_EQ(0u, db_->GetStats().range_deletes);
}

TEST_F(RangeCleanerTest, TheAutomaticCleanupRunsItsDelayAfterAChangeThatTookRangesAway) {
  auto cleaner = Cleaner("n1", 1000);
  auto tick = [&] {
    cleaner->Tick();
    loop_.RunQueued();
    loop_.RunQueued();  // the io step, then its answer on the loop
  };
  tick();
  clock_.Advance(5000);
  tick();
  EXPECT_EQ(0u, db_->GetStats().range_deletes) << "the first ring is no change";
  ASSERT_TRUE(view_->Update(Members(3), Members(4), "").ok());  // n4 joins
  tick();
  clock_.Advance(5000);
  tick();
  EXPECT_EQ(0u, db_->GetStats().range_deletes) << "nothing during the transition";
  ASSERT_TRUE(view_->Update(Members(4)).ok());  // the join is done: n1 replicates less
  tick();
  clock_.Advance(999);
  tick();
  EXPECT_EQ(0u, db_->GetStats().range_deletes) << "before its delay";
  clock_.Advance(1);
  tick();
  EXPECT_EQ(1u, cleaner->stats().runs);
  EXPECT_EQ(std::make_pair(0, 0), Misplaced());
  clock_.Advance(5000);
  tick();
  EXPECT_EQ(1u, cleaner->stats().runs) << "once per change";
  // n4 leaves again: n1 replicates more, so nothing is due.
  ASSERT_TRUE(view_->Update(Members(4), Members(3), "").ok());
  tick();
  ASSERT_TRUE(view_->Update(Members(3)).ok());
  tick();
  clock_.Advance(5000);
  tick();
  EXPECT_EQ(1u, cleaner->stats().runs);
}

TEST_F(RangeCleanerTest, ADelayOfZeroTurnsTheAutomaticCleanupOff) {
  auto off = Cleaner("n1", 0);
  ASSERT_TRUE(view_->Update(Members(3), Members(4), "").ok());
  off->Tick();
  ASSERT_TRUE(view_->Update(Members(4)).ok());
  off->Tick();
  clock_.Advance(1'000'000);
  off->Tick();
  loop_.RunQueued();
  EXPECT_EQ(0u, db_->GetStats().range_deletes);
}

}  // namespace
}  // namespace kvring::repl
