// TimerQueue: ordering, cancel, periodic timers, and heap compaction, with explicit
// times (no clock, no loop).
#include "net/timer_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kvring::net {
namespace {

TEST(TimerQueueTest, TimersFireInDueOrderAndTiesInCreationOrder) {
  TimerQueue q;
  std::string order;
  q.Add(300, 0, [&] { order += "c"; });
  q.Add(100, 0, [&] { order += "a"; });
  q.Add(200, 0, [&] { order += "b"; });
  q.Add(100, 0, [&] { order += "A"; });
  EXPECT_EQ(q.NextDue(), 100u);
  EXPECT_EQ(q.RunDue(99), 0u);
  EXPECT_EQ(q.RunDue(250), 3u);
  EXPECT_EQ(order, "aAb");
  EXPECT_EQ(q.RunDue(1000), 1u);
  EXPECT_EQ(order, "aAbc");
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.NextDue().has_value());
}

TEST(TimerQueueTest, CancelledTimerNeverFiresAndCancelTwiceIsHarmless) {
  TimerQueue q;
  int fired = 0;
  TimerId a = q.Add(10, 0, [&] { fired += 1; });
  q.Add(20, 0, [&] { fired += 10; });
  EXPECT_TRUE(q.Cancel(a));
  EXPECT_FALSE(q.Cancel(a));
  EXPECT_FALSE(q.Cancel(kNoTimer));
  EXPECT_EQ(q.NextDue(), 20u);
  q.RunDue(100);
  EXPECT_EQ(fired, 10);
}

TEST(TimerQueueTest, IdOfAFiredTimerDoesNotCancelItsSlotsNextTimer) {
  TimerQueue q;
  int fired = 0;
  TimerId old = q.Add(10, 0, [] {});
  q.RunDue(10);
  q.Add(20, 0, [&] { ++fired; });  // reuses the slot
  EXPECT_FALSE(q.Cancel(old));
  q.RunDue(20);
  EXPECT_EQ(fired, 1);
}

TEST(TimerQueueTest, PeriodicTimerRepeatsUntilItCancelsItself) {
  TimerQueue q;
  int runs = 0;
  TimerId id = kNoTimer;
  id = q.Add(10, 10, [&] {
    if (++runs == 3) q.Cancel(id);
  });
  for (uint64_t t = 10; t <= 100; t += 10) q.RunDue(t);
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(q.size(), 0u);
}

TEST(TimerQueueTest, TimerAddedByACallbackWaitsForTheNextRun) {
  TimerQueue q;
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    q.Add(0, 0, again);  // already due, but must not run in the same RunDue
  };
  q.Add(0, 0, again);
  EXPECT_EQ(q.RunDue(5), 1u);
  EXPECT_EQ(q.RunDue(5), 1u);
  EXPECT_EQ(runs, 2);
}

TEST(TimerQueueTest, ManyCancelledTimersDoNotAccumulate) {
  TimerQueue q;
  for (int round = 0; round < 100; ++round) {
    std::vector<TimerId> ids;
    for (int i = 0; i < 1000; ++i) ids.push_back(q.Add(1'000'000 + i, 0, [] {}));
    for (TimerId id : ids) q.Cancel(id);
  }
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.NextDue().has_value());
}

}  // namespace
}  // namespace kvring::net
