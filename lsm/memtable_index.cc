#include "lsm/memtable_index.h"

#include <bit>

namespace kvring::lsm {

namespace {

size_t RoundUpToPowerOfTwo(size_t n) { return n <= 1 ? 2 : std::bit_ceil(n); }

}  // namespace

MemTableIndex::MemTableIndex(size_t slots, UserKeyOf user_key_of)
    : mask_(slots == 0 ? 0 : RoundUpToPowerOfTwo(slots) - 1),
      max_keys_(slots == 0 ? 0 : (mask_ + 1) / 4 * 3),
      user_key_of_(user_key_of),
      slots_(slots == 0 ? nullptr : new std::atomic<uint64_t>[mask_ + 1]),
      full_(slots == 0) {
  for (size_t i = 0; i < capacity(); i++) slots_[i].store(0, std::memory_order_relaxed);
}

bool MemTableIndex::Upsert(uint64_t hash, std::string_view user_key, const char* entry) {
  if (mask_ == 0) return false;
  const auto address = reinterpret_cast<uint64_t>(entry);
  const uint64_t tag = hash >> kTagShift;
  const uint64_t value = (tag << kTagShift) | address;
  if ((address & ~kPointerMask) != 0) {  // outside the 48-bit user address space
    full_.store(true, std::memory_order_release);
    return false;
  }
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const uint64_t slot = slots_[i].load(std::memory_order_relaxed);  // only we store
    if (slot == 0) {
      if (keys_ >= max_keys_) {  // invariant 3: keep an empty slot on every probe path
        full_.store(true, std::memory_order_release);
        return false;
      }
      keys_++;
      slots_[i].store(value, std::memory_order_release);  // invariant 1
      return true;
    }
    if ((slot >> kTagShift) == tag && user_key_of_(reinterpret_cast<const char*>(slot & kPointerMask)) == user_key) {
      slots_[i].store(value, std::memory_order_release);  // invariant 2: same key, newer entry
      return true;
    }
  }
}

}  // namespace kvring::lsm
