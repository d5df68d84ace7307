// net/loop_thread.h — a thread that owns and runs one EventLoop.
// Start() returns once the loop is running, so IsInLoopThread() is true on that
// thread from the first queued function on. Stop() stops the loop and joins.
// Thread safety: loop() is thread-safe; Start/Stop need external synchronization
// (the owner calls them) and must not be called from the loop thread itself.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/logging.h"
#include "base/status.h"
#include "net/event_loop.h"

namespace kvring::net {

class LoopThread {
 public:
  // name: the thread's name (at most 15 characters are kept, as the kernel allows).
  static base::Result<std::unique_ptr<LoopThread>> Start(const std::string& name, base::Clock* clock = nullptr,
                                                         base::Logger* logger = nullptr);
  ~LoopThread();  // Stop()
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  EventLoop* loop() const { return loop_.get(); }
  // Stops the loop (queued functions still run once) and joins the thread. Idempotent.
  // REQUIRES: not called on the loop thread.
  void Stop();

 private:
  explicit LoopThread(std::unique_ptr<EventLoop> loop) : loop_(std::move(loop)) {}

  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

}  // namespace kvring::net
