// repl/sibling_set.h — the versions a replica keeps for one key: a set of siblings
// (concurrent versions, each tagged with the dot of the write that created it)
// plus the causal history of the key at that replica. Dotted-version-vector
// semantics, so racing blind puts do not multiply siblings and no concurrent write
// is silently lost. The model, with examples: docs/versioning.md. The byte format:
// docs/formats/value.md (repl/value_format.h).
//
// Everything takes the time (wall clock, µs) and the node ids as arguments: no
// clock reads, no globals.
//
// Invariants (checked by CheckInvariants; the decoder and FromParts enforce the
// structural ones):
//   - siblings are sorted by dot and no two share a dot;
//   - history covers every sibling's dot and descends every sibling's context;
//   - no sibling's context covers another sibling's dot (no sibling is obsolete);
//   - a tombstone has an empty value.
// Thread safety: a value type; needs external synchronization when shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "repl/version_vector.h"

namespace kvring::repl {

// One version of a key's value.
struct Sibling {
  Dot dot;                 // the write event that created this version
  VersionVector context;   // what the writer had seen (entry times are not kept)
  uint64_t timestamp_micros = 0;  // wall time of the write at its coordinator
  bool tombstone = false;  // a delete
  std::string value;       // empty for a tombstone

  friend bool operator==(const Sibling&, const Sibling&) = default;
};

// `newer` supersedes `older`: the writer of `newer` had seen `older`'s write.
inline bool Obsoletes(const Sibling& newer, const Sibling& older) {
  return newer.context.Covers(older.dot);
}
// Distinct writes, neither of which saw the other: both must be kept.
inline bool ConcurrentSiblings(const Sibling& a, const Sibling& b) {
  return a.dot != b.dot && !Obsoletes(a, b) && !Obsoletes(b, a);
}

// Limits a replica applies when it stores writes.
struct VersioningOptions {
  // A write that would leave more siblings than this is rejected (TooLarge).
  size_t max_siblings = 64;
  // A write that leaves at least this many siblings reports over_warning, so the
  // caller can log a warning before writes start failing. 0 disables it.
  size_t warn_siblings = 32;
  // Applied to the history after each write (see SiblingSet::Prune).
  PruneOptions prune;
};

// What a successful write did.
struct WriteOutcome {
  Dot dot;                    // the new sibling's dot
  size_t superseded = 0;      // siblings the write's context resolved
  size_t siblings = 0;        // siblings the key now has (tombstones included)
  bool over_warning = false;  // siblings >= options.warn_siblings
};

class SiblingSet {
 public:
  SiblingSet() = default;  // a key never written (or unknown at this replica)

  // Builds a set from decoded parts, checking the structural invariants
  // (Corruption naming the problem): sorted unique dots, dots and contexts within
  // the history, empty tombstone values.
  [[nodiscard]] static base::Result<SiblingSet> FromParts(VersionVector history,
                                                          std::vector<Sibling> siblings);

  // The key's causal history at this replica: the join of every sibling's context
  // and dot and of everything earlier writes and merges brought in. A get returns
  // it as the one context covering all siblings (encoded by repl/client_context.h).
  const VersionVector& history() const { return history_; }
  const std::vector<Sibling>& siblings() const { return siblings_; }
  // No sibling and no history.
  bool empty() const { return siblings_.empty() && history_.empty(); }
  // The key reads as not found: no sibling, or only tombstones.
  bool IsDeleted() const;
  // The siblings a get returns: the non-tombstones, in dot order.
  std::vector<const Sibling*> LiveSiblings() const;

  // Writes `value` as coordinated by replica `actor`, whose writer had seen
  // `context`. Every sibling whose dot `context` covers is resolved; the others
  // stay as siblings of the new one. The new dot is (actor, 1 + the largest counter
  // of actor in the history or the context). Then the history is pruned (actor's
  // own entry and every sibling's dot node are never pruned).
  // For a blind put (a client sent no context), pass history() as the context: the
  // write then supersedes everything this replica holds.
  // TooLarge, leaving the set unchanged, when the write would leave more than
  // options.max_siblings siblings.
  // REQUIRES: !actor.empty().
  [[nodiscard]] base::Result<WriteOutcome> Put(std::string_view actor, const VersionVector& context,
                                               std::string_view value, uint64_t now_micros,
                                               const VersioningOptions& options);
  // The same as Put, writing a tombstone.
  [[nodiscard]] base::Result<WriteOutcome> Delete(std::string_view actor, const VersionVector& context,
                                                  uint64_t now_micros, const VersioningOptions& options);

  // Folds another replica's set for the same key into this one (replication, read
  // repair, anti-entropy). A sibling survives iff both sets hold it, or one holds
  // it and the other's history does not cover its dot (when both hold it, the
  // contexts keep their common entries: one side may have pruned). Commutative,
  // associative and idempotent; never rejected and never pruned (a merge must not
  // lose data): a replica that stores the result calls Prune itself.
  void MergeFrom(const SiblingSet& other);
  static SiblingSet Merge(const SiblingSet& a, const SiblingSet& b);

  // Prunes the history (VersionVector::Prune) without ever dropping `self` (the
  // local node: it must keep counting its own dots upwards) or the dot node of a
  // current sibling; pruned nodes are dropped from sibling contexts too. Costs at
  // most false conflicts (an old version may come back as a sibling), never a
  // lost write. Returns the dropped node ids.
  std::vector<std::string> Prune(const PruneOptions& options, uint64_t now_micros, std::string_view self);

  // All invariants, including the quadratic "no sibling is obsolete" check. For
  // tests and checkers; the read and write paths rely on FromParts.
  [[nodiscard]] base::Status CheckInvariants() const;

  friend bool operator==(const SiblingSet&, const SiblingSet&) = default;

 private:
  base::Result<WriteOutcome> Write(std::string_view actor, const VersionVector& context,
                                   std::string_view value, bool tombstone, uint64_t now_micros,
                                   const VersioningOptions& options);

  VersionVector history_;
  std::vector<Sibling> siblings_;  // sorted by dot
};

}  // namespace kvring::repl
