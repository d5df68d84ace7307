#include "repl/replay_throttle.h"

#include <gtest/gtest.h>

#include "base/clock.h"

namespace kvring::repl {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

class ReplayThrottleTest : public ::testing::Test {
 protected:
  // Sends as much as the bucket allows for `ms` ms in 1 ms steps, each set answered
  // after rtt_us; returns the bytes sent.
  uint64_t Run(ReplayThrottle* t, int ms, uint64_t rtt_us, uint64_t set_bytes = 4096) {
    uint64_t sent = 0;
    for (int i = 0; i < ms; ++i) {
      clock_.Advance(1000);
      while (t->Take(set_bytes)) {
        sent += set_bytes;
        t->OnReply(rtt_us);
      }
    }
    return sent;
  }

  base::ManualClock clock_{1'000'000};
};

TEST_F(ReplayThrottleTest, StartsAtTheMinimumAndRisesToTheMaximumWhileRepliesAreFast) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB}, &clock_);
  EXPECT_EQ(1 * kMiB, t.rate());
  Run(&t, 500, 500);
  EXPECT_GT(t.rate(), 8 * kMiB) << "a few windows of fast replies raise it";
  EXPECT_LT(t.rate(), 64 * kMiB) << "additively: +4 MiB/s per 100 ms window";
  Run(&t, 1500, 500);
  EXPECT_EQ(64 * kMiB, t.rate());
  // At the maximum, a second moves about that many bytes (not more).
  const uint64_t sent = Run(&t, 1000, 500);
  EXPECT_GT(sent, 60 * kMiB);
  EXPECT_LT(sent, 70 * kMiB);
}

TEST_F(ReplayThrottleTest, SlowRepliesHalveTheRateDownToTheMinimum) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB, .slow_us = 5000}, &clock_);
  Run(&t, 2000, 500);
  ASSERT_EQ(64 * kMiB, t.rate());
  Run(&t, 150, 20000);  // one or two windows of slow replies
  EXPECT_LE(t.rate(), 32 * kMiB);
  EXPECT_GE(t.rate(), 16 * kMiB);
  Run(&t, 2000, 20000);
  EXPECT_EQ(1 * kMiB, t.rate());
  // And back up once the nodes are idle again.
  Run(&t, 2000, 500);
  EXPECT_EQ(64 * kMiB, t.rate());
}

TEST_F(ReplayThrottleTest, TheMeanDecidesNotOneSlowReply) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .slow_us = 5000}, &clock_);
  Run(&t, 2000, 500);
  ASSERT_EQ(64 * kMiB, t.rate());
  // One reply in a hundred at 50 ms: mean ~1 ms, the rate holds.
  for (int i = 0; i < 1000; ++i) {
    clock_.Advance(1000);
    while (t.Take(4096)) t.OnReply(i % 100 == 0 ? 50000 : 500);
  }
  EXPECT_EQ(64 * kMiB, t.rate());
}

TEST_F(ReplayThrottleTest, ASetLargerThanTheBucketStillGoesAndIsPaidFor) {
  ReplayThrottle t({.max_rate = 4 * kMiB, .min_rate = 1 * kMiB}, &clock_);  // bucket: 0.1 MiB
  clock_.Advance(100000);
  EXPECT_TRUE(t.Take(2 * kMiB));
  EXPECT_FALSE(t.Take(1)) << "the bucket is in debt";
  clock_.Advance(2'000'000);  // 1 MiB/s: 2 s pay it back
  EXPECT_TRUE(t.Take(1));
}

TEST_F(ReplayThrottleTest, AWindowWithoutRepliesChangesNothing) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 2 * kMiB}, &clock_);
  clock_.Advance(10'000'000);
  EXPECT_TRUE(t.Take(1));
  EXPECT_EQ(2 * kMiB, t.rate());
}

// The owner answers fast, but this node's own loop runs late: the clients whose
// requests it coordinates wait that long, so the replay slows down all the same.
TEST_F(ReplayThrottleTest, ALateLoopHalvesTheRateEvenWhenRepliesAreFast) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB, .slow_us = 5000, .slow_lag_us = 2000}, &clock_);
  Run(&t, 2000, 500);
  ASSERT_EQ(64 * kMiB, t.rate());
  for (int w = 0; w < 3; ++w) {
    Run(&t, 100, 500);
    t.OnLoopLag(w == 1 ? 8000 : 300);  // one window with a lag over the bound
  }
  EXPECT_LE(t.rate(), 40 * kMiB) << "halved once, then climbing by 4 MiB/s a window";
  EXPECT_GE(t.rate(), 32 * kMiB);
  for (int w = 0; w < 30; ++w) {
    Run(&t, 100, 500);
    t.OnLoopLag(8000);
  }
  EXPECT_EQ(1 * kMiB, t.rate());
}

