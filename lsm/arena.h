// lsm/arena.h — bump allocation for the memtable: many small allocations carved
// from 4 KiB blocks (larger ones get their own block), all freed together when
// the arena dies. memory_usage() may be read from any thread.
// Thread safety: Allocate needs external synchronization (the memtable's single
// writer); memory_usage() is thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace kvring::lsm {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // REQUIRES: bytes > 0. The memory is not aligned beyond 1.
  char* Allocate(size_t bytes) {
    if (bytes <= remaining_) {
      char* result = ptr_;
      ptr_ += bytes;
      remaining_ -= bytes;
      return result;
    }
    return AllocateFallback(bytes);
  }
  // Aligned to alignof(std::max_align_t) (at least 8).
  char* AllocateAligned(size_t bytes);

  // Bytes of all blocks allocated (plus bookkeeping), an upper bound of use.
  size_t memory_usage() const { return memory_usage_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kBlockBytes = 4096;

  char* AllocateFallback(size_t bytes);
  char* AllocateNewBlock(size_t bytes);

  char* ptr_ = nullptr;
  size_t remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> memory_usage_{0};
};

}  // namespace kvring::lsm
