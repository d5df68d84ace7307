// net/timer_queue.h — the event loop's timers: a binary min-heap ordered by
// (due time, creation order) with O(1) cancel.
//
// A timer lives in a slot of a reusable slot table; its TimerId packs the slot index
// and the slot's generation, so cancelling a timer that already fired (or was
// cancelled) is a harmless no-op. Cancel leaves a stale heap entry behind that is
// skipped when it reaches the top; the heap is rebuilt when stale entries outnumber
// live ones. In steady state adding a timer allocates nothing (slots and heap storage
// are reused; a callback that fits std::function's small buffer — two pointers —
// does not allocate either).
//
// Thread safety: needs external synchronization (EventLoop uses it on its own thread).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace kvring::net {

// 0 is never a valid id: use it for "no timer".
using TimerId = uint64_t;
constexpr TimerId kNoTimer = 0;

class TimerQueue {
 public:
  using Callback = std::function<void()>;

  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Schedules cb at when_us (Clock::NowMicros time base). period_us > 0 repeats it
  // every period_us after each run until cancelled.
  TimerId Add(uint64_t when_us, uint64_t period_us, Callback cb);
  // True when the timer was live (it will not run again). Safe from inside any
  // timer callback, including the timer's own.
  bool Cancel(TimerId id);
  // Runs, in (due time, creation) order, every timer due at or before now_us that
  // existed when the call began; returns how many ran. Callbacks may add and cancel.
  size_t RunDue(uint64_t now_us);
  // Due time of the earliest live timer, if any.
  std::optional<uint64_t> NextDue();
  // Live (scheduled, not cancelled) timers.
  size_t size() const { return live_; }

 private:
  struct Slot {
    Callback cb;
    uint64_t period_us = 0;
    uint32_t generation = 1;
    bool live = false;
  };
  struct Entry {
    uint64_t when_us;
    uint64_t seq;  // creation order: ties fire first-in first-out
    uint32_t slot;
    uint32_t generation;
  };
  // Heap order: the entry that fires first compares "greater" (std heaps are max-heaps).
  static bool FiresLater(const Entry& a, const Entry& b) {
    return a.when_us != b.when_us ? a.when_us > b.when_us : a.seq > b.seq;
  }
  bool IsStale(const Entry& e) const;
  void Push(const Entry& e);
  uint32_t AllocateSlot();
  void FreeSlot(uint32_t index);
  void DropStaleTop();
  void MaybeCompact();
  void RunEntry(const Entry& e, uint64_t now_us);

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Entry> heap_;
  uint64_t next_seq_ = 0;
  size_t live_ = 0;
};

}  // namespace kvring::net
