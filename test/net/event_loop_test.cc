// EventLoop and LoopThread: work handed in from other threads, batching, timers on
// a live loop, fd watches, before-sleep hooks, Stop.
#include "net/event_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/loop_thread.h"
#include "test/net/test_handler.h"

namespace kvring::net {
namespace {

using testing::WaitUntil;

// How long a test waits for something that must happen: generous, because a loaded
// machine (or ASan) is slow, and bounded, so a hang fails instead of stalling.
// Nothing here sleeps a fixed time and then checks.
constexpr int kDeadlineMs = 5000;

std::unique_ptr<LoopThread> StartLoop() {
  auto t = LoopThread::Start("test-loop");
  EXPECT_TRUE(t.ok());
  return std::move(t.value());
}

TEST(EventLoopTest, RunInLoopFromManyThreadsRunsEverythingOnTheLoopThread) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  int counter = 0;  // touched only on the loop thread
  std::atomic<int> off_thread{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 1000; ++j) {
        loop->RunInLoop([&] {
          if (!loop->IsInLoopThread()) off_thread.fetch_add(1);
          ++counter;
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  int seen = 0;
  loop->RunSync([&] { seen = counter; });
  EXPECT_EQ(seen, 4000);
  EXPECT_EQ(off_thread.load(), 0);
  EXPECT_FALSE(loop->IsInLoopThread());
}

// idle_micros counts the time spent waiting for events, not the time spent working.
TEST(EventLoopTest, IdleTimeGrowsWhileTheLoopWaitsAndNotWhileItWorks) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  loop->RunSync([] {});
  const uint64_t before_wait = loop->idle_micros();
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the loop has nothing to do
  loop->RunSync([] {});                                         // wakes it: the wait is counted
  const uint64_t after_wait = loop->idle_micros();
  EXPECT_GE(after_wait - before_wait, 100'000u);
  loop->RunSync([] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (std::chrono::steady_clock::now() < end) {
    }
  });
  loop->RunSync([] {});
  EXPECT_LT(loop->idle_micros() - after_wait, 100'000u) << "200 ms of work counted as idle";
}

TEST(EventLoopTest, FunctionsQueuedDuringOneIterationRunInTheSameWakeup) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  std::mutex mu;
  std::condition_variable cv;
  bool busy = false, release = false;
  // Hold the loop busy while 100 functions pile up.
  loop->QueueInLoop([&] {
    std::unique_lock<std::mutex> lock(mu);
    busy = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return busy; });
  }
  std::vector<uint64_t> iterations(100);
  for (int i = 0; i < 100; ++i) loop->QueueInLoop([&, i] { iterations[i] = loop->iterations(); });
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  loop->RunSync([] {});
  for (int i = 1; i < 100; ++i) EXPECT_EQ(iterations[i], iterations[0]) << i;
}

TEST(EventLoopTest, TimersFireInOrderAndCancelledOnesDoNot) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  std::mutex mu;
  std::string order;
  auto note = [&](char c) {
    std::lock_guard<std::mutex> lock(mu);
    order += c;
  };
  loop->RunSync([&] {
    loop->RunAfter(30'000, [&] { note('c'); });
    loop->RunAfter(10'000, [&] { note('a'); });
    TimerId x = loop->RunAfter(15'000, [&] { note('x'); });
    loop->RunAfter(20'000, [&] { note('b'); });
    EXPECT_TRUE(loop->CancelTimer(x));
  });
  // 'c' is due last and timers run in due order: once it ran, 'x' was due too.
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return order.find('c') != std::string::npos;
      },
      kDeadlineMs))
      << "the 30 ms timer did not fire within " << kDeadlineMs << " ms";
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, "abc");
}

TEST(EventLoopTest, TimerDoesNotFireBeforeItsDelay) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  std::atomic<uint64_t> fired_at{0};
  uint64_t start = 0;
  loop->RunSync([&] {
    start = loop->clock()->NowMicros();
    loop->RunAfter(20'000, [&] { fired_at = loop->clock()->NowMicros(); });
  });
  ASSERT_TRUE(WaitUntil([&] { return fired_at.load() != 0; }, kDeadlineMs)) << "the 20 ms timer never fired";
  EXPECT_GE(fired_at.load() - start, 20'000u);
}

TEST(EventLoopTest, PeriodicTimerRunsUntilCancelled) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  std::atomic<int> runs{0};
  TimerId id = kNoTimer;
  loop->RunSync([&] { id = loop->RunEvery(2'000, [&] { runs.fetch_add(1); }); });
  ASSERT_TRUE(WaitUntil([&] { return runs.load() >= 3; }, kDeadlineMs)) << runs.load() << " runs";
  std::atomic<bool> later_fired{false};
  loop->RunSync([&] {
    EXPECT_TRUE(loop->CancelTimer(id));
    // Due ten periods after the cancel, by the loop's clock: the periodic timer was
    // due again before it, and timers run in due order, so had the cancel not held
    // it would have run again by the time this one fires, however late that is.
    loop->RunAfter(20'000, [&] { later_fired = true; });
  });
  int after_cancel = runs.load();
  ASSERT_TRUE(WaitUntil([&] { return later_fired.load(); }, kDeadlineMs)) << "the 20 ms timer never fired";
  EXPECT_EQ(runs.load(), after_cancel);
}

TEST(EventLoopTest, StopFromAnotherThreadEndsRunAndQueuedWorkStillRuns) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EventLoop* l = loop->get();
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    l->Run();
    returned = true;
  });
  // EXPECT, not ASSERT: the runner thread must be joined either way.
  EXPECT_TRUE(WaitUntil([&] { return l->running(); }, kDeadlineMs)) << "Run() did not start";
  std::atomic<bool> ran{false};
  l->QueueInLoop([&] { ran = true; });
  l->Stop();
  runner.join();
  EXPECT_TRUE(returned.load());
  EXPECT_TRUE(ran.load());
  EXPECT_FALSE(l->running());
}

class CountingHandler : public FdHandler {
 public:
  CountingHandler(EventLoop* loop, int fd) : loop_(loop), fd_(fd) {}
  void OnFdEvents(uint32_t events) override {
    ++calls;
    last_events = events;
    if (other != nullptr) loop_->Unwatch(other->fd_);
    uint64_t v;
    ssize_t n = ::read(fd_, &v, sizeof(v));
    (void)n;
  }
  EventLoop* loop_;
  int fd_;
  int calls = 0;
  uint32_t last_events = 0;
  CountingHandler* other = nullptr;
};

// h.calls, read on the loop thread (the handler runs there).
int CallsOf(EventLoop* loop, const CountingHandler& h) {
  int calls = 0;
  loop->RunSync([&] { calls = h.calls; });
  return calls;
}

// Makes a fresh eventfd readable and waits until the loop has dispatched it. Epoll
// keeps ready fds in the order they became ready and reports them level-triggered,
// so by then the loop has dispatched every watched fd written before this call: an
// event not dispatched yet never will be. False if the loop never got there.
bool LoopPolledPastEarlierWrites(EventLoop* loop) {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  CountingHandler marker(loop, fd);
  bool watched = false;
  loop->RunSync([&] { watched = loop->Watch(fd, kReadable, &marker).ok(); });
  uint64_t one = 1;
  const bool written = watched && ::write(fd, &one, sizeof(one)) == 8;
  const bool seen = written && WaitUntil([&] { return CallsOf(loop, marker) > 0; }, kDeadlineMs);
  loop->RunSync([&] { loop->Unwatch(fd); });
  ::close(fd);
  return seen;
}

TEST(EventLoopTest, WatchedFdReportsReadableAndUnwatchStopsIt) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  CountingHandler h(loop, fd);
  loop->RunSync([&] { ASSERT_TRUE(loop->Watch(fd, kReadable, &h).ok()); });
  uint64_t one = 1;
  ASSERT_EQ(::write(fd, &one, sizeof(one)), 8);
  EXPECT_TRUE(WaitUntil([&] { return CallsOf(loop, h) > 0; }, kDeadlineMs)) << "the readable fd was not reported";
  EXPECT_EQ(CallsOf(loop, h), 1);
  loop->RunSync([&] {
    EXPECT_TRUE(h.last_events & kReadable);
    loop->Unwatch(fd);
  });
  ASSERT_EQ(::write(fd, &one, sizeof(one)), 8);
  EXPECT_TRUE(LoopPolledPastEarlierWrites(loop));
  EXPECT_EQ(CallsOf(loop, h), 1);
  ::close(fd);
}

TEST(EventLoopTest, EventsForAnFdUnwatchedEarlierInTheSameBatchAreDropped) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  int a = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int b = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  CountingHandler ha(loop, a), hb(loop, b);
  ha.other = &hb;  // whichever runs first unwatches the other
  hb.other = &ha;
  uint64_t one = 1;
  loop->RunSync([&] {
    ASSERT_TRUE(loop->Watch(a, kReadable, &ha).ok());
    ASSERT_TRUE(loop->Watch(b, kReadable, &hb).ok());
    // Both become readable before the loop next polls: one epoll batch.
    ASSERT_EQ(::write(a, &one, sizeof(one)), 8);
    ASSERT_EQ(::write(b, &one, sizeof(one)), 8);
  });
  EXPECT_TRUE(WaitUntil([&] { return CallsOf(loop, ha) + CallsOf(loop, hb) > 0; }, kDeadlineMs))
      << "neither readable fd was reported";
  EXPECT_TRUE(LoopPolledPastEarlierWrites(loop));
  loop->RunSync([&] {
    EXPECT_EQ(ha.calls + hb.calls, 1);
    loop->Unwatch(a);
    loop->Unwatch(b);
  });
  ::close(a);
  ::close(b);
}

