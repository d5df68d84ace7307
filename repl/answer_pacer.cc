#include "repl/answer_pacer.h"

#include <algorithm>
#include <optional>

namespace kvring::repl {

void AnswerPacer::Tick(uint64_t now_us) {
  const uint64_t served = served_.load(std::memory_order_relaxed);
  const bool busy = served != served_at_tick_;
  served_at_tick_ = served;
  if (const std::optional<uint64_t> mean = sampler_.Sample()) OnClientLatency(now_us, *mean, busy);
}

void AnswerPacer::OnClientLatency(uint64_t now_us, uint64_t mean_us, bool busy) {
  clients_.Add(now_us, mean_us);
  const uint64_t delay = delay_us_.load(std::memory_order_relaxed);
  uint64_t next = delay / 2;
  if (busy && clients_.Exceeded(mean_us)) {
    next = std::min(options_.max_delay_us, std::max(options_.first_delay_us, 2 * delay));
  } else if (next < options_.first_delay_us / 2) {
    next = 0;
  }
  delay_us_.store(next, std::memory_order_relaxed);
}

}  // namespace kvring::repl
