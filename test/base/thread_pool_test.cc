#include "base/thread_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

namespace kvring::base {
namespace {

TEST(ThreadPool, RunsEveryTaskBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Submit([&ran] { ran.fetch_add(1); });
  }
  EXPECT_EQ(1000, ran.load());
}

TEST(ThreadPool, SingleWorkerKeepsFifoOrder) {
  std::vector<int> order;
  {
    ThreadPool pool(1);
    for (int i = 0; i < 100; ++i) pool.Submit([&order, i] { order.push_back(i); });
  }
  ASSERT_EQ(100u, order.size());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(i, order[i]);
}

}  // namespace
}  // namespace kvring::base

namespace kvring::base {
namespace {

int NiceOfThisThread() {
  errno = 0;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
}

TEST(LowerCurrentThreadPriority, LowersOnlyTheCallingThread) {
  const int main_before = NiceOfThisThread();
  int before = 0, after = 0;
  Status s;
  std::thread t([&] {
    before = NiceOfThisThread();
    s = LowerCurrentThreadPriority(3);
    after = NiceOfThisThread();
  });
  t.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(std::min(before + 3, 19), after);
  EXPECT_EQ(main_before, NiceOfThisThread()) << "another thread's priority changed";
  EXPECT_TRUE(LowerCurrentThreadPriority(0).ok());
}

std::string NameOfThisThread() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

// What top -H and /proc/PID/task/*/comm show: the pool's name on every worker,
// cut to the kernel's 15 characters; other threads keep theirs.
TEST(ThreadPool, WorkersCarryThePoolsName) {
  const std::string main_name = NameOfThisThread();
  std::vector<std::string> names(2);
  std::atomic<int> next{0};
  {
    ThreadPool pool(2, "kv-test-pool-with-a-long-name");
    for (int i = 0; i < 2; ++i) pool.Submit([&] { names[next++] = NameOfThisThread(); });
  }
  EXPECT_EQ((std::vector<std::string>{"kv-test-pool-wi", "kv-test-pool-wi"}), names);
  EXPECT_EQ(main_name, NameOfThisThread());
}

}  // namespace
}  // namespace kvring::base
