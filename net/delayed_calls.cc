#include "net/delayed_calls.h"

#include <utility>

namespace kvring::net {

void DelayedCalls::Hold(uint64_t delay_ms, uint64_t timeout_ms, std::string deadline_message, Sender send,
                        Fail fail) {
  const uint64_t id = next_id_++;
  const uint64_t left = timeout_ms > delay_ms ? timeout_ms - delay_ms : kLateTimeoutMs;
  Held& held = held_[id];
  held.fail = std::move(fail);
  held.send_timer = loop_->RunAfter(delay_ms * 1000, [this, id, left, send = std::move(send)] { Release(id, left, send); });
  if (timeout_ms > delay_ms) return;
  held.deadline_timer =
      loop_->RunAfter(timeout_ms * 1000, [this, id, m = std::move(deadline_message)] { Expire(id, m); });
}

void DelayedCalls::Expire(uint64_t id, const std::string& message) {
  auto it = held_.find(id);
  if (it == held_.end()) return;
  Fail fail = std::move(it->second.fail);
  it->second.fail = nullptr;
  it->second.deadline_timer = kNoTimer;
  fail(base::Status::TimedOut(message));
}

void DelayedCalls::Release(uint64_t id, uint64_t timeout_ms, const Sender& send) {
  auto it = held_.find(id);
  if (it == held_.end()) return;
  const bool late = !it->second.fail;
  held_.erase(it);
  send(timeout_ms, late);
}

void DelayedCalls::Close(const base::Status& why) {
  auto held = std::move(held_);
  held_.clear();
  for (auto& [id, call] : held) {
    loop_->CancelTimer(call.send_timer);
    if (call.deadline_timer != kNoTimer) loop_->CancelTimer(call.deadline_timer);
    if (call.fail) call.fail(why);
  }
}

}  // namespace kvring::net
