#include "cmd/kvbench/staleness_tracker.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::cmd::kvbench {
namespace {

using Verdict = StalenessTracker::ReadVerdict;

// One write of `key` from issue to acknowledgement, at the given µs times.
uint32_t AckedWrite(StalenessTracker* t, uint64_t key, uint64_t ack_us, uint32_t slot = 0) {
  auto w = t->BeginWrite(key, slot);
  t->EndWrite(key, slot, w, true, ack_us);
  return w.version;
}

Verdict Read(StalenessTracker* t, uint64_t key, uint64_t start_us, uint64_t returned, uint64_t end_us) {
  auto r = t->BeginRead(key, start_us);
  return t->EndRead(key, r, returned, end_us);
}

TEST(KvbenchStaleness, ReadOfTheAcknowledgedVersionIsFresh) {
  StalenessTracker t(10, 4);
  EXPECT_EQ(AckedWrite(&t, 3, 100), 1u);
  Verdict v = Read(&t, 3, 200, 1, 300);
  EXPECT_TRUE(v.checked);
  EXPECT_FALSE(v.stale);
}

TEST(KvbenchStaleness, KeyWithoutAcknowledgedWriteIsNotChecked) {
  StalenessTracker t(10, 4);
  Verdict v = Read(&t, 3, 200, 0, 300);
  EXPECT_FALSE(v.checked);
  EXPECT_FALSE(v.stale);
}

TEST(KvbenchStaleness, NotFoundAfterAnAcknowledgedWriteIsStale) {
  StalenessTracker t(10, 4);
  AckedWrite(&t, 3, 1000);
  Verdict v = Read(&t, 3, 1500, 0, 4000);
  EXPECT_TRUE(v.checked);
  EXPECT_TRUE(v.stale);
  EXPECT_EQ(v.versions_behind, 1u);
  EXPECT_EQ(v.lag_us, 3000u);  // reply time - ack time of version 1
}

TEST(KvbenchStaleness, CountsVersionsAndTimeBehindTheOldestNewerAck) {
  StalenessTracker t(10, 4);
  for (uint64_t i = 1; i <= 4; ++i) AckedWrite(&t, 7, i * 1000);  // v1..v4 acked at 1000..4000
  Verdict v = Read(&t, 7, 5000, 2, 9000);
  EXPECT_TRUE(v.stale);
  EXPECT_EQ(v.versions_behind, 2u);  // v3 and v4 were acknowledged
  EXPECT_EQ(v.lag_us, 9000u - 3000u);  // since v3, the first newer version, was acked
  EXPECT_FALSE(Read(&t, 7, 5000, 4, 9000).stale);
  EXPECT_FALSE(Read(&t, 7, 5000, 5, 9000).stale);  // a write still in flight is fine
}

TEST(KvbenchStaleness, ReadStartedBeforeTheAckIsNotStale) {
  StalenessTracker t(10, 4);
  AckedWrite(&t, 1, 100);                 // v1
  auto r = t.BeginRead(1, 150);           // the read starts
  auto w = t.BeginWrite(1, 0);            // v2 issued and acked while it runs
  t.EndWrite(1, 0, w, true, 200);
  Verdict v = t.EndRead(1, r, 1, 300);    // returns v1: legal, v2 was not acked at start
  EXPECT_TRUE(v.checked);
  EXPECT_FALSE(v.stale);
  EXPECT_TRUE(Read(&t, 1, 250, 1, 300).stale);  // a read starting after v2's ack may not
}

TEST(KvbenchStaleness, OverlappingWritesMayLandInEitherOrder) {
  StalenessTracker t(10, 4);
  auto w1 = t.BeginWrite(5, 0);  // v1 and v2 overlap: the server may apply v2 then v1
  auto w2 = t.BeginWrite(5, 1);
  t.EndWrite(5, 1, w2, true, 100);
  t.EndWrite(5, 0, w1, true, 110);
  EXPECT_FALSE(Read(&t, 5, 200, 1, 250).stale);
  EXPECT_FALSE(Read(&t, 5, 200, 2, 250).stale);
  EXPECT_TRUE(Read(&t, 5, 200, 0, 250).stale);  // but both were acked: not-found is stale
  // v3 is issued after both completed: once it is acked, v1 and v2 are superseded.
  EXPECT_EQ(AckedWrite(&t, 5, 300, 2), 3u);
  Verdict v = Read(&t, 5, 400, 1, 500);
  EXPECT_TRUE(v.stale);
  EXPECT_EQ(v.versions_behind, 2u);
  EXPECT_TRUE(Read(&t, 5, 400, 2, 500).stale);
}

TEST(KvbenchStaleness, WriteIssuedWhileAnOlderOneIsInFlightKeepsItLegal) {
  StalenessTracker t(10, 4);
  AckedWrite(&t, 2, 50);                   // v1
  auto w2 = t.BeginWrite(2, 0);            // v2 in flight...
  AckedWrite(&t, 2, 100, 1);               // ...while v3 is issued and acked
  EXPECT_FALSE(Read(&t, 2, 150, 2, 160).stale);  // v2 overlapped v3
  EXPECT_TRUE(Read(&t, 2, 150, 1, 160).stale);   // v1 had completed before v3 began
  t.EndWrite(2, 0, w2, true, 170);
  EXPECT_FALSE(Read(&t, 2, 180, 2, 190).stale);
}

TEST(KvbenchStaleness, AFailedWriteThatLandsLaterIsNotCountedStale) {
  StalenessTracker t(10, 4);
  AckedWrite(&t, 4, 100);           // v1
  auto w2 = t.BeginWrite(4, 0);     // v2 fails (error or lost connection)...
  t.EndWrite(4, 0, w2, false, 150);
  AckedWrite(&t, 4, 200);           // v3
  EXPECT_FALSE(Read(&t, 4, 300, 2, 310).stale);  // ...but may have been applied after v3
  EXPECT_TRUE(Read(&t, 4, 300, 1, 310).stale);
}

TEST(KvbenchStaleness, LagIsALowerBoundOnceTheAckHistoryMovedOn) {
  StalenessTracker t(10, 4);
  for (uint64_t i = 1; i <= 6; ++i) AckedWrite(&t, 9, i * 100);  // history keeps v3..v6
  Verdict exact = Read(&t, 9, 700, 4, 1000);
  EXPECT_EQ(exact.lag_us, 1000u - 500u);  // v5 is remembered
  Verdict bound = Read(&t, 9, 700, 1, 1000);
  EXPECT_TRUE(bound.stale);
  EXPECT_EQ(bound.versions_behind, 5u);
  EXPECT_EQ(bound.lag_us, 1000u - 300u);  // truly 800 (since v2); v2's ack is forgotten
}

TEST(KvbenchStaleness, AckAfterTheReadStartedDoesNotCountTowardsLag) {
  StalenessTracker t(10, 4);
  AckedWrite(&t, 6, 100);                // v1
  auto r = t.BeginRead(6, 150);
  AckedWrite(&t, 6, 200);                // v2, after the read started
  Verdict v = t.EndRead(6, r, 0, 1000);  // not found
  EXPECT_TRUE(v.stale);
  EXPECT_EQ(v.versions_behind, 1u);
  EXPECT_EQ(v.lag_us, 900u);  // since v1's ack, not v2's
}

// A simulated client against a linearizable register per key: operations are
// issued and completed in a random interleaving, each taking effect at a random
// moment between its issue and completion. No read may ever be judged stale.
// With a server that loses the latest write, stale reads must be found.
struct SimOp {
  bool write;
  uint64_t key;
  uint32_t slot;
  bool applied;
  StalenessTracker::WriteTicket w;
  StalenessTracker::ReadTicket r;
  uint64_t seen;
};

uint64_t Simulate(uint64_t seed, bool lossy_server, uint64_t* checked) {
  base::Random rng(seed);
  constexpr uint64_t kKeys = 4;
  constexpr uint32_t kSlots = 16;
  StalenessTracker t(kKeys, kSlots);
  std::vector<uint64_t> store(kKeys, 0), previous(kKeys, 0);
  std::vector<SimOp> in_flight;
  std::vector<uint32_t> free_slots;
  for (uint32_t s = 0; s < kSlots; ++s) free_slots.push_back(s);
  uint64_t now = 1, stale = 0;
  *checked = 0;
  auto apply = [&](SimOp& op) {
    op.applied = true;
    if (op.write) {
      previous[op.key] = store[op.key];
      store[op.key] = op.w.version;
    } else {
      op.seen = lossy_server && rng.OneIn(3) ? previous[op.key] : store[op.key];
    }
  };
  for (int step = 0; step < 20000; ++step) {
    now += 1 + rng.Uniform(10);
    const uint64_t choice = rng.Uniform(3);
    if (choice == 0 && !free_slots.empty()) {  // issue
      SimOp op{rng.OneIn(2), rng.Uniform(kKeys), free_slots.back(), false, {}, {}, 0};
      free_slots.pop_back();
      if (op.write) op.w = t.BeginWrite(op.key, op.slot);
      else op.r = t.BeginRead(op.key, now);
      in_flight.push_back(op);
    } else if (choice == 1 && !in_flight.empty()) {  // the server applies one
      SimOp& op = in_flight[rng.Uniform(in_flight.size())];
      if (!op.applied) apply(op);
    } else if (!in_flight.empty()) {  // one completes (applied first if needed)
      const size_t i = rng.Uniform(in_flight.size());
      SimOp op = in_flight[i];
      in_flight.erase(in_flight.begin() + static_cast<long>(i));
      if (!op.applied) apply(op);
      if (op.write) {
        t.EndWrite(op.key, op.slot, op.w, true, now);
      } else {
        Verdict v = t.EndRead(op.key, op.r, op.seen, now);
        *checked += v.checked;
        stale += v.stale;
      }
      free_slots.push_back(op.slot);
    }
  }
  return stale;
}

TEST(KvbenchStaleness, LinearizableServerNeverYieldsStaleReads) {
  const uint64_t seed = test::TestSeed("KvbenchStaleness.Linearizable");
  for (uint64_t round = 0; round < 20; ++round) {
    uint64_t checked = 0;
    EXPECT_EQ(Simulate(seed + round, false, &checked), 0u) << "seed " << seed + round;
    EXPECT_GT(checked, 1000u);
  }
}

TEST(KvbenchStaleness, ServerReturningOlderValuesIsCaught) {
  const uint64_t seed = test::TestSeed("KvbenchStaleness.Lossy");
  uint64_t checked = 0;
  EXPECT_GT(Simulate(seed, true, &checked), 100u);
}

TEST(KvbenchStaleness, ConcurrentWorkersShareTheTrackerSafely) {
  constexpr uint64_t kKeys = 8;
  StalenessTracker t(kKeys, 2);
  std::mutex store_mu;
  std::vector<uint64_t> store(kKeys, 0);
  std::vector<uint64_t> stale(2, 0);
  auto worker = [&](uint32_t id) {
    base::Random rng(id + 1);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t key = rng.Uniform(kKeys);
      if (rng.OneIn(2)) {
        auto w = t.BeginWrite(key, id);
        {
          std::lock_guard<std::mutex> lock(store_mu);
          store[key] = w.version;  // applied in the server's order, not version order
        }
        t.EndWrite(key, id, w, true, static_cast<uint64_t>(i));
      } else {
        auto r = t.BeginRead(key, static_cast<uint64_t>(i));
        uint64_t seen;
        {
          std::lock_guard<std::mutex> lock(store_mu);
          seen = store[key];
        }
        stale[id] += t.EndRead(key, r, seen, static_cast<uint64_t>(i)).stale;
      }
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(stale[0] + stale[1], 0u);
}

}  // namespace
}  // namespace kvring::cmd::kvbench
