#include "net/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace kvring::net {

using base::Status;

namespace {

constexpr int kMaxEventsPerWait = 256;
// Upper bound on one sleep, so a loop with no timers still notices a lost wake-up
// (there should be none) within a bounded time.
constexpr int kMaxSleepMs = 1000;

uint32_t ToEpoll(uint32_t interest) {
  uint32_t ev = 0;
  if (interest & kReadable) ev |= EPOLLIN;
  if (interest & kWritable) ev |= EPOLLOUT;
  return ev;
}

uint32_t FromEpoll(uint32_t ev) {
  uint32_t out = 0;
  if (ev & (EPOLLIN | EPOLLPRI)) out |= kReadable;
  if (ev & EPOLLOUT) out |= kWritable;
  if (ev & (EPOLLERR | EPOLLHUP)) out |= kHangup;
  return out;
}

}  // namespace

base::Result<std::unique_ptr<EventLoop>> EventLoop::Create(base::Clock* clock, base::Logger* logger) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return Status::FromErrno("event loop: epoll_create1", errno);
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    Status s = Status::FromErrno("event loop: eventfd", errno);
    ::close(ep);
    return s;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = ~0ull;  // marks the wake-up fd
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev) != 0) {
    Status s = Status::FromErrno("event loop: epoll_ctl(eventfd)", errno);
    ::close(wake);
    ::close(ep);
    return s;
  }
  if (clock == nullptr) clock = base::SystemClock::Get();
  return std::unique_ptr<EventLoop>(new EventLoop(clock, logger, ep, wake));
}

EventLoop::EventLoop(base::Clock* clock, base::Logger* logger, int epoll_fd, int wake_fd)
    : clock_(clock),
      logger_(logger),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      owner_(std::this_thread::get_id()),
      events_(kMaxEventsPerWait) {
  now_us_.store(clock_->NowMicros(), std::memory_order_relaxed);
}

EventLoop::~EventLoop() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::Run() {
  assert(!running());
  owner_.store(std::this_thread::get_id(), std::memory_order_release);
  running_.store(true, std::memory_order_release);
  while (!stop_.load(std::memory_order_acquire)) {
    RunBeforeSleepHooks();
    const uint64_t before_wait = clock_->NowMicros();
    int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), PollTimeoutMs());
    if (n < 0 && errno != EINTR) {
      LOG_ERROR(logger_, "event loop: epoll_wait: %s", std::strerror(errno));
    }
    now_us_.store(clock_->NowMicros(), std::memory_order_relaxed);
    if (now_us() > before_wait) {
      idle_us_.store(idle_us_.load(std::memory_order_relaxed) + (now_us() - before_wait), std::memory_order_relaxed);
    }
    iterations_.store(iterations_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (n > 0) DispatchEvents(n);
    timers_.RunDue(now_us());
    RunQueuedFunctors();
  }
  // Functions queued before Stop() (for example replies and cleanups) still run once.
  RunQueuedFunctors();
  RunBeforeSleepHooks();
  stop_.store(false, std::memory_order_release);
  running_.store(false, std::memory_order_release);
}

void EventLoop::Stop() {
  stop_.store(true, std::memory_order_release);
  Wakeup();
}

void EventLoop::RunInLoop(Functor fn) {
  if (IsInLoopThread()) {
    fn();
  } else {
    QueueInLoop(std::move(fn));
  }
}

void EventLoop::RunSync(const Functor& fn) {
  if (CanActHere()) {
    fn();
    return;
  }
  base::Mutex mu;
  base::CondVar cv;
  bool done = false;
  QueueInLoop([&] {
    fn();
    base::MutexLock lock(&mu);
    done = true;
    cv.Signal();
  });
  base::MutexLock lock(&mu);
  while (!done) cv.Wait(&mu);
}

void EventLoop::QueueInLoop(Functor fn) {
  bool was_empty;
  {
    base::MutexLock lock(&mu_);
    was_empty = queued_.empty();
    queued_.push_back(std::move(fn));
  }
  // Invariant: whenever queued_ is non-empty, the eventfd was written after the
  // loop last took the queue, or the running loop itself pushed (it looks at the
  // queue in PollTimeoutMs before it sleeps): the batch cannot be stranded. Only
  // the push that makes the queue non-empty needs to write.
  if (was_empty && !(running() && IsInLoopThread())) Wakeup();
}

bool EventLoop::HasQueued() {
  base::MutexLock lock(&mu_);
  return !queued_.empty();
}

void EventLoop::Wakeup() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake anyway
}

void EventLoop::DrainWakeFd() {
  uint64_t count;
  ssize_t n = ::read(wake_fd_, &count, sizeof(count));
  (void)n;
}

