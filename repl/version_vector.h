// repl/version_vector.h — version vectors over server-side actors (node ids), and
// dots: the single write events they summarise.
//
// A VersionVector maps node id → counter: "every write event minted by that node
// for this key, up to that counter, is known". A Dot (node, counter) names one write
// event. Each entry also remembers when its counter last rose (wall time, whole
// seconds), so old entries can be pruned: see Prune() and docs/versioning.md.
// The model (dotted version vectors, sibling sets) is in docs/versioning.md; the
// byte format of a vector is in docs/formats/value.md.
//
// Invariant: entries are sorted by node id, node ids are unique and non-empty, and
// every counter is >= 1 (an absent node means counter 0).
// Thread safety: a value type; needs external synchronization when shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kvring::repl {

// One write event: the `counter`-th write to a key coordinated by `node`.
struct Dot {
  std::string node;
  uint64_t counter = 0;

  friend bool operator==(const Dot&, const Dot&) = default;
  friend auto operator<=>(const Dot&, const Dot&) = default;
};

// When a vector may lose entries. Both thresholds must be passed: a vector is
// pruned only while it has more than max_entries entries, and only entries whose
// counter has not risen for at least min_age_micros are dropped, oldest first.
struct PruneOptions {
  size_t max_entries = 64;
  uint64_t min_age_micros = 24ull * 3600 * 1'000'000;  // one day
};

// Whole seconds of a wall-clock time in microseconds (entry times are kept in
// seconds: pruning works on ages of hours or days, and it saves bytes per entry).
constexpr uint64_t WallSeconds(uint64_t wall_micros) { return wall_micros / 1'000'000; }

class VersionVector {
 public:
  struct Entry {
    std::string node;
    uint64_t counter = 0;       // >= 1
    uint64_t updated_secs = 0;  // wall time (s) the counter last rose; 0 = unknown

    friend bool operator==(const Entry&, const Entry&) = default;
  };

  VersionVector() = default;
  // {{"n1", 2}, {"n2", 5}}: a vector with unknown (0) entry times. Zero counters
  // are skipped; a repeated node keeps its largest counter.
  VersionVector(std::initializer_list<std::pair<std::string_view, uint64_t>> counters);

  // A vector from entries already in order (decoders build vectors this way).
  // REQUIRES: nodes sorted, unique and non-empty; every counter >= 1.
  static VersionVector FromSortedEntries(std::vector<Entry> entries);

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }

  // The counter of `node` (0 when absent).
  uint64_t Get(std::string_view node) const;
  // The entry of `node`, or nullptr.
  const Entry* Find(std::string_view node) const;
  // True when the write event `dot` is part of this history.
  bool Covers(const Dot& dot) const { return Get(dot.node) >= dot.counter; }
  // True when this vector has seen everything `other` has (every counter >=).
  bool Descends(const VersionVector& other) const;
  // Same counters for the same nodes (entry times are ignored).
  bool SameCounters(const VersionVector& other) const {
    return Descends(other) && other.Descends(*this);
  }

  // Raises `node` to `counter` when that is larger, recording `updated_secs`; on an
  // equal counter keeps the later of the two times. A zero counter is a no-op.
  // REQUIRES: !node.empty().
  void Witness(std::string_view node, uint64_t counter, uint64_t updated_secs);
  // Pointwise maximum with `other` (entry times follow the larger counter).
  void Merge(const VersionVector& other);
  // Removes `node`'s entry (no-op when absent).
  void Erase(std::string_view node);
  // Sets every entry time to 0 (unknown). Sibling contexts carry no times.
  void ClearTimes();

  // Drops entries while size() > options.max_entries: oldest first, and only
  // entries at least options.min_age_micros old at `now_micros` (wall time) for
  // which is_protected(node) is false (an unknown time, 0, counts as oldest).
  // Returns the dropped node ids. Dropping an entry can only make this vector
  // cover fewer dots: see docs/versioning.md.
  std::vector<std::string> Prune(const PruneOptions& options, uint64_t now_micros,
                                 const std::function<bool(std::string_view)>& is_protected);

  // Appends: count:varint32, then per entry node:lp counter:varint64
  // updated_secs:varint64 (docs/formats/value.md, "vector").
  void EncodeTo(std::string* dst) const;
  // Parses one encoded vector from the front of *input, consuming it. Corruption
  // (naming what is wrong) on truncated input, zero counters, empty, unsorted or
  // repeated node ids; *this is unchanged on error.
  [[nodiscard]] base::Status DecodeFrom(std::string_view* input);

  // Full equality, entry times included.
  friend bool operator==(const VersionVector&, const VersionVector&) = default;

 private:
  // Index of the first entry whose node is >= `node`.
  size_t LowerBound(std::string_view node) const;

  std::vector<Entry> entries_;
};

// Neither vector descends the other: each has seen a write the other has not.
bool Concurrent(const VersionVector& a, const VersionVector& b);

}  // namespace kvring::repl
