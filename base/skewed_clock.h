// base/skewed_clock.h — a Clock whose wall time runs off by an offset (test-only:
// kvnode's --test-clock-offset-ms, node/test_hooks.h), to see what a node with a
// wrong clock does to value timestamps, hint expiry and pruning ages. Monotonic
// time is left alone (deadlines and timers stay sane). The offset is fixed, or
// steered at run time through a ControlFile (a jump takes effect within a second).
// Thread safety: thread-safe (the ControlFile is).
#pragma once

#include <cstdint>
#include <memory>

#include "base/clock.h"
#include "base/control_file.h"

namespace kvring::base {

class SkewedClock final : public Clock {
 public:
  // offset: milliseconds added to base's wall time (negative: behind). *base must
  // outlive this clock.
  SkewedClock(Clock* base, std::unique_ptr<ControlFile> offset_ms) : base_(base), offset_ms_(std::move(offset_ms)) {}

  uint64_t NowMicros() const override { return base_->NowMicros(); }
  uint64_t WallMicros() const override;
  void SleepMicros(uint64_t micros) override { base_->SleepMicros(micros); }

 private:
  Clock* const base_;
  const std::unique_ptr<ControlFile> offset_ms_;
};

}  // namespace kvring::base