// A loop that works most of each window has no room for the replay's work.
TEST_F(ReplayThrottleTest, ABusyLoopHalvesTheRateAndAnIdleOneLetsItRise) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB, .busy_share = 0.6}, &clock_);
  Run(&t, 2000, 500);
  ASSERT_EQ(64 * kMiB, t.rate());
  for (int w = 0; w < 30; ++w) {
    Run(&t, 100, 500);
    t.OnLoopBusy(0.9);
  }
  EXPECT_EQ(1 * kMiB, t.rate());
  for (int w = 0; w < 30; ++w) {
    Run(&t, 100, 500);
    t.OnLoopBusy(0.4);
  }
  EXPECT_EQ(64 * kMiB, t.rate());
}

TEST_F(ReplayThrottleTest, ASmallLoopLagChangesNothing) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .slow_lag_us = 2000}, &clock_);
  Run(&t, 2000, 500);
  ASSERT_EQ(64 * kMiB, t.rate());
  for (int w = 0; w < 20; ++w) {
    Run(&t, 100, 500);
    t.OnLoopLag(1500);
  }
  EXPECT_EQ(64 * kMiB, t.rate());
}

// The base is the lowest client latency of the last 5 s (some ticks before or
// during a throttled replay show what the clients see without it); a tick above
// 1.5x that base halves the rate, however far under every absolute threshold
// (2-3 ms here) it is.
TEST_F(ReplayThrottleTest, ClientsSlowerThanTheirRecentBestHalveTheRate) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB, .clients = {.factor = 1.5}}, &clock_);
  EXPECT_EQ(0u, t.client_base_us());
  Run(&t, 2000, 500);
  ASSERT_EQ(64 * kMiB, t.rate());
  for (int w = 0; w < 20; ++w) {
    Run(&t, 100, 500);
    t.OnClientLatency(w % 2 == 0 ? 1500 : 2100, /*replaying=*/true);  // 1.4x the base: within the factor
  }
  EXPECT_EQ(1500u, t.client_base_us());
  EXPECT_EQ(64 * kMiB, t.rate());
  for (int w = 0; w < 30; ++w) {
    Run(&t, 100, 500);
    t.OnClientLatency(w < 5 ? 1500 : 2400, /*replaying=*/true);  // 1.6x, the 1.5 ms samples still in the history
  }
  EXPECT_EQ(1 * kMiB, t.rate());
  // 5 s later the old best has aged out: 2.4 ms is the base, and the rate climbs again.
  for (int w = 0; w < 60; ++w) {
    Run(&t, 100, 500);
    t.OnClientLatency(2400, /*replaying=*/true);
  }
  EXPECT_EQ(2400u, t.client_base_us());
  EXPECT_GT(t.rate(), 32 * kMiB);
}

// Samples while no replay runs only teach the base: the rate stays at the minimum
// for the replay to start from (slow start), however good or bad they are.
TEST_F(ReplayThrottleTest, SamplesWithoutAReplayTeachTheBaseAndLeaveTheRateAlone) {
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB}, &clock_);
  for (int w = 0; w < 30; ++w) {
    clock_.Advance(100'000);
    t.OnClientLatency(w == 7 ? 900 : 5000, /*replaying=*/false);
  }
  EXPECT_EQ(1 * kMiB, t.rate());
  EXPECT_EQ(900u, t.client_base_us());
}

// Microsecond bases are noise: below the floor the floor counts; and with too few
// samples (no clients to speak of) the signal is not used.
TEST_F(ReplayThrottleTest, ATinyBaseOrTooFewSamplesDoNotStopTheReplay) {
  ReplayThrottle few({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB, .clients = {.min_samples = 10}}, &clock_);
  Run(&few, 2000, 500);
  few.OnClientLatency(100, /*replaying=*/true);
  for (int w = 0; w < 8; ++w) {
    Run(&few, 100, 500);
    few.OnClientLatency(50'000, /*replaying=*/true);
  }
  EXPECT_EQ(64 * kMiB, few.rate());
  ReplayThrottle t({.max_rate = 64 * kMiB, .min_rate = 1 * kMiB, .clients = {.factor = 1.5, .floor_us = 300}},
                   &clock_);
  Run(&t, 2000, 500);
  t.OnClientLatency(50, /*replaying=*/false);
  for (int w = 0; w < 30; ++w) {
    Run(&t, 100, 500);
    t.OnClientLatency(400, /*replaying=*/true);  // 8x the base, under 1.5 x 300
  }
  EXPECT_EQ(64 * kMiB, t.rate());
}

TEST(TimerLagTest, MeasuresFromWhenEachFiringWasDue) {
  TimerLag lag(100);
  EXPECT_EQ(0u, lag.Fired(1000));  // the first firing sets the schedule
  EXPECT_EQ(0u, lag.Fired(1100));
  EXPECT_EQ(30u, lag.Fired(1230));  // due at 1200
  EXPECT_EQ(0u, lag.Fired(1300));   // due at 1300: the schedule does not drift
  EXPECT_EQ(250u, lag.Fired(1650)); // due at 1400; a whole period behind: next due at 1750
  EXPECT_EQ(5u, lag.Fired(1755));
}

}  // namespace
}  // namespace kvring::repl
