#include "cmd/kvbench/staleness_tracker.h"

#include <algorithm>
#include <cassert>

namespace kvring::cmd::kvbench {

StalenessTracker::StalenessTracker(uint64_t num_keys, uint32_t write_slots)
    : keys_(num_keys), slot_next_(write_slots, kNoSlot), slot_prev_(write_slots, kNoSlot),
      slot_version_(write_slots, 0) {}

StalenessTracker::WriteTicket StalenessTracker::BeginWrite(uint64_t key, uint32_t slot) {
  assert(key < keys_.size() && slot < slot_next_.size());
  std::lock_guard<std::mutex> lock(LockFor(key));
  KeyState& k = keys_[key];
  WriteTicket t;
  t.version = ++k.issued;
  t.stale_below = k.head == kNoSlot ? t.version : slot_version_[k.head];
  // Append to the key's in-flight list (versions increase towards the tail).
  slot_version_[slot] = t.version;
  slot_next_[slot] = kNoSlot;
  slot_prev_[slot] = k.tail;
  if (k.tail != kNoSlot) slot_next_[k.tail] = slot;
  else k.head = slot;
  k.tail = slot;
  return t;
}

void StalenessTracker::EndWrite(uint64_t key, uint32_t slot, const WriteTicket& ticket, bool acked,
                                uint64_t now_us) {
  std::lock_guard<std::mutex> lock(LockFor(key));
  KeyState& k = keys_[key];
  // Invariant: the slot is linked in this key's list with this version.
  assert(slot_version_[slot] == ticket.version);
  const uint32_t prev = slot_prev_[slot], next = slot_next_[slot];
  if (prev != kNoSlot) slot_next_[prev] = next;
  else k.head = next;
  if (next != kNoSlot) slot_prev_[next] = prev;
  else k.tail = prev;
  if (!acked) {
    k.failed = ticket.version;
    return;
  }
  k.stale_below = std::max(k.stale_below, ticket.stale_below);
  k.acked_max = std::max(k.acked_max, ticket.version);
  k.ack_version[k.ack_next] = ticket.version;
  k.ack_time[k.ack_next] = static_cast<uint32_t>(now_us);
  k.ack_next = static_cast<uint8_t>((k.ack_next + 1) % kAckHistory);
}

StalenessTracker::ReadTicket StalenessTracker::BeginRead(uint64_t key, uint64_t now_us) const {
  assert(key < keys_.size());
  std::lock_guard<std::mutex> lock(LockFor(key));
  const KeyState& k = keys_[key];
  return ReadTicket{k.stale_below, k.acked_max, static_cast<uint32_t>(now_us)};
}

StalenessTracker::ReadVerdict StalenessTracker::EndRead(uint64_t key, const ReadTicket& ticket,
                                                        uint64_t returned_version, uint64_t now_us) const {
  ReadVerdict v;
  if (ticket.stale_below == 0) return v;
  v.checked = true;
  if (returned_version >= ticket.stale_below) return v;
  const auto returned = static_cast<uint32_t>(returned_version);
  const auto now = static_cast<uint32_t>(now_us);
  std::lock_guard<std::mutex> lock(LockFor(key));
  const KeyState& k = keys_[key];
  if (returned != 0 && returned == k.failed) return v;  // a failed write may have landed late
  v.stale = true;
  v.versions_behind = ticket.acked_max - returned;
  v.lag_us = LagLocked(k, ticket, returned, now);
  return v;
}

uint64_t StalenessTracker::LagLocked(const KeyState& k, const ReadTicket& t, uint32_t returned,
                                     uint32_t now) const {
  // Times are 32-bit µs: differences are right for lags under ~71 minutes.
  uint32_t lag = now - t.start_us;  // lower bound when the history has moved on
  for (int i = 0; i < kAckHistory; ++i) {
    const bool newer = k.ack_version[i] > returned;
    const bool before_read = static_cast<int32_t>(t.start_us - k.ack_time[i]) >= 0;
    if (newer && before_read) lag = std::max(lag, now - k.ack_time[i]);
  }
  return lag;
}

}  // namespace kvring::cmd::kvbench
