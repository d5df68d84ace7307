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
// Thread safety: thread-safe (RecordClean on the anti-entropy loop, Purgeable on
// the compaction thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "ring/membership_view.h"

namespace kvring::repl {

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

 private:
  // Every co-replica of token's range found identical by an exchange that
  // started at or after `sequence` (false for a ring with no co-replica).
  bool RangeCleanSince(uint64_t token, uint64_t sequence) const;

  const std::string self_;
  ring::MembershipView* const view_;
  mutable base::Mutex mu_;
  // (peer, range end) -> the sequence its last clean exchange started at.
  std::map<std::pair<std::string, uint64_t>, uint64_t> clean_ GUARDED_BY(mu_);
  mutable uint64_t purged_ GUARDED_BY(mu_) = 0;
};

}  // namespace kvring::repl
