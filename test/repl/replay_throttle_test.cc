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

TEST_F(ReplayThrottleTest, StartsAtAQuarterAndRisesToTheMaximumWhileRepliesAreFast) {
  ReplayThrottle t({.max_rate = 64 * kMiB}, &clock_);
  EXPECT_EQ(16 * kMiB, t.rate());
  Run(&t, 2000, 500);
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
  ReplayThrottle t({.max_rate = 64 * kMiB}, &clock_);
  clock_.Advance(10'000'000);
  EXPECT_TRUE(t.Take(1));
  EXPECT_EQ(16 * kMiB, t.rate());
}

}  // namespace
}  // namespace kvring::repl
