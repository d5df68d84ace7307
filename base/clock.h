// base/clock.h — time, injected. Production code never calls the system clock
// directly: it is handed a Clock, so tests and the simulator can drive time.
// Thread safety: SystemClock is thread-safe; ManualClock is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace kvring::base {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for deadlines, timeouts and durations.
  virtual uint64_t NowMicros() const = 0;
  uint64_t NowMillis() const { return NowMicros() / 1000; }
  // Wall-clock time (microseconds since the Unix epoch) for timestamps that
  // leave the process (value timestamps, clock pruning ages).
  virtual uint64_t WallMicros() const = 0;
  // Blocks the calling thread; ManualClock advances its time instead.
  virtual void SleepMicros(uint64_t micros) = 0;
};

class SystemClock final : public Clock {
 public:
  uint64_t NowMicros() const override;
  uint64_t WallMicros() const override;
  void SleepMicros(uint64_t micros) override;
  // A process-wide instance (stateless, so sharing it is not global mutable state).
  static SystemClock* Get();
};

// A clock that moves only when told to. Wall time = monotonic time + offset.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_micros = 1'000'000) : now_(start_micros) {}
  uint64_t NowMicros() const override { return now_.load(std::memory_order_acquire); }
  uint64_t WallMicros() const override { return NowMicros() + 1'700'000'000'000'000ull; }
  void SleepMicros(uint64_t micros) override { Advance(micros); }
  void Advance(uint64_t micros) { now_.fetch_add(micros, std::memory_order_acq_rel); }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace kvring::base
