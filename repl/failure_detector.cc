#include "repl/failure_detector.h"

namespace kvring::repl {

void FailureDetector::ReportAnswered(std::string_view address) {
  const uint64_t now = clock_->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.try_emplace(std::string(address)).first;
  PeerLiveness& p = it->second;
  p.last_answer_us = now;
  if (!p.down) return;
  p.down = false;
  p.reason.clear();
  p.since_us = now;
}

void FailureDetector::ReportUnreachable(std::string_view address, std::string_view reason) {
  const uint64_t now = clock_->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.try_emplace(std::string(address)).first;
  PeerLiveness& p = it->second;
  p.reason.assign(reason);
  if (p.down) return;
  p.down = true;
  p.since_us = now;
}

bool FailureDetector::IsDown(std::string_view address) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(address);
  return it != peers_.end() && it->second.down;
}

PeerLiveness FailureDetector::Get(std::string_view address) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = peers_.find(address);
  return it == peers_.end() ? PeerLiveness() : it->second;
}

}  // namespace kvring::repl
