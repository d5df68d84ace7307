#include "base/clock.h"

#include <time.h>

namespace kvring::base {

namespace {
uint64_t ReadClock(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}
}  // namespace

uint64_t SystemClock::NowMicros() const { return ReadClock(CLOCK_MONOTONIC); }
uint64_t SystemClock::WallMicros() const { return ReadClock(CLOCK_REALTIME); }

void SystemClock::SleepMicros(uint64_t micros) {
  timespec ts{static_cast<time_t>(micros / 1'000'000), static_cast<long>((micros % 1'000'000) * 1000)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

SystemClock* SystemClock::Get() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

}  // namespace kvring::base
