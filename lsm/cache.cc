#include "lsm/cache.h"

#include <cassert>
#include <cstring>
#include <new>
#include <vector>

#include "base/hash.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace kvring::lsm {

// An entry. Lives in one malloc'ed block with its key bytes.
// Invariants: refs counts the pins plus one for the cache while in_cache; an
// entry in the cache with refs == 1 is on the shard's lru list, one with refs > 1
// on its in_use list; an entry not in the cache is on no list.
struct Cache::Handle {
  void* value;
  Deleter deleter;
  Handle* next_hash;  // bucket chain
  Handle* next;       // lru / in_use list
  Handle* prev;
  size_t charge;
  uint64_t hash;
  uint32_t refs;
  bool in_cache;
  bool low_priority;  // joins the lru list at its cold end (Priority::kLow)
  uint32_t key_size;
  char key_data[1];  // key_size bytes

  std::string_view key() const { return std::string_view(key_data, key_size); }
};

namespace {

using Handle = Cache::Handle;

void ListRemove(Handle* e) {
  e->next->prev = e->prev;
  e->prev->next = e->next;
}

void ListAppend(Handle* list, Handle* e) {  // newest at list->prev
  e->next = list;
  e->prev = list->prev;
  e->prev->next = e;
  e->next->prev = e;
}

void ListPrepend(Handle* list, Handle* e) {  // oldest at list->next
  e->prev = list;
  e->next = list->next;
  e->next->prev = e;
  list->next = e;
}

void FreeEntry(Handle* e) {
  e->deleter(e->key(), e->value);
  ::operator delete(e);
}

// Frees a chain (linked through next_hash) of entries whose last ref is gone.
void FreeChain(Handle* chain) {
  while (chain != nullptr) {
    Handle* next = chain->next_hash;
    FreeEntry(chain);
    chain = next;
  }
}

// A chained hash table of entries keyed by (hash, key).
class HandleTable {
 public:
  HandleTable() { Resize(); }
  ~HandleTable() { delete[] buckets_; }
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;

  Handle* Lookup(std::string_view key, uint64_t hash) { return *Find(key, hash); }

  // Inserts e; returns the entry it replaces (or nullptr).
  Handle* Insert(Handle* e) {
    Handle** slot = Find(e->key(), e->hash);
    Handle* old = *slot;
    e->next_hash = old == nullptr ? nullptr : old->next_hash;
    *slot = e;
    if (old == nullptr && ++elems_ > length_) Resize();
    return old;
  }

  Handle* Remove(std::string_view key, uint64_t hash) {
    Handle** slot = Find(key, hash);
    Handle* e = *slot;
    if (e != nullptr) {
      *slot = e->next_hash;
      --elems_;
    }
    return e;
  }

 private:
  Handle** Find(std::string_view key, uint64_t hash) {
    Handle** slot = &buckets_[hash & (length_ - 1)];
    while (*slot != nullptr && ((*slot)->hash != hash || (*slot)->key() != key)) slot = &(*slot)->next_hash;
    return slot;
  }

  void Resize() {
    uint32_t length = 16;
    while (length < elems_ * 2) length *= 2;
    auto* buckets = new Handle*[length]();
    for (uint32_t i = 0; i < length_; ++i) {
      Handle* e = buckets_[i];
      while (e != nullptr) {
        Handle* next = e->next_hash;
        Handle** slot = &buckets[e->hash & (length - 1)];
        e->next_hash = *slot;
        *slot = e;
        e = next;
      }
    }
    delete[] buckets_;
    buckets_ = buckets;
    length_ = length;
  }

  Handle** buckets_ = nullptr;
  uint32_t length_ = 0;
  uint32_t elems_ = 0;
};

}  // namespace

// One shard: an LRU list, an in-use list and a hash table under one mutex.
class alignas(64) Cache::Shard {
 public:
  Shard() {
    lru_.next = lru_.prev = &lru_;
    in_use_.next = in_use_.prev = &in_use_;
  }
  ~Shard() {
    assert(in_use_.next == &in_use_);  // every handle was released
    for (Handle* e = lru_.next; e != &lru_;) {
      Handle* next = e->next;
      FreeEntry(e);
      e = next;
    }
  }

  void set_capacity(size_t c) { capacity_ = c; }

  Handle* Insert(Handle* e) {
    Handle* dead = nullptr;
    {
      base::MutexLock lock(&mu_);
      e->refs = 1;  // the caller's pin
      if (capacity_ > 0) {
        e->refs++;  // the cache's reference
        e->in_cache = true;
        ListAppend(&in_use_, e);
        usage_ += e->charge;
        if (Handle* old = table_.Insert(e)) DetachLocked(old, &dead);
        EvictLocked(&dead);
      }
    }
    FreeChain(dead);
    return e;
  }

