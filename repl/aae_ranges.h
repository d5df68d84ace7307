// repl/aae_ranges.h — which prefix intervals two replicas compare: the ring
// ranges (virtual-node arcs) both replicate, as engine prefix intervals
// (repl/leaf_source.h), and the split points that keep every Merkle leaf inside
// one ring range.
//
// A ring range (a, b] is the interval [a + 1, b + 1); one that wraps past 2^64 - 1
// is two: [a + 1, 2^64) and [0, b + 1).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "repl/leaf_source.h"
#include "ring/ring.h"

namespace kvring::repl {

// The intervals of one ring range, in prefix order.
std::vector<PrefixInterval> IntervalsOf(const ring::TokenRange& range);

// A ring range both `self` and `peer` replicate, and its intervals.
struct SharedRange {
  ring::TokenRange range;
  std::vector<PrefixInterval> intervals;
};
// Every range of the ring that both replicate, in token order. Empty when either
// is not a member.
std::vector<SharedRange> SharedRanges(const ring::Ring& ring, std::string_view self, std::string_view peer);

// The ids of every member that shares at least one range with `self`, sorted.
std::vector<std::string> CoReplicas(const ring::Ring& ring, std::string_view self);

// Every ring token + 1: the split points lsm::DB::SetMerkleSplits is given.
std::vector<uint64_t> MerkleSplits(const ring::Ring& ring);

// The ranges of the ring `self` replicates (replicated = true) or does not (what
// cleanup deletes; all of it when `self` is not a member, which RangeCleaner
// refuses), adjacent ones merged, in token order.
std::vector<ring::TokenRange> RangesReplicated(const ring::Ring& ring, std::string_view self, bool replicated);

// Keeps, of `ranges`, the intervals inside `limit` (clipped to it).
std::vector<SharedRange> ClipRanges(const std::vector<SharedRange>& ranges, PrefixInterval limit);

}  // namespace kvring::repl
