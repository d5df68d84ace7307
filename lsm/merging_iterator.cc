#include "lsm/merging_iterator.h"

#include <cstddef>

#include "lsm/block.h"

namespace kvring::lsm {

namespace {

class MergingIterator final : public Iterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<Iterator>> children)
      : children_(std::move(children)), keys_(children_.size()) {
    heap_.reserve(children_.size());
  }

  bool Valid() const override { return !heap_.empty() && !failed_; }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    RebuildHeap();
  }

  void Seek(std::string_view target) override {
    for (auto& c : children_) c->Seek(target);
    RebuildHeap();
  }

  void Next() override {
    const size_t top_index = heap_[0];
    Iterator* top = children_[top_index].get();
    top->Next();
    if (top->Valid()) {
      keys_[top_index] = top->key();
      SiftDown(0);
    } else {
      NoteExhausted(top);
      heap_[0] = heap_.back();
      heap_.pop_back();
      if (!heap_.empty()) SiftDown(0);
    }
  }

  std::string_view key() const override { return keys_[heap_[0]]; }
  std::string_view value() const override { return children_[heap_[0]]->value(); }

  base::Status status() const override {
    for (const auto& c : children_) {
      base::Status s = c->status();
      if (!s.ok()) return s;
    }
    return base::Status::OK();
  }

 private:
  // True when child a's entry comes before child b's. Compares the cached
  // keys: no virtual calls down the children's iterator stacks.
  bool Before(size_t a, size_t b) const {
    int r = CompareInternalKeys(keys_[a], keys_[b]);
    return r < 0 || (r == 0 && a < b);
  }

  void NoteExhausted(const Iterator* child) {
    if (!child->status().ok()) failed_ = true;
  }

  void RebuildHeap() {
    heap_.clear();
    failed_ = false;
    for (size_t i = 0; i < children_.size(); ++i) {
      if (children_[i]->Valid()) {
        keys_[i] = children_[i]->key();
        heap_.push_back(i);
      } else {
        NoteExhausted(children_[i].get());
      }
    }
    for (size_t i = heap_.size() / 2; i-- > 0;) SiftDown(i);
  }

  void SiftDown(size_t i) {
    const size_t n = heap_.size();
    const size_t moving = heap_[i];
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
      if (!Before(heap_[child], moving)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = moving;
  }

  std::vector<std::unique_ptr<Iterator>> children_;
  // keys_[i]: child i's current key while it is valid (a view that stays good
  // until the child moves, which only this iterator does).
  std::vector<std::string_view> keys_;
  std::vector<size_t> heap_;  // indexes of valid children; heap_[0] is the smallest
  bool failed_ = false;       // a child stopped on an error
};

}  // namespace

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children) {
  if (children.empty()) return NewEmptyIterator();
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace kvring::lsm
