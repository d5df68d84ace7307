// base/thread_pool.h — a fixed set of worker threads running submitted tasks in
// FIFO order. kvnode uses one for engine work that may block on the disk (reads
// that miss the block cache), so its event loop never waits on I/O.
// Thread safety: thread-safe. The destructor runs every queued task, then joins.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace kvring::base {

class ThreadPool {
 public:
  // `name` names each worker thread (top -H, perf; at most 15 characters kept).
  explicit ThreadPool(int threads, std::string name = "kv-pool");
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task);
  // Tasks queued and not started yet.
  size_t pending() const;

 private:
  void WorkerMain();

  mutable base::Mutex mu_;
  base::CondVar cv_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// Lowers the calling thread's CPU priority by `increment` nice levels (on Linux
// every thread has its own nice value), so that on a loaded machine the
// scheduler runs it only after the threads that serve requests. 0 does nothing.
// The status names the errno when the kernel refuses.
[[nodiscard]] Status LowerCurrentThreadPriority(int increment);
// Names the calling thread as top -H, perf and /proc/PID/task/*/comm show it
// (the first 15 characters).
void NameCurrentThread(const std::string& name);

}  // namespace kvring::base
