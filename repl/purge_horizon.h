// repl/purge_horizon.h — when a tombstone may leave the engine (issue 13, C2):
// the rule the engine's compaction filter (lsm::Options::compaction_filter)
// asks.
//
// A key whose siblings are all tombstones, stored at engine sequence s, is
// purgeable once, for every co-replica of its ring range, an anti-entropy
// exchange that started after s was applied (engine sequence >= s at its start) compared the
// range and found it identical, while no member advertised hints pending. Such
// an exchange shows that the co-replica holds the tombstone, a newer version, or
// nothing at all for the key, and no live value the tombstone covers: a set of
// only tombstones is left out of the Merkle index, so a replica still holding
// the old live value differs and is repaired first (the merge lets the tombstone
// win), and only a later clean exchange lets the purge happen. A replica that is
// down is never compared (hints first, up peers only), so while it holds the old
// value nothing is purged and it cannot resurrect the key when it returns. Never
// by a timer alone. A single-node ring (no co-replica known) never purges: a ring
// not yet learnt from gossip must not look like "no replica to wait for".
//
// States of a tombstone on a replica: kept (no clean exchange since it was
// stored, with some co-replica) -> purgeable (clean with every co-replica since)
// -> purged (compaction rewrote it as an engine deletion, dropped at the bottom
// level). Held in memory: after a restart nothing is purgeable until new clean
// exchanges (conservative). docs/versioning.md.
//
// Purged from disk: a compaction offers the filter only what it rewrites, so
// each time a range becomes clean with every co-replica at a higher sequence
// the horizon tells OnRangeClean's callback, which asks the engine to rewrite
// the tables of that range holding tombstones at or below it
// (lsm::DB::CompactTombstones; the engine counts them per table with
// IsAllTombstones as its classifier). Cold tombstones at the bottom level leave
// the disk too.
// Thread safety: thread-safe (RecordClean on the anti-entropy loop, Purgeable on
// the compaction thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "ring/membership_view.h"

namespace kvring::repl {

// True when `value` is an encoded sibling set of only tombstones (the engine's
// lsm::Options::is_tombstone): a walk over the encoding, not a full decode, so a
// damaged value may pass; false for one that is not even walkable.
bool IsAllTombstones(std::string_view value);

class PurgeHorizon {
 public:
  // *view must outlive the horizon. self: this node's id.
  PurgeHorizon(std::string self, ring::MembershipView* view) : self_(std::move(self)), view_(view) {}

  // An exchange with `peer` that started when the engine had applied every
  // write up to `start_sequence`
  // found the ring range ending at token `range_end` identical.
  void RecordClean(const std::string& peer, uint64_t range_end, uint64_t start_sequence);
  // The compaction filter: true when `value` (an encoded sibling set under
  // `storage_key`, written at `sequence`) is all tombstones and purgeable.
  bool Purgeable(std::string_view storage_key, std::string_view value, uint64_t sequence) const;

  uint64_t purged() const;  // how many times Purgeable said yes

  // Called (on RecordClean's thread) with a ring range and the sequence below
  // which its tombstones are now purgeable, each time that sequence rises.
  // Set before the first RecordClean.
  using CleanCallback = std::function<void(const ring::TokenRange& range, uint64_t sequence)>;
  void OnRangeClean(CleanCallback callback) { on_clean_ = std::move(callback); }

 private:
  // Every co-replica of token's range found identical by an exchange that
  // started at or after `sequence` (false for a ring with no co-replica).
  bool RangeCleanSince(uint64_t token, uint64_t sequence) const;
  // The smallest sequence every co-replica of token's range was last found
  // identical at; none when one never was (or the ring has no co-replica).
  std::optional<uint64_t> CleanSince(const ring::Ring& ring, uint64_t token) const;
  // Tells on_clean_ when range_end's range became clean at a higher sequence.
  void NotifyClean(uint64_t range_end);

  const std::string self_;
  ring::MembershipView* const view_;
  mutable base::Mutex mu_;
  // (peer, range end) -> the sequence its last clean exchange started at.
  std::map<std::pair<std::string, uint64_t>, uint64_t> clean_ GUARDED_BY(mu_);
  mutable uint64_t purged_ GUARDED_BY(mu_) = 0;
  CleanCallback on_clean_;
  std::map<uint64_t, uint64_t> notified_ GUARDED_BY(mu_);  // range end -> last sequence told
};

}  // namespace kvring::repl
