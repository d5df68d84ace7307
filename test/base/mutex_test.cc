// test/base/mutex_test.cc — base::Mutex, MutexLock and CondVar (base/mutex.h):
// the lock excludes, an early Unlock releases, a wait returns on a signal and
// times out without one.
#include "base/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace kvring::base {
namespace {

// Whether another thread can take *mu right now (a thread may not try_lock a
// std::mutex it holds itself).
bool FreeForAnotherThread(Mutex* mu) {
  bool free = false;
  std::thread([mu, &free] {
    if (mu->TryLock()) {
      free = true;
      mu->Unlock();
    }
  }).join();
  return free;
}

struct Counter {
  Mutex mu;
  CondVar cv;
  int n GUARDED_BY(mu) = 0;
};

TEST(Mutex, ExcludesOtherThreads) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock l(&c.mu);
        c.n++;
      }
    });
  }
  for (auto& t : threads) t.join();
  MutexLock l(&c.mu);
  EXPECT_EQ(c.n, 40000);
}

TEST(Mutex, AnEarlyUnlockReleasesAndTheDestructorDoesNotUnlockAgain) {
  Mutex mu;
  {
    MutexLock l(&mu);
    l.Unlock();
    EXPECT_TRUE(FreeForAnotherThread(&mu));
    l.Lock();
    EXPECT_FALSE(FreeForAnotherThread(&mu));
  }
  EXPECT_TRUE(FreeForAnotherThread(&mu));  // released once, by the destructor
}

TEST(CondVar, AWaiterWakesOnASignal) {
  Counter c;
  std::thread setter([&c] {
    MutexLock l(&c.mu);
    c.n = 1;
    c.cv.SignalAll();
  });
  {
    MutexLock l(&c.mu);
    while (c.n == 0) c.cv.Wait(&c.mu);
    EXPECT_EQ(c.n, 1);
  }
  setter.join();
}

TEST(CondVar, AWaitForWithoutASignalTimesOutHoldingTheLock) {
  Counter c;
  MutexLock l(&c.mu);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(c.cv.WaitFor(&c.mu, std::chrono::milliseconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_FALSE(FreeForAnotherThread(&c.mu));  // held on return
}

}  // namespace
}  // namespace kvring::base
