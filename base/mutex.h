// base/mutex.h — the mutex, scoped lock and condition variable kvring locks with,
// annotated for clang's thread-safety analysis (base/thread_annotations.h,
// `make check`), so that GUARDED_BY(mu_) and EXCLUSIVE_LOCKS_REQUIRED(mu_) are
// checked by the compiler instead of being comments. Thin wrappers over
// std::mutex and std::condition_variable: no cost over them.
//
//   base::Mutex mu_;
//   int n_ GUARDED_BY(mu_);
//   void AddLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_) { ++n_; }
//   void Add() { base::MutexLock l(&mu_); AddLocked(); }
//   while (n_ == 0) cv_.Wait(&mu_);   // with mu_ held
//
// A function that drops the lock for I/O and takes it back (LogAndApply) calls
// mu_.Unlock() ... mu_.Lock() and must hold it again when it returns; a scope
// that ends without the lock calls l.Unlock() on its MutexLock.
// Thread safety: Mutex and CondVar are thread-safe (that is what they are for);
// a MutexLock belongs to the thread that made it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace kvring::base {

class CondVar;

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis the caller holds the mutex (where it cannot see it, e.g.
  // inside a callback run under the lock). Checks nothing at run time.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds *mu from construction to destruction, or until Unlock().
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases early; the destructor then releases nothing (unless Lock() again).
  void Unlock() RELEASE() {
    held_ = false;
    mu_->Unlock();
  }
  void Lock() ACQUIRE() {
    mu_->Lock();
    held_ = true;
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// A condition variable waited on with a base::Mutex held. As with any condition
// variable, wake-ups may be spurious: wait in a loop over the condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases *mu, waits for a signal, takes *mu again.
  void Wait(Mutex* mu) EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> l(mu->mu_, std::adopt_lock);
    cv_.wait(l);
    l.release();
  }
  // Wait, returning at `deadline` at the latest. False when the deadline passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex* mu, const std::chrono::time_point<Clock, Duration>& deadline)
      EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> l(mu->mu_, std::adopt_lock);
    bool signalled = cv_.wait_until(l, deadline) == std::cv_status::no_timeout;
    l.release();
    return signalled;
  }
  template <typename Rep, typename Period>
  bool WaitFor(Mutex* mu, const std::chrono::duration<Rep, Period>& timeout) EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return WaitUntil(mu, std::chrono::steady_clock::now() + timeout);
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace kvring::base
