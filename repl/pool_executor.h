// repl/pool_executor.h — a base::ThreadPool seen as a repl::Executor, so code
// that runs blocking engine work off the event loop (anti-entropy's leaf scans)
// takes an Executor: production hands it the I/O pool, a test of the simulated
// network the network's own executor (deterministic: the work runs on the test's
// thread in simulated time).
// Thread safety: Post is thread-safe (ThreadPool::Submit is).
#pragma once

#include <functional>

#include "base/thread_pool.h"
#include "repl/transport.h"

namespace kvring::repl {

class PoolExecutor final : public Executor {
 public:
  // *pool must outlive this executor.
  explicit PoolExecutor(base::ThreadPool* pool) : pool_(pool) {}
  void Post(std::function<void()> fn) override { pool_->Submit(std::move(fn)); }

 private:
  base::ThreadPool* const pool_;
};

}  // namespace kvring::repl
