#include "net/timer_queue.h"

#include <algorithm>
#include <cassert>

namespace kvring::net {

namespace {

TimerId MakeId(uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | slot;
}
uint32_t SlotOf(TimerId id) { return static_cast<uint32_t>(id & 0xffffffffu); }
uint32_t GenerationOf(TimerId id) { return static_cast<uint32_t>(id >> 32); }

}  // namespace

TimerId TimerQueue::Add(uint64_t when_us, uint64_t period_us, Callback cb) {
  uint32_t index = AllocateSlot();
  Slot& slot = slots_[index];
  slot.cb = std::move(cb);
  slot.period_us = period_us;
  slot.live = true;
  ++live_;
  Push(Entry{when_us, next_seq_++, index, slot.generation});
  return MakeId(index, slot.generation);
}

bool TimerQueue::Cancel(TimerId id) {
  uint32_t index = SlotOf(id);
  if (id == kNoTimer || index >= slots_.size()) return false;
  Slot& slot = slots_[index];
  if (!slot.live || slot.generation != GenerationOf(id)) return false;
  FreeSlot(index);
  MaybeCompact();
  return true;
}

size_t TimerQueue::RunDue(uint64_t now_us) {
  const uint64_t seq_limit = next_seq_;  // timers added by callbacks wait for the next call
  size_t ran = 0;
  while (true) {
    DropStaleTop();
    if (heap_.empty()) break;
    const Entry top = heap_.front();
    if (top.when_us > now_us || top.seq >= seq_limit) break;
    std::pop_heap(heap_.begin(), heap_.end(), FiresLater);
    heap_.pop_back();
    RunEntry(top, now_us);
    ++ran;
  }
  return ran;
}

std::optional<uint64_t> TimerQueue::NextDue() {
  DropStaleTop();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().when_us;
}

void TimerQueue::RunEntry(const Entry& e, uint64_t now_us) {
  Slot& slot = slots_[e.slot];
  if (slot.period_us == 0) {
    // One-shot: free the slot first, so a Cancel of this id from inside the callback
    // is a no-op and the callback may schedule new timers into the slot.
    Callback cb = std::move(slot.cb);
    FreeSlot(e.slot);
    cb();
    return;
  }
  // Periodic: run a copy-free moved callback, then re-arm unless it was cancelled
  // (which bumps the generation) during the run.
  Callback cb = std::move(slot.cb);
  cb();
  Slot& after = slots_[e.slot];  // the vector may have grown during the callback
  if (!after.live || after.generation != e.generation) return;
  after.cb = std::move(cb);
  uint64_t next = e.when_us + after.period_us;
  if (next <= now_us) next = now_us + after.period_us;  // fell behind: do not burst
  Push(Entry{next, next_seq_++, e.slot, e.generation});
}

bool TimerQueue::IsStale(const Entry& e) const {
  const Slot& slot = slots_[e.slot];
  return !slot.live || slot.generation != e.generation;
}

void TimerQueue::Push(const Entry& e) {
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end(), FiresLater);
}

uint32_t TimerQueue::AllocateSlot() {
  if (!free_slots_.empty()) {
    uint32_t index = free_slots_.back();
    free_slots_.pop_back();
    return index;
  }
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

void TimerQueue::FreeSlot(uint32_t index) {
  Slot& slot = slots_[index];
  assert(slot.live);
  slot.live = false;
  slot.cb = nullptr;
  // Generation 0 would make a TimerId of 0 (kNoTimer) possible for slot 0.
  if (++slot.generation == 0) slot.generation = 1;
  free_slots_.push_back(index);
  --live_;
}

void TimerQueue::DropStaleTop() {
  while (!heap_.empty() && IsStale(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), FiresLater);
    heap_.pop_back();
  }
}

void TimerQueue::MaybeCompact() {
  // Cancelled timers leave entries in the heap; with per-request deadlines that are
  // nearly always cancelled, rebuild once stale entries dominate.
  if (heap_.size() < 1024 || heap_.size() < 2 * live_ + 64) return;
  heap_.erase(std::remove_if(heap_.begin(), heap_.end(), [this](const Entry& e) { return IsStale(e); }),
              heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), FiresLater);
}

}  // namespace kvring::net
