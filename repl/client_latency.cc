#include "repl/client_latency.h"

#include <algorithm>

namespace kvring::repl {

std::optional<uint64_t> ClientLatencySampler::Sample() {
  if (!answered_) return std::nullopt;
  const auto [count, micros] = answered_();
  const uint64_t n = count - last_count_, us = micros - last_micros_;
  const bool first = !measured_;
  measured_ = true;
  last_count_ = count, last_micros_ = micros;
  if (first || n < std::max<uint64_t>(1, min_requests_)) return std::nullopt;
  return us / n;
}

void LatencyBase::Add(uint64_t now_us, uint64_t mean_us) {
  history_.emplace_back(now_us, mean_us);
  while (history_.front().first + options_.history_us < now_us) history_.pop_front();
}

uint64_t LatencyBase::base_us() const {
  uint64_t base = 0;
  for (const auto& [at, mean] : history_) base = base == 0 ? mean : std::min(base, mean);
  return base;
}

bool LatencyBase::Exceeded(uint64_t mean_us) const {
  if (history_.size() < options_.min_samples) return false;
  const double limit = options_.factor * static_cast<double>(std::max(base_us(), options_.floor_us));
  return static_cast<double>(mean_us) > limit;
}

}  // namespace kvring::repl
