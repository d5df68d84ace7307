#include "base/thread_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace kvring::base {

ThreadPool::ThreadPool(int threads, std::string name) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, name] {
      NameCurrentThread(name);
      WorkerMain();
    });
  }
}

ThreadPool::~ThreadPool() {
  {
    base::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (auto& t : threads_) t.join();
}

void ThreadPool::Submit(std::function<void()> task) {
  {
    base::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.Signal();
}

size_t ThreadPool::pending() const {
  base::MutexLock lock(&mu_);
  return tasks_.size();
}

void ThreadPool::WorkerMain() {
  while (true) {
    std::function<void()> task;
    {
      base::MutexLock lock(&mu_);
      while (!stopping_ && tasks_.empty()) cv_.Wait(&mu_);
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

Status LowerCurrentThreadPriority(int increment) {
  if (increment == 0) return Status::OK();
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0) return Status::FromErrno("getpriority", errno);
  if (::setpriority(PRIO_PROCESS, tid, now + increment) != 0) return Status::FromErrno("setpriority", errno);
  return Status::OK();
}

void NameCurrentThread(const std::string& name) { pthread_setname_np(pthread_self(), name.substr(0, 15).c_str()); }

}  // namespace kvring::base
