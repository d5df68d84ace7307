// lsm/skiplist.h — the memtable's ordered index: a skiplist with one writer and
// any number of lock-free readers. Nodes live in an Arena and are never deleted
// before the whole list dies.
//
// Invariants (what makes lock-free reads safe):
//   1. A node is fully initialized (key and its own next pointers) before it is
//      published: the writer links it with a release store into its predecessor's
//      next pointer, and readers load next pointers with acquire, so a reader that
//      sees the node sees its contents.
//   2. Links are published bottom-up: level 0 first. A reader that finds a node on
//      level i > 0 may find it missing on a lower level of a predecessor it has not
//      yet passed; that only makes the search take the longer lower-level path,
//      never skip a node that precedes the target.
//   3. max_height_ may be read stale (relaxed): a reader using a smaller height
//      starts lower; one seeing the new height before the head's pointers reads
//      null at that level and drops down.
//   4. Nodes are never removed or modified after publication, and keys are unique
//      (the memtable's keys carry a unique sequence number).
// Thread safety: Insert needs external synchronization (one writer at a time);
// Contains and iterators are safe from any thread concurrently with Insert.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <new>
#include <type_traits>

#include "lsm/arena.h"

namespace kvring::lsm {

// Comparator: int operator()(const Key& a, const Key& b) const, like memcmp.
template <typename Key, class Comparator>
class SkipList {
 public:
  // *arena must outlive the list.
  SkipList(Comparator cmp, Arena* arena)
      : compare_(cmp), arena_(arena), head_(NewNode(Key(), kMaxHeight)), rnd_state_(0x9e3779b9u) {
    for (int i = 0; i < kMaxHeight; i++) {
      head_->SetNext(i, nullptr);
      tail_[i] = head_;
    }
  }
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: nothing equal to key is in the list; one writer at a time.
  void Insert(const Key& key) {
    const int height = RandomHeight();
    Link(NewNode(key, height), height);
  }

  // For Key = const char*: returns room for an n-byte key inside a new node, so
  // that a search touches the node's links and its key in neighbouring bytes
  // (one cache miss per step instead of two). Fill it, then InsertAllocated it.
  // REQUIRES: one writer; each AllocateKey is followed by its InsertAllocated.
  char* AllocateKey(size_t n) {
    static_assert(std::is_same_v<Key, const char*>, "AllocateKey needs const char* keys");
    const int height = RandomHeight();
    const size_t node_bytes = sizeof(Node) + sizeof(std::atomic<Node*>) * (height - 1);
    char* mem = arena_->AllocateAligned(node_bytes + n);
    char* key = mem + node_bytes;
    pending_node_ = new (mem) Node(key);
    pending_height_ = height;
    return key;
  }
  // REQUIRES: key came from the last AllocateKey; nothing equal is in the list.
  void InsertAllocated(const char* key) {
    assert(pending_node_ != nullptr && pending_node_->key == key);
    (void)key;
    Link(pending_node_, pending_height_);
    pending_node_ = nullptr;
  }

 private:
  struct Node;

  void Link(Node* node, int height) {
    Node* prev[kMaxHeight];
    const int max_height = max_height_.load(std::memory_order_relaxed);
    if (tail_[0] != head_ && compare_(node->key, tail_[0]->key) > 0) {
      // An append (sequential loads): the last node of each level precedes it.
      for (int i = 0; i < max_height; i++) prev[i] = tail_[i];
    } else {
      Node* x = FindGreaterOrEqual(node->key, prev);
      assert(x == nullptr || compare_(node->key, x->key) != 0);
      (void)x;
    }
    if (height > max_height) {
      for (int i = max_height; i < height; i++) prev[i] = head_;
      max_height_.store(height, std::memory_order_relaxed);  // invariant 3
    }
    for (int i = 0; i < height; i++) {  // invariant 2: bottom-up
      Node* next = prev[i]->NoBarrierNext(i);
      node->NoBarrierSetNext(i, next);
      prev[i]->SetNext(i, node);  // invariant 1: release
      if (next == nullptr) tail_[i] = node;
    }
  }

 public:
  bool Contains(const Key& key) const {
    Node* x = FindGreaterOrEqual(key, nullptr);
    return x != nullptr && compare_(key, x->key) == 0;
  }

  // A read position in the list. Thread safety: one thread per iterator.
  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list) {}
    bool Valid() const { return node_ != nullptr; }
    // REQUIRES: Valid().
    const Key& key() const { return node_->key; }
    void Next() { node_ = node_->Next(0); }
    // REQUIRES: Valid(). The node after the current one (null at the end), for
    // prefetching only: its contents may not be read through this pointer.
    const void* PeekNext() const { return node_->NoBarrierNext(0); }
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }

   private:
    const SkipList* list_;
    Node* node_ = nullptr;
  };

 private:
  static constexpr int kMaxHeight = 12;
  static constexpr uint32_t kBranching = 4;

  struct Node {
    explicit Node(const Key& k) : key(k) {}
    Key const key;
    Node* Next(int n) { return next_[n].load(std::memory_order_acquire); }
    void SetNext(int n, Node* x) { next_[n].store(x, std::memory_order_release); }
    Node* NoBarrierNext(int n) { return next_[n].load(std::memory_order_relaxed); }
    void NoBarrierSetNext(int n, Node* x) { next_[n].store(x, std::memory_order_relaxed); }

   private:
    std::atomic<Node*> next_[1];  // really [height]: allocated past the struct
  };

  Node* NewNode(const Key& key, int height) {
    char* mem = arena_->AllocateAligned(sizeof(Node) + sizeof(std::atomic<Node*>) * (height - 1));
    return new (mem) Node(key);
  }

  int RandomHeight() {
    int height = 1;
    while (height < kMaxHeight && NextRandom() % kBranching == 0) height++;
    return height;
  }

  uint32_t NextRandom() {  // xorshift32: only the writer calls it
    rnd_state_ ^= rnd_state_ << 13;
    rnd_state_ ^= rnd_state_ >> 17;
    rnd_state_ ^= rnd_state_ << 5;
    return rnd_state_;
  }

  // The first node >= key; fills prev[level] with the last node < key per level.
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const {
    Node* x = head_;
    int level = max_height_.load(std::memory_order_relaxed) - 1;
    while (true) {
      Node* next = x->Next(level);
      // The node after next is likely the next one compared: start its miss now.
      if (next != nullptr) __builtin_prefetch(next->NoBarrierNext(level));
      if (next != nullptr && compare_(next->key, key) < 0) {
        x = next;
      } else {
        if (prev != nullptr) prev[level] = x;
        if (level == 0) return next;
        level--;
      }
    }
  }

  Comparator const compare_;
  Arena* const arena_;
  Node* const head_;
  std::atomic<int> max_height_{1};
  uint32_t rnd_state_;
  // The writer's: the last node of each level (head_ when the level is empty),
  // so inserts in ascending order skip the search.
  Node* tail_[kMaxHeight];
  Node* pending_node_ = nullptr;  // AllocateKey's node, awaiting InsertAllocated
  int pending_height_ = 0;
};

}  // namespace kvring::lsm
