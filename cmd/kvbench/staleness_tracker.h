// cmd/kvbench/staleness_tracker.h — decides whether a read returned an older value
// than one already acknowledged (issue 4's staleness check).
//
// Every write kvbench issues for a key gets the next version of that key (1, 2, …,
// carried in the value header). Writes to one key may overlap (several connections
// pick the same hot key), and a server may then order overlapping writes either
// way. So a version u counts as superseded by an acknowledged version v only when
// u happened-before v: u's write had completed before v's was issued. When v is
// issued the tracker notes the oldest version of that key still in flight (or v if
// none): every version below it had completed. When v is acknowledged, that bound
// raises the key's "stale_below". A read snapshots stale_below when it starts; its
// reply (the highest version among its siblings, 0 for not-found or a value that is
// not this run's) is stale when it is below the snapshot. Stale reads are measured
// by versions (highest version acknowledged before the read started − returned) and
// by time (reply time − ack time of the earliest-acknowledged version newer than the
// returned one, among the last kAckHistory acks that happened before the read; when
// those are gone it is the read's own duration, a lower bound).
// A failed write (error, lost connection) may still have been applied: a read that
// returns the key's most recent failed version is not counted stale.
// Memory: about 60 bytes per key plus 12 per write slot.
// Thread safety: thread-safe (the keys are guarded by striped mutexes).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

namespace kvring::cmd::kvbench {

class StalenessTracker {
 public:
  static constexpr int kAckHistory = 4;

  // Keys are [0, num_keys). Callers name each in-flight write by a slot id in
  // [0, write_slots), unique among the writes in flight at one time.
  StalenessTracker(uint64_t num_keys, uint32_t write_slots);
  StalenessTracker(const StalenessTracker&) = delete;
  StalenessTracker& operator=(const StalenessTracker&) = delete;

  struct WriteTicket {
    uint32_t version = 0;      // put it in the value header
    uint32_t stale_below = 0;  // every version below this had completed at issue
  };
  // REQUIRES: key < num_keys, slot < write_slots and not in use.
  WriteTicket BeginWrite(uint64_t key, uint32_t slot);
  // acked: the target acknowledged the write; false: it failed (outcome unknown).
  // Times are microseconds on one monotonic clock.
  void EndWrite(uint64_t key, uint32_t slot, const WriteTicket& ticket, bool acked, uint64_t now_us);

  struct ReadTicket {
    uint32_t stale_below = 0;  // 0: no acknowledged write yet, nothing to check
    uint32_t acked_max = 0;
    uint32_t start_us = 0;
  };
  ReadTicket BeginRead(uint64_t key, uint64_t now_us) const;

  struct ReadVerdict {
    bool checked = false;  // the key had an acknowledged write before the read started
    bool stale = false;
    uint64_t versions_behind = 0;
    uint64_t lag_us = 0;
  };
  // returned_version: the highest version among the reply's values; 0 for
  // not-found or a value without this run's header.
  ReadVerdict EndRead(uint64_t key, const ReadTicket& ticket, uint64_t returned_version, uint64_t now_us) const;

 private:
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  static constexpr int kStripes = 256;

  struct KeyState {
    uint32_t issued = 0;       // highest version issued
    uint32_t stale_below = 0;  // reads returning a lower version (after its ack) are stale
    uint32_t acked_max = 0;
    uint32_t failed = 0;       // most recent version whose write failed
    uint32_t head = kNoSlot;   // in-flight writes, oldest first (slot ids)
    uint32_t tail = kNoSlot;
    uint32_t ack_version[kAckHistory] = {};
    uint32_t ack_time[kAckHistory] = {};  // low 32 bits of the ack time in µs
    uint8_t ack_next = 0;
  };
  struct alignas(64) Stripe {
    std::mutex mu;
  };

  std::mutex& LockFor(uint64_t key) const { return stripes_[key % kStripes].mu; }
  uint64_t LagLocked(const KeyState& k, const ReadTicket& t, uint32_t returned, uint32_t now) const;

  mutable std::array<Stripe, kStripes> stripes_;
  std::vector<KeyState> keys_;        // guarded by the stripe of the key
  std::vector<uint32_t> slot_next_;   // guarded by the stripe of the key the slot writes
  std::vector<uint32_t> slot_prev_;
  std::vector<uint32_t> slot_version_;
};

}  // namespace kvring::cmd::kvbench
