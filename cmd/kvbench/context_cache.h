// cmd/kvbench/context_cache.h — the newest context a worker has seen per key: from
// its GET replies (found or not) and its write receipts. A put carries the cached
// context of its key, so it supersedes exactly what this worker saw of the key
// (docs/versioning.md): kvbench writes as a careful application does, and
// siblings stay few (one per write racing on the key). Direct-mapped on the key
// index: a slot that holds another key's context is a miss, and the put goes
// without a context (it becomes a sibling, resolved by the next write that read).
// Strings keep their capacity: no allocation per request in the steady state.
// Thread safety: needs external synchronization (one per worker thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvring::cmd::kvbench {

class ContextCache {
 public:
  // Slots for min(keys, max_slots) keys.
  explicit ContextCache(uint64_t keys, uint64_t max_slots = 1u << 20);

  // The context last stored for `key`, or empty.
  std::string_view Find(uint64_t key) const;
  // Remembers `context` for `key` (an empty one is ignored: nothing to hand back).
  void Store(uint64_t key, std::string_view context);

 private:
  struct Slot {
    uint64_t key = UINT64_MAX;  // UINT64_MAX: empty
    std::string context;
  };
  std::vector<Slot> slots_;
};

}  // namespace kvring::cmd::kvbench
