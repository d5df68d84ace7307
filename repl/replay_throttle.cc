#include "repl/replay_throttle.h"

#include <algorithm>

namespace kvring::repl {

ReplayThrottle::ReplayThrottle(ReplayThrottleOptions options, base::Clock* clock)
    : options_(options),
      clock_(clock),
      rate_(static_cast<double>(std::min(options.min_rate, options.max_rate))),
      tokens_(rate_ / 10),
      refilled_us_(clock->NowMicros()),
      window_start_us_(refilled_us_),
      clients_(options.clients) {}

void ReplayThrottle::Refill(uint64_t now) {
  if (now > refilled_us_) tokens_ = std::min(rate_ / 10, tokens_ + rate_ * static_cast<double>(now - refilled_us_) / 1e6);
  refilled_us_ = std::max(refilled_us_, now);
}

void ReplayThrottle::Adjust(uint64_t now) {
  if (now < window_start_us_ + options_.window_us) return;
  if (window_replies_ > 0 || window_lag_seen_) {
    const double max = static_cast<double>(options_.max_rate);
    const bool clients_slower = clients_.Exceeded(window_max_client_us_);
    if (window_rtt_sum_us_ > options_.slow_us * window_replies_ || window_max_lag_us_ > options_.slow_lag_us ||
        window_max_busy_ > options_.busy_share || clients_slower) {
      rate_ = std::max(static_cast<double>(options_.min_rate), rate_ / 2);
    } else {
      rate_ = std::min(max, rate_ + max / 16);
    }
  }
  window_start_us_ = now;
  window_replies_ = 0;
  window_rtt_sum_us_ = 0;
  window_max_lag_us_ = 0;
  window_max_busy_ = 0;
  window_max_client_us_ = 0;
  window_lag_seen_ = false;
}

bool ReplayThrottle::Take(uint64_t bytes) {
  const uint64_t now = clock_->NowMicros();
  Adjust(now);
  Refill(now);
  if (tokens_ <= 0) return false;
  tokens_ -= static_cast<double>(bytes);
  return true;
}

void ReplayThrottle::OnLoopLag(uint64_t lag_us) {
  window_lag_seen_ = true;
  window_max_lag_us_ = std::max(window_max_lag_us_, lag_us);
  Adjust(clock_->NowMicros());
}

void ReplayThrottle::OnLoopBusy(double share) {
  window_lag_seen_ = true;
  window_max_busy_ = std::max(window_max_busy_, share);
  Adjust(clock_->NowMicros());
}

void ReplayThrottle::OnClientLatency(uint64_t mean_us, bool replaying) {
  const uint64_t now = clock_->NowMicros();
  clients_.Add(now, mean_us);
  if (!replaying) return;
  window_lag_seen_ = true;
  window_max_client_us_ = std::max(window_max_client_us_, mean_us);
  Adjust(now);
}

void ReplayThrottle::OnReply(uint64_t rtt_us) {
  window_replies_++;
  window_rtt_sum_us_ += rtt_us;
  Adjust(clock_->NowMicros());
}

uint64_t TimerLag::Fired(uint64_t now_us) {
  const uint64_t due = due_us_ == 0 ? now_us : due_us_;
  due_us_ = due + period_us_;
  if (due_us_ <= now_us) due_us_ = now_us + period_us_;
  return now_us > due ? now_us - due : 0;
}

}  // namespace kvring::repl
