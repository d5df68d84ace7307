#include "lsm/arena.h"

#include <cassert>
#include <cstdint>

namespace kvring::lsm {

char* Arena::AllocateFallback(size_t bytes) {
  assert(bytes > 0);
  if (bytes > kBlockBytes / 4) {
    // A large object gets its own block, so the current block's rest is not wasted.
    return AllocateNewBlock(bytes);
  }
  ptr_ = AllocateNewBlock(kBlockBytes);
  remaining_ = kBlockBytes;
  char* result = ptr_;
  ptr_ += bytes;
  remaining_ -= bytes;
  return result;
}

char* Arena::AllocateAligned(size_t bytes) {
  constexpr size_t kAlign = alignof(std::max_align_t) > 8 ? alignof(std::max_align_t) : 8;
  static_assert((kAlign & (kAlign - 1)) == 0, "alignment must be a power of two");
  size_t mod = reinterpret_cast<uintptr_t>(ptr_) & (kAlign - 1);
  size_t slop = mod == 0 ? 0 : kAlign - mod;
  size_t needed = bytes + slop;
  char* result;
  if (needed <= remaining_) {
    result = ptr_ + slop;
    ptr_ += needed;
    remaining_ -= needed;
  } else {
    // new[] returns memory aligned for any fundamental type.
    result = AllocateFallback(bytes);
  }
  assert((reinterpret_cast<uintptr_t>(result) & (kAlign - 1)) == 0);
  return result;
}

char* Arena::AllocateNewBlock(size_t bytes) {
  blocks_.emplace_back(new char[bytes]);
  memory_usage_.fetch_add(bytes + sizeof(char*), std::memory_order_relaxed);
  return blocks_.back().get();
}

}  // namespace kvring::lsm
