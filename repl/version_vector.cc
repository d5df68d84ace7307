#include "repl/version_vector.h"

#include <algorithm>

#include "base/coding.h"

namespace kvring::repl {

namespace {

using Entry = VersionVector::Entry;

// Folds `theirs` into `mine` (same node): the larger counter wins with its time;
// equal counters keep the later time, so merging is commutative.
void MergeEntry(Entry* mine, const Entry& theirs) {
  if (theirs.counter > mine->counter) {
    mine->counter = theirs.counter;
    mine->updated_secs = theirs.updated_secs;
  } else if (theirs.counter == mine->counter) {
    mine->updated_secs = std::max(mine->updated_secs, theirs.updated_secs);
  }
}

// Number of nodes of `b` that `a` lacks. Both sorted by node.
size_t CountMissing(const std::vector<Entry>& a, const std::vector<Entry>& b) {
  size_t missing = 0;
  size_t i = 0;
  for (const Entry& e : b) {
    while (i < a.size() && a[i].node < e.node) ++i;
    if (i == a.size() || a[i].node != e.node) ++missing;
  }
  return missing;
}

// The smallest encoded entry: a one-byte node id (2 bytes with its length), a
// one-byte counter and a one-byte time. Bounds reserve() on untrusted counts.
constexpr size_t kMinEncodedEntryBytes = 4;

}  // namespace

VersionVector::VersionVector(std::initializer_list<std::pair<std::string_view, uint64_t>> counters) {
  for (const auto& [node, counter] : counters) Witness(node, counter, 0);
}

VersionVector VersionVector::FromSortedEntries(std::vector<Entry> entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    assert(!entries[i].node.empty() && entries[i].counter >= 1);
    assert(i == 0 || entries[i - 1].node < entries[i].node);
  }
  VersionVector vv;
  vv.entries_ = std::move(entries);
  return vv;
}

size_t VersionVector::LowerBound(std::string_view node) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), node,
                             [](const Entry& e, std::string_view n) { return e.node < n; });
  return static_cast<size_t>(it - entries_.begin());
}

const VersionVector::Entry* VersionVector::Find(std::string_view node) const {
  // Vectors are short (a handful of nodes): a linear scan beats a binary search.
  for (const Entry& e : entries_) {
    if (e.node == node) return &e;
  }
  return nullptr;
}

uint64_t VersionVector::Get(std::string_view node) const {
  const Entry* e = Find(node);
  return e ? e->counter : 0;
}

bool VersionVector::Descends(const VersionVector& other) const {
  size_t i = 0;
  for (const Entry& e : other.entries_) {
    while (i < entries_.size() && entries_[i].node < e.node) ++i;
    if (i == entries_.size() || entries_[i].node != e.node || entries_[i].counter < e.counter) {
      return false;
    }
  }
  return true;
}

void VersionVector::Witness(std::string_view node, uint64_t counter, uint64_t updated_secs) {
  assert(!node.empty());
  if (counter == 0) return;
  const size_t i = LowerBound(node);
  Entry theirs{std::string(node), counter, updated_secs};
  if (i < entries_.size() && entries_[i].node == node) {
    MergeEntry(&entries_[i], theirs);
  } else {
    entries_.insert(entries_.begin() + static_cast<ptrdiff_t>(i), std::move(theirs));
  }
}

void VersionVector::Merge(const VersionVector& other) {
  const std::vector<Entry>& theirs = other.entries_;
  if (CountMissing(entries_, theirs) == 0) {
    // Common case (same set of nodes): update in place, no allocation.
    size_t i = 0;
    for (const Entry& e : theirs) {
      while (entries_[i].node < e.node) ++i;
      MergeEntry(&entries_[i], e);
    }
    return;
  }
  std::vector<Entry> out;
  out.reserve(entries_.size() + theirs.size());
  size_t i = 0, j = 0;
  while (i < entries_.size() || j < theirs.size()) {
    if (j == theirs.size() || (i < entries_.size() && entries_[i].node < theirs[j].node)) {
      out.push_back(std::move(entries_[i++]));
    } else if (i == entries_.size() || theirs[j].node < entries_[i].node) {
      out.push_back(theirs[j++]);
    } else {
      out.push_back(std::move(entries_[i++]));
      MergeEntry(&out.back(), theirs[j++]);
    }
  }
  entries_ = std::move(out);
}

