#include "cmd/kvbench/context_cache.h"

#include <algorithm>

namespace kvring::cmd::kvbench {

ContextCache::ContextCache(uint64_t keys, uint64_t max_slots)
    : slots_(static_cast<size_t>(std::max<uint64_t>(1, std::min(keys, max_slots)))) {}

std::string_view ContextCache::Find(uint64_t key) const {
  const Slot& slot = slots_[key % slots_.size()];
  return slot.key == key ? std::string_view(slot.context) : std::string_view();
}

void ContextCache::Store(uint64_t key, std::string_view context) {
  if (context.empty()) return;
  Slot& slot = slots_[key % slots_.size()];
  slot.key = key;
  slot.context.assign(context.data(), context.size());
}

}  // namespace kvring::cmd::kvbench