int EventLoop::PollTimeoutMs() {
  {
    base::MutexLock lock(&mu_);
    if (!queued_.empty()) return 0;
  }
  std::optional<uint64_t> due = timers_.NextDue();
  if (!due) return kMaxSleepMs;
  uint64_t now = clock_->NowMicros();
  if (*due <= now) return 0;
  uint64_t wait_us = *due - now;
  uint64_t ms = (wait_us + 999) / 1000;  // round up: never wake before the timer is due
  return ms > kMaxSleepMs ? kMaxSleepMs : static_cast<int>(ms);
}

void EventLoop::DispatchEvents(int n) {
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events_[i];
    if (ev.data.u64 == ~0ull) {
      DrainWakeFd();
      continue;
    }
    int fd = static_cast<int>(ev.data.u64 & 0xffffffffu);
    uint32_t generation = static_cast<uint32_t>(ev.data.u64 >> 32);
    if (fd < 0 || static_cast<size_t>(fd) >= watches_.size()) continue;
    const WatchSlot& w = watches_[fd];
    // Unwatched (or unwatched and re-watched) earlier in this batch: stale event.
    if (w.handler == nullptr || w.generation != generation) continue;
    w.handler->OnFdEvents(FromEpoll(ev.events));
  }
  // A full batch means more may be ready; epoll_wait returns them next iteration.
}

Status EventLoop::Watch(int fd, uint32_t interest, FdHandler* handler) {
  assert(CanActHere());
  assert(fd >= 0 && handler != nullptr);
  if (static_cast<size_t>(fd) >= watches_.size()) watches_.resize(static_cast<size_t>(fd) + 64);
  WatchSlot& w = watches_[fd];
  bool add = w.handler == nullptr;
  if (add) ++w.generation;
  epoll_event ev{};
  ev.events = ToEpoll(interest);
  ev.data.u64 = (static_cast<uint64_t>(w.generation) << 32) | static_cast<uint32_t>(fd);
  if (::epoll_ctl(epoll_fd_, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) != 0) {
    return Status::FromErrno("epoll_ctl(fd " + std::to_string(fd) + ")", errno);
  }
  w.handler = handler;
  w.interest = interest;
  return Status::OK();
}

Status EventLoop::SetInterest(int fd, uint32_t interest) {
  assert(CanActHere());
  assert(static_cast<size_t>(fd) < watches_.size() && watches_[fd].handler != nullptr);
  WatchSlot& w = watches_[fd];
  if (w.interest == interest) return Status::OK();
  return Watch(fd, interest, w.handler);
}

void EventLoop::Unwatch(int fd) {
  assert(CanActHere());
  if (fd < 0 || static_cast<size_t>(fd) >= watches_.size()) return;
  WatchSlot& w = watches_[fd];
  if (w.handler == nullptr) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  w.handler = nullptr;
  w.interest = 0;
}

TimerId EventLoop::RunAfter(uint64_t delay_us, Functor fn) {
  assert(CanActHere());
  return timers_.Add(clock_->NowMicros() + delay_us, 0, std::move(fn));
}

TimerId EventLoop::RunEvery(uint64_t interval_us, Functor fn) {
  assert(CanActHere());
  assert(interval_us > 0);
  return timers_.Add(clock_->NowMicros() + interval_us, interval_us, std::move(fn));
}

EventLoop::HookId EventLoop::AddBeforeSleep(Functor fn, HookOrder order) {
  assert(CanActHere());
  HookId id = next_hook_id_++;
  if (order == HookOrder::kFirst) {
    hooks_.insert(hooks_.begin(), Hook{id, std::move(fn)});
  } else {
    hooks_.push_back(Hook{id, std::move(fn)});
  }
  return id;
}

void EventLoop::RemoveBeforeSleep(HookId id) {
  assert(CanActHere());
  for (auto it = hooks_.begin(); it != hooks_.end(); ++it) {
    if (it->id == id) {
      hooks_.erase(it);
      return;
    }
  }
}

void EventLoop::RunBeforeSleepHooks() {
  // Index loop: a hook may add or remove hooks.
  for (size_t i = 0; i < hooks_.size(); ++i) {
    HookId id = hooks_[i].id;
    Functor fn = hooks_[i].fn;  // copy: the vector may change under a running hook
    fn();
    if (i < hooks_.size() && hooks_[i].id != id) --i;  // this hook removed itself
  }
}

void EventLoop::RunQueuedFunctors() {
  {
    base::MutexLock lock(&mu_);
    if (queued_.empty()) return;
    batch_.swap(queued_);
  }
  for (auto& fn : batch_) fn();
  batch_.clear();
}

}  // namespace kvring::net
