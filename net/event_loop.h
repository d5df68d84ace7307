// net/event_loop.h — one epoll event loop per thread (the Redis `ae` model): fd
// watches, timers, work handed in from other threads, and before-sleep hooks.
//
// One iteration of Run():
//   1. before-sleep hooks (connections flush their output here: one write per
//      connection per wake-up, carrying every reply produced in that wake-up);
//   2. epoll_wait, sleeping until the next timer at most (0 when work is queued);
//   3. fd events, in the order epoll reports them;
//   4. due timers, in (due time, creation) order;
//   5. every function queued with RunInLoop/QueueInLoop so far (one wake-up runs
//      the whole batch).
//
// Epoll is level-triggered: a handler that leaves bytes unread (one read() per
// wake-up, by design) is simply called again next iteration, so no handler has to
// drain a socket to EAGAIN and no connection can starve the others.
//
// Handlers are plain interfaces (FdHandler), not std::function, so the per-event path
// allocates nothing. Events for an fd that was unwatched earlier in the same batch are
// dropped (each watch carries a generation in epoll_event.data).
//
// Thread safety: RunInLoop, QueueInLoop, Stop, IsInLoopThread and now_us are
// thread-safe; everything else is loop thread only: on the thread running Run(),
// or on any one thread while the loop is not running (see CanActHere()).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "net/timer_queue.h"

namespace kvring::net {

// Interest and event bits.
constexpr uint32_t kReadable = 1;
constexpr uint32_t kWritable = 2;
constexpr uint32_t kHangup = 4;  // events only: EPOLLERR/EPOLLHUP (reported even with no interest)

class FdHandler {
 public:
  virtual ~FdHandler() = default;
  // events: kReadable/kWritable/kHangup bits. Runs on the loop thread.
  virtual void OnFdEvents(uint32_t events) = 0;
};

class EventLoop {
 public:
  using Functor = std::function<void()>;
  using HookId = uint64_t;

  // clock: time base for timers (SystemClock when null). logger may be null.
  static base::Result<std::unique_ptr<EventLoop>> Create(base::Clock* clock = nullptr,
                                                         base::Logger* logger = nullptr);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs iterations until Stop(). On return, functions still queued have run once more.
  // REQUIRES: not already running.
  void Run();
  // Makes Run() return after its current iteration. Any thread; idempotent.
  void Stop();
  bool IsInLoopThread() const { return owner_.load(std::memory_order_acquire) == std::this_thread::get_id(); }
  bool running() const { return running_.load(std::memory_order_acquire); }
  // True on the loop thread, or on any thread while the loop is not running (then
  // nothing else touches it): the precondition of every loop-thread-only method.
  bool CanActHere() const { return IsInLoopThread() || !running(); }

  // Runs fn on the loop thread: right now when called on it, otherwise queued.
  void RunInLoop(Functor fn);
  // Runs fn on the loop thread and waits for it to finish; runs it right here when
  // called on the loop thread or when the loop is not running. Any thread.
  // REQUIRES: the loop, if running, is not blocked waiting on the caller.
  void RunSync(const Functor& fn);
  // Always queues fn, even from the loop thread (it runs later in this iteration or
  // the next one, never re-entrantly). Any thread.
  void QueueInLoop(Functor fn);

  // --- fd watches (loop thread only) ---
  // Starts watching fd with interest (kReadable|kWritable bits, may be 0) or changes
  // the handler/interest of a watched fd. *handler must outlive the watch.
  base::Status Watch(int fd, uint32_t interest, FdHandler* handler);
  // Changes the interest of a watched fd. REQUIRES: fd is watched.
  base::Status SetInterest(int fd, uint32_t interest);
  // Stops watching fd (call before closing it). No-op for an unwatched fd.
  void Unwatch(int fd);

  // --- timers (loop thread only) ---
  TimerId RunAfter(uint64_t delay_us, Functor fn);
  TimerId RunEvery(uint64_t interval_us, Functor fn);
  bool CancelTimer(TimerId id) { return timers_.Cancel(id); }

  // --- before-sleep hooks (loop thread only) ---
  // Runs fn at the start of every iteration, before the loop sleeps, after the
  // hooks added before it; kFirst puts it ahead of them instead (a WAL flush must
  // run before the hooks that send replies).
  enum class HookOrder { kLast, kFirst };
  HookId AddBeforeSleep(Functor fn, HookOrder order = HookOrder::kLast);
  void RemoveBeforeSleep(HookId id);

  // --- queued work (loop thread only, never from inside a queued function) ---
  // Whether QueueInLoop has work the loop has not run yet.
  bool HasQueued();
  // Runs the queued work now (a hook that completes requests runs their
  // continuations before the reply-sending hooks instead of an iteration later).
  void RunQueued() { RunQueuedFunctors(); }

  // Time at the start of the current iteration's event processing (cheap; stale by
  // at most one iteration). Use clock()->NowMicros() when precision matters.
  uint64_t now_us() const { return now_us_.load(std::memory_order_relaxed); }
  base::Clock* clock() const { return clock_; }
  base::Logger* logger() const { return logger_; }
  // Iterations run so far (tests use it to observe batching).
  uint64_t iterations() const { return iterations_.load(std::memory_order_relaxed); }
  // Microseconds the loop has spent blocked in epoll_wait since it started: the
  // rest of the time it was working (or ready but not scheduled), so the share of
  // a period spent here is how much room the loop has left. Any thread.
  uint64_t idle_micros() const { return idle_us_.load(std::memory_order_relaxed); }

 private:
  struct WatchSlot {
    FdHandler* handler = nullptr;
    uint32_t interest = 0;
    uint32_t generation = 0;
  };
  struct Hook {
    HookId id;
    Functor fn;
  };

  EventLoop(base::Clock* clock, base::Logger* logger, int epoll_fd, int wake_fd);
  void Wakeup();
  void DrainWakeFd();
  int PollTimeoutMs();
  void DispatchEvents(int n);
  void RunBeforeSleepHooks();
  void RunQueuedFunctors();

  base::Clock* const clock_;
  base::Logger* const logger_;
  const int epoll_fd_;
  const int wake_fd_;  // eventfd written by other threads
  std::atomic<std::thread::id> owner_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> now_us_{0};
  std::atomic<uint64_t> iterations_{0};
  std::atomic<uint64_t> idle_us_{0};

  std::vector<WatchSlot> watches_;  // indexed by fd
  std::vector<epoll_event> events_;
  TimerQueue timers_;
  std::vector<Hook> hooks_;
  HookId next_hook_id_ = 1;

  base::Mutex mu_;
  std::vector<Functor> queued_ GUARDED_BY(mu_);
  std::vector<Functor> batch_;  // swapped with queued_; loop thread only
};

}  // namespace kvring::net
