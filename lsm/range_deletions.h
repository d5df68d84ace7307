// lsm/range_deletions.h — the range deletions in force (DB::DeleteRange): user-key
// intervals [begin, end) with a sequence number, which hide every entry of the
// interval written at or below that sequence until compaction has dropped them.
//
// Kept as fragments: sorted, disjoint intervals, each with the highest sequence
// of the deletions covering it (a deletion's sequence is the DB's last sequence
// when it was made, so a newer one never has a lower sequence and simply
// overwrites the part it covers). An entry (key, seq) is covered when key lies
// in a fragment and seq <= the fragment's sequence; a key's older versions are
// then covered too, so readers may skip covered entries one by one.
//
// epoch numbers fragments in the order they were made (in memory only, from 1
// in each process; a split keeps its parent's): a table written by a flush or
// compaction that started with fragments up to epoch E holds nothing covered by
// a fragment of epoch <= E (FileMetaData::range_epoch).
//
// An empty end means no upper bound. Persisted as manifest field 7
// (docs/formats/manifest.md); the design is docs/architecture.md, "Range deletes".
// Thread safety: a value; shared as std::shared_ptr<const RangeDeletions> once
// built (the DB replaces it under its mutex, never changes a shared one).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lsm/dbformat.h"
#include "lsm/iterator.h"

namespace kvring::lsm {

class RangeDeletions {
 public:
  struct Fragment {
    std::string begin;
    std::string end;  // exclusive; empty: no upper bound
    SequenceNumber sequence = 0;
    uint64_t epoch = 0;
  };
  // The interval of constant coverage around a key: a fragment, or a gap
  // between two (sequence 0).
  struct Span {
    std::string_view begin;  // inclusive
    std::string_view end;    // exclusive; empty: no upper bound
    SequenceNumber sequence = 0;
  };

  bool empty() const { return fragments_.empty(); }
  size_t size() const { return fragments_.size(); }
  uint64_t max_epoch() const { return next_epoch_ - 1; }

  // Adds [begin, end) at sequence. REQUIRES: begin < end (or end empty), and
  // sequence >= the sequence of every fragment it overlaps.
  void Add(std::string_view begin, std::string_view end, SequenceNumber sequence);
  // Removes the fragment that starts at begin (a no-op when there is none).
  void Remove(std::string_view begin) { fragments_.erase(std::string(begin)); }

  // The sequence of the fragment holding user_key; 0 when none does.
  SequenceNumber CoveringSequence(std::string_view user_key) const { return SpanOf(user_key).sequence; }
  bool Covers(std::string_view user_key, SequenceNumber sequence) const {
    const SequenceNumber s = CoveringSequence(user_key);
    return s != 0 && sequence <= s;
  }
  Span SpanOf(std::string_view user_key) const;
  // Calls fn for every fragment meeting the user-key interval [smallest, largest].
  void ForEachOverlapping(std::string_view smallest, std::string_view largest,
                          const std::function<void(const std::string& begin, SequenceNumber sequence,
                                                   uint64_t epoch)>& fn) const;
  // Every fragment, in key order.
  std::vector<Fragment> Fragments() const;

 private:
  struct Value {
    std::string end;
    SequenceNumber sequence;
    uint64_t epoch;
  };
  // Cuts the fragment strictly containing key (if any) in two at key.
  void SplitAt(std::string_view key);

  std::map<std::string, Value, std::less<>> fragments_;  // by begin
  uint64_t next_epoch_ = 1;
};

// True when key < end, an empty end being no upper bound.
inline bool BeforeEnd(std::string_view key, std::string_view end) { return end.empty() || key < end; }

// RangeDeletions::Covers for a run of keys in (mostly) increasing order: the map
// is asked once per span, not once per key. *deletions must outlive it (null: covers nothing).
class CoverageCursor {
 public:
  explicit CoverageCursor(const RangeDeletions* deletions) : deletions_(deletions) {}
  bool Covers(std::string_view user_key, SequenceNumber sequence) {
    if (deletions_ == nullptr || deletions_->empty()) return false;
    if (!have_span_ || user_key < span_.begin || !BeforeEnd(user_key, span_.end)) {
      span_ = deletions_->SpanOf(user_key);
      have_span_ = true;
    }
    return span_.sequence != 0 && sequence <= span_.sequence;
  }

 private:
  const RangeDeletions* const deletions_;
  RangeDeletions::Span span_;  // points into *deletions_
  bool have_span_ = false;
};

// An internal iterator over `internal` without the entries `deletions` covers.
std::unique_ptr<Iterator> NewRangeDeletionFilter(std::unique_ptr<Iterator> internal,
                                                 std::shared_ptr<const RangeDeletions> deletions);

}  // namespace kvring::lsm
