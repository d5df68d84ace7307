#include "base/skewed_clock.h"

namespace kvring::base {

uint64_t SkewedClock::WallMicros() const {
  const int64_t offset_us = offset_ms_->Value() * 1000;
  const uint64_t wall = base_->WallMicros();
  // A negative offset larger than the epoch time clamps at 0 (never wraps).
  if (offset_us < 0 && static_cast<uint64_t>(-offset_us) > wall) return 0;
  return wall + static_cast<uint64_t>(offset_us);
}

}  // namespace kvring::base
