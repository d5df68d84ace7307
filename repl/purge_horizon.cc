#include "repl/purge_horizon.h"

#include "base/coding.h"
#include "repl/value_format.h"

namespace kvring::repl {

void PurgeHorizon::RecordClean(const std::string& peer, uint64_t range_end, uint64_t start_sequence) {
  base::MutexLock l(&mu_);
  uint64_t& seq = clean_[{peer, range_end}];
  if (start_sequence > seq) seq = start_sequence;
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
  const uint64_t range_end = ring->vnode_token(ring->SuccessorVnode(token));
  size_t peers = 0;
  base::MutexLock l(&mu_);
  if (clean_.empty()) return false;
  for (const ring::NodeInfo* n : ring->PreferenceListFor(token)) {
    if (n->id == self_) continue;
    peers++;
    auto it = clean_.find({n->id, range_end});
    if (it == clean_.end() || it->second < sequence) return false;  // the exchange started before it
  }
  return peers > 0;
}

uint64_t PurgeHorizon::purged() const {
  base::MutexLock l(&mu_);
  return purged_;
}

}  // namespace kvring::repl
