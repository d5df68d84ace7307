// lsm/range_deletions.cc — the fragment map of range deletions and the
// iterator that hides what they cover.
#include "lsm/range_deletions.h"

#include <cassert>

namespace kvring::lsm {

void RangeDeletions::SplitAt(std::string_view key) {
  auto it = fragments_.upper_bound(key);
  if (it == fragments_.begin()) return;
  --it;
  if (it->first == key || !BeforeEnd(key, it->second.end)) return;  // starts there, or ends before
  Value right = it->second;
  it->second.end = std::string(key);
  fragments_.emplace(std::string(key), std::move(right));
}

void RangeDeletions::Add(std::string_view begin, std::string_view end, SequenceNumber sequence) {
  assert(end.empty() || begin < end);
  SplitAt(begin);
  if (!end.empty()) SplitAt(end);
  const uint64_t epoch = next_epoch_++;
  // Walk [begin, end): gaps become new fragments, fragments with a lower
  // sequence take the new one, a higher sequence (only in a damaged manifest) stays.
  std::string at(begin);  // the first key not yet handled
  for (auto it = fragments_.lower_bound(begin);; ++it) {
    if (it == fragments_.end() || !BeforeEnd(it->first, end)) {
      if (BeforeEnd(at, end)) fragments_.emplace(at, Value{std::string(end), sequence, epoch});
      return;
    }
    if (at != it->first) fragments_.emplace(at, Value{it->first, sequence, epoch});
    if (it->second.sequence <= sequence) it->second = Value{it->second.end, sequence, epoch};
    if (it->second.end.empty()) return;  // no upper bound: it covers the rest
    at = it->second.end;
  }
}

RangeDeletions::Span RangeDeletions::SpanOf(std::string_view user_key) const {
  Span span;
  auto next = fragments_.upper_bound(user_key);
  if (next != fragments_.end()) span.end = next->first;
  if (next == fragments_.begin()) return span;
  auto it = std::prev(next);
  if (BeforeEnd(user_key, it->second.end)) {
    span.begin = it->first;
    span.end = it->second.end;
    span.sequence = it->second.sequence;
  } else {
    span.begin = it->second.end;
  }
  return span;
}

void RangeDeletions::ForEachOverlapping(
    std::string_view smallest, std::string_view largest,
    const std::function<void(const std::string&, SequenceNumber, uint64_t)>& fn) const {
  auto it = fragments_.upper_bound(smallest);
  if (it != fragments_.begin() && BeforeEnd(smallest, std::prev(it)->second.end)) --it;
  for (; it != fragments_.end() && it->first <= largest; ++it) fn(it->first, it->second.sequence, it->second.epoch);
}

std::vector<RangeDeletions::Fragment> RangeDeletions::Fragments() const {
  std::vector<Fragment> out;
  out.reserve(fragments_.size());
  for (const auto& [begin, v] : fragments_) out.push_back({begin, v.end, v.sequence, v.epoch});
  return out;
}

namespace {

// Skips covered entries.
class RangeDeletionFilter final : public Iterator {
 public:
  RangeDeletionFilter(std::unique_ptr<Iterator> internal, std::shared_ptr<const RangeDeletions> deletions)
      : internal_(std::move(internal)), deletions_(std::move(deletions)), cursor_(deletions_.get()) {}

  bool Valid() const override { return internal_->Valid(); }
  void SeekToFirst() override {
    internal_->SeekToFirst();
    SkipCovered();
  }
  void Seek(std::string_view target) override {
    internal_->Seek(target);
    SkipCovered();
  }
  void Next() override {
    internal_->Next();
    SkipCovered();
  }
  std::string_view key() const override { return internal_->key(); }
  std::string_view value() const override { return internal_->value(); }
  base::Status status() const override { return internal_->status(); }

 private:
  bool Covered(std::string_view internal_key) {
    if (internal_key.size() < kInternalKeyTrailerBytes) return false;  // the reader above reports it
    return cursor_.Covers(ExtractUserKey(internal_key), ExtractTrailer(internal_key) >> 8);
  }
  void SkipCovered() {
    while (internal_->Valid() && Covered(internal_->key())) internal_->Next();
  }

  const std::unique_ptr<Iterator> internal_;
  const std::shared_ptr<const RangeDeletions> deletions_;
  CoverageCursor cursor_;
};

}  // namespace

std::unique_ptr<Iterator> NewRangeDeletionFilter(std::unique_ptr<Iterator> internal,
                                                 std::shared_ptr<const RangeDeletions> deletions) {
  if (deletions == nullptr || deletions->empty()) return internal;
  return std::make_unique<RangeDeletionFilter>(std::move(internal), std::move(deletions));
}

}  // namespace kvring::lsm