void VersionVector::Erase(std::string_view node) {
  const size_t i = LowerBound(node);
  if (i < entries_.size() && entries_[i].node == node) {
    entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(i));
  }
}

void VersionVector::ClearTimes() {
  for (Entry& e : entries_) e.updated_secs = 0;
}

std::vector<std::string> VersionVector::Prune(const PruneOptions& options, uint64_t now_micros,
                                              const std::function<bool(std::string_view)>& is_protected) {
  std::vector<std::string> dropped;
  if (entries_.size() <= options.max_entries) return dropped;
  const uint64_t now_secs = WallSeconds(now_micros);
  const uint64_t min_age_secs = options.min_age_micros / 1'000'000 + (options.min_age_micros % 1'000'000 != 0);
  std::vector<size_t> candidates;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const uint64_t age_secs = now_secs > e.updated_secs ? now_secs - e.updated_secs : 0;
    if (age_secs >= min_age_secs && !is_protected(e.node)) {
      candidates.push_back(i);
    }
  }
  // Oldest first; the node id breaks ties so pruning is deterministic.
  std::sort(candidates.begin(), candidates.end(), [this](size_t a, size_t b) {
    const Entry& x = entries_[a];
    const Entry& y = entries_[b];
    return x.updated_secs != y.updated_secs ? x.updated_secs < y.updated_secs : x.node < y.node;
  });
  const size_t excess = entries_.size() - options.max_entries;
  candidates.resize(std::min(excess, candidates.size()));
  for (size_t i : candidates) dropped.push_back(entries_[i].node);
  for (const std::string& node : dropped) Erase(node);
  return dropped;
}

void VersionVector::EncodeTo(std::string* dst) const {
  base::PutVarint32(dst, static_cast<uint32_t>(entries_.size()));
  for (const Entry& e : entries_) {
    base::PutLengthPrefixed(dst, e.node);
    base::PutVarint64(dst, e.counter);
    base::PutVarint64(dst, e.updated_secs);
  }
}

base::Status VersionVector::DecodeFrom(std::string_view* input) {
  uint32_t count;
  if (!base::GetVarint32(input, &count)) {
    return base::Status::Corruption("version vector: truncated entry count");
  }
  std::vector<Entry> entries;
  entries.reserve(std::min<size_t>(count, input->size() / kMinEncodedEntryBytes));
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view node;
    Entry e;
    if (!base::GetLengthPrefixed(input, &node) || !base::GetVarint64(input, &e.counter) ||
        !base::GetVarint64(input, &e.updated_secs)) {
      return base::Status::Corruption("version vector: truncated entry " + std::to_string(i + 1) +
                                      " of " + std::to_string(count));
    }
    if (node.empty()) {
      return base::Status::Corruption("version vector: empty node id in entry " + std::to_string(i + 1));
    }
    if (e.counter == 0) {
      return base::Status::Corruption("version vector: zero counter for node \"" + std::string(node) + "\"");
    }
    if (!entries.empty() && !(entries.back().node < node)) {
      return base::Status::Corruption("version vector: node ids unsorted or repeated at entry " +
                                      std::to_string(i + 1));
    }
    e.node = std::string(node);
    entries.push_back(std::move(e));
  }
  entries_ = std::move(entries);
  return base::Status::OK();
}

bool Concurrent(const VersionVector& a, const VersionVector& b) {
  return !a.Descends(b) && !b.Descends(a);
}

}  // namespace kvring::repl