  Handle* Lookup(std::string_view key, uint64_t hash) {
    base::MutexLock lock(&mu_);
    Handle* e = table_.Lookup(key, hash);
    if (e == nullptr) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    e->low_priority = false;  // used again: an ordinary entry from now on
    if (e->refs == 1) {  // leaving the lru list
      ListRemove(e);
      ListAppend(&in_use_, e);
    }
    e->refs++;
    return e;
  }

  void Release(Handle* e) {
    Handle* dead = nullptr;
    {
      base::MutexLock lock(&mu_);
      UnrefLocked(e, &dead);
      EvictLocked(&dead);
    }
    FreeChain(dead);
  }

  void Erase(std::string_view key, uint64_t hash) {
    Handle* dead = nullptr;
    {
      base::MutexLock lock(&mu_);
      if (Handle* e = table_.Remove(key, hash)) DetachLocked(e, &dead);
    }
    FreeChain(dead);
  }

  size_t usage() const {
    base::MutexLock lock(&mu_);
    return usage_;
  }
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  // Drops one reference; an entry whose last reference goes joins *dead.
  void UnrefLocked(Handle* e, Handle** dead) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    assert(e->refs > 0);
    if (--e->refs == 0) {
      assert(!e->in_cache);
      e->next_hash = *dead;
      *dead = e;
    } else if (e->in_cache && e->refs == 1) {  // only the cache holds it now
      ListRemove(e);
      if (e->low_priority) {
        ListPrepend(&lru_, e);  // first in line for eviction
      } else {
        ListAppend(&lru_, e);
      }
    }
  }

  // Takes e (already removed from the table) out of the cache.
  void DetachLocked(Handle* e, Handle** dead) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    assert(e->in_cache);
    e->in_cache = false;
    ListRemove(e);
    usage_ -= e->charge;
    UnrefLocked(e, dead);
  }

  void EvictLocked(Handle** dead) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (usage_ > capacity_ && lru_.next != &lru_) {
      Handle* old = lru_.next;
      Handle* removed = table_.Remove(old->key(), old->hash);
      assert(removed == old);
      (void)removed;
      DetachLocked(old, dead);
    }
  }

  mutable base::Mutex mu_;
  size_t capacity_ = 0;
  size_t usage_ GUARDED_BY(mu_) = 0;
  Handle lru_ GUARDED_BY(mu_);     // dummy head; lru_.next is the oldest
  Handle in_use_ GUARDED_BY(mu_);  // dummy head
  HandleTable table_ GUARDED_BY(mu_);
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

Cache::Cache(size_t capacity_bytes, int num_shard_bits)
    : capacity_(capacity_bytes), shard_bits_(num_shard_bits), shards_(new Shard[size_t{1} << num_shard_bits]) {
  assert(num_shard_bits >= 0 && num_shard_bits <= 8);
  const size_t n = size_t{1} << shard_bits_;
  for (size_t i = 0; i < n; ++i) shards_[i].set_capacity((capacity_bytes + n - 1) / n);
}

Cache::~Cache() = default;

Cache::Shard& Cache::ShardFor(uint64_t hash) const {
  return shards_[shard_bits_ == 0 ? 0 : hash >> (64 - shard_bits_)];
}

Cache::Handle* Cache::Insert(std::string_view key, void* value, size_t charge, Deleter deleter,
                            Priority priority) {
  auto* e = static_cast<Handle*>(::operator new(sizeof(Handle) - 1 + key.size()));
  e->value = value;
  e->deleter = deleter;
  e->next_hash = e->next = e->prev = nullptr;
  e->charge = charge;
  e->hash = base::Hash64(key);
  e->refs = 0;
  e->in_cache = false;
  e->low_priority = priority == Priority::kLow;
  e->key_size = static_cast<uint32_t>(key.size());
  std::memcpy(e->key_data, key.data(), key.size());
  return ShardFor(e->hash).Insert(e);
}

Cache::Handle* Cache::Lookup(std::string_view key) {
  const uint64_t hash = base::Hash64(key);
  return ShardFor(hash).Lookup(key, hash);
}

void Cache::Release(Handle* h) { ShardFor(h->hash).Release(h); }

void* Cache::Value(Handle* h) { return h->value; }

void Cache::Erase(std::string_view key) {
  const uint64_t hash = base::Hash64(key);
  ShardFor(hash).Erase(key, hash);
}

size_t Cache::TotalCharge() const {
  size_t total = 0;
  for (size_t i = 0; i < (size_t{1} << shard_bits_); ++i) total += shards_[i].usage();
  return total;
}

uint64_t Cache::hits() const {
  uint64_t total = 0;
  for (size_t i = 0; i < (size_t{1} << shard_bits_); ++i) total += shards_[i].hits();
  return total;
}

uint64_t Cache::misses() const {
  uint64_t total = 0;
  for (size_t i = 0; i < (size_t{1} << shard_bits_); ++i) total += shards_[i].misses();
  return total;
}

}  // namespace kvring::lsm
