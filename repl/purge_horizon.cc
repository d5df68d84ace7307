#include "repl/purge_horizon.h"

#include <algorithm>

#include "base/coding.h"
#include "repl/value_format.h"

namespace kvring::repl {

namespace {

// Skips the history vector (docs/formats/value.md) without building it.
bool SkipHistory(std::string_view* in) {
  uint32_t n;
  if (!base::GetVarint32(in, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    std::string_view node;
    uint64_t counter, updated;
    if (!base::GetLengthPrefixed(in, &node) || !base::GetVarint64(in, &counter) || !base::GetVarint64(in, &updated)) {
      return false;
    }
  }
  return true;
}

// Skips a tombstone sibling's fields after its flags byte.
bool SkipTombstone(std::string_view* in, uint8_t flags) {
  uint32_t dot_node, n;
  uint64_t lag, timestamp;
  if (!base::GetVarint32(in, &dot_node) || !base::GetVarint64(in, &lag) || !base::GetFixed64(in, &timestamp)) {
    return false;
  }
  if ((flags & kSiblingFullContext) == 0) return true;
  if (!base::GetVarint32(in, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (!base::GetVarint32(in, &dot_node) || !base::GetVarint64(in, &lag)) return false;
  }
  return true;
}

}  // namespace

// Called for every value a flush or compaction writes: a walk over the
// encoding that stops at the first live sibling, not a decode (the filter,
// Purgeable, decodes and checks in full before anything is purged).
bool IsAllTombstones(std::string_view value) {
  std::string_view in = value;
  uint32_t count;
  if (in.empty() || static_cast<uint8_t>(in[0]) != kValueFormatVersion) return false;
  in.remove_prefix(1);
  if (!SkipHistory(&in) || !base::GetVarint32(&in, &count) || count == 0) return false;
  for (uint32_t i = 0; i < count; i++) {
    if (in.empty()) return false;
    const auto flags = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if ((flags & kSiblingTombstone) == 0 || !SkipTombstone(&in, flags)) return false;
  }
  return in.empty();
}

void PurgeHorizon::RecordClean(const std::string& peer, uint64_t range_end, uint64_t start_sequence) {
  {
    base::MutexLock l(&mu_);
    uint64_t& seq = clean_[{peer, range_end}];
    if (start_sequence > seq) seq = start_sequence;
  }
  if (on_clean_) NotifyClean(range_end);
}

void PurgeHorizon::NotifyClean(uint64_t range_end) {
  auto ring = view_->Current();
  if (ring->vnode_count() == 0) return;
  const size_t vnode = ring->SuccessorVnode(range_end);
  if (ring->vnode_token(vnode) != range_end) return;  // not a range of the ring in force
  const std::optional<uint64_t> since = CleanSince(*ring, range_end);
  if (!since) return;
  {
    base::MutexLock l(&mu_);
    uint64_t& told = notified_[range_end];
    if (*since <= told) return;
    told = *since;
  }
  on_clean_(ring->VnodeRange(vnode), *since);
}

bool PurgeHorizon::Purgeable(std::string_view storage_key, std::string_view value, uint64_t sequence) const {
  // Called for every value a compaction rewrites: the range's clean record is
  // looked up first, and the set decoded only when the range allows a purge.
  if (storage_key.size() < 8 || !RangeCleanSince(base::DecodeBigEndian64(storage_key.data()), sequence)) {
    return false;
  }
  base::Result<SiblingSet> set = DecodeSiblingSet(value);
  if (!set.ok() || !set->IsDeleted()) return false;
  base::MutexLock l(&mu_);
  purged_++;
  return true;
}

bool PurgeHorizon::RangeCleanSince(uint64_t token, uint64_t sequence) const {
  auto ring = view_->Current();
  if (ring->vnode_count() == 0) return false;
  const std::optional<uint64_t> since = CleanSince(*ring, token);
  return since && *since >= sequence;
}

std::optional<uint64_t> PurgeHorizon::CleanSince(const ring::Ring& ring, uint64_t token) const {
  const uint64_t range_end = ring.vnode_token(ring.SuccessorVnode(token));
  std::optional<uint64_t> since;
  base::MutexLock l(&mu_);
  if (clean_.empty()) return std::nullopt;
  for (const ring::NodeInfo* n : ring.PreferenceListFor(token)) {
    if (n->id == self_) continue;
    auto it = clean_.find({n->id, range_end});
    if (it == clean_.end()) return std::nullopt;
    since = since ? std::min(*since, it->second) : it->second;
  }
  return since;  // none without a co-replica
}

uint64_t PurgeHorizon::purged() const {
  base::MutexLock l(&mu_);
  return purged_;
}

}  // namespace kvring::repl