TEST(EventLoopTest, BeforeSleepHookRunsOncePerIterationUntilRemoved) {
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  std::atomic<int> hook_runs{0};
  EventLoop::HookId id = 0;
  uint64_t added_at = 0;
  loop->RunSync([&] {
    id = loop->AddBeforeSleep([&] { hook_runs.fetch_add(1); });
    added_at = loop->iterations();
  });
  for (int i = 0; i < 10; ++i) loop->RunSync([] {});
  // Both counts are read on the loop thread, between iterations: read from here they
  // would drift apart whenever the loop woke up on its own (a poll timeout, EINTR)
  // before or after the reads.
  uint64_t iters = 0;
  int runs = 0;
  loop->RunSync([&] {
    iters = loop->iterations() - added_at;
    runs = hook_runs.load();
  });
  EXPECT_GE(runs, 10);
  EXPECT_EQ(static_cast<uint64_t>(runs), iters);  // before the poll of every iteration since it was added
  loop->RunSync([&] { loop->RemoveBeforeSleep(id); });
  int frozen = hook_runs.load();
  for (int i = 0; i < 5; ++i) loop->RunSync([] {});
  EXPECT_EQ(hook_runs.load(), frozen);
}

TEST(EventLoopTest, FirstHooksRunAheadOfEarlierOnesAndMayRunQueuedWorkBeforeThem) {
  // The kvnode's shape: a WAL-flush hook added last but run first completes
  // writes whose continuations (queued) must be done before the reply hook runs.
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  std::mutex mu;
  std::vector<std::string> order;  // of the iteration the test triggers
  std::atomic<bool> armed{false};
  auto note = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (armed.load()) order.push_back(what);
  };
  loop->RunSync([&] {
    loop->AddBeforeSleep([&] { note("reply"); });
    loop->AddBeforeSleep(
        [&] {
          note("flush");
          if (!armed.load()) return;
          loop->QueueInLoop([&] { note("continuation"); });  // from the loop thread itself
          EXPECT_TRUE(loop->HasQueued());
          loop->RunQueued();
          EXPECT_FALSE(loop->HasQueued());
          armed = false;
        },
        EventLoop::HookOrder::kFirst);
  });
  loop->RunSync([&] { armed = true; });
  for (int i = 0; i < 5000 && armed.load(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_FALSE(armed.load()) << "the flush hook never ran";
  loop->RunSync([] {});  // the reply hook of that pass has run too
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ((std::vector<std::string>{"flush", "continuation"}), order);
}

TEST(EventLoopTest, WorkTheLoopQueuesForItselfRunsWithoutAWakeupOrAStall) {
  // QueueInLoop from the loop thread skips the eventfd write: the loop must still
  // see the work before it sleeps (no timers here to wake it otherwise).
  auto t = StartLoop();
  EventLoop* loop = t->loop();
  std::atomic<int> ran{0};
  std::mutex mu;
  std::condition_variable cv;
  loop->RunInLoop([&] {
    // Queued from a hook-free functor, and again from that work itself.
    loop->QueueInLoop([&] {
      ran.fetch_add(1);
      loop->QueueInLoop([&] {
        ran.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        cv.notify_all();
      });
    });
  });
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return ran.load() == 2; }));
}

}  // namespace
}  // namespace kvring::net
