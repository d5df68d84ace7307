// ring/preference_list.h — the replicas of one token, in preference order (the
// first is the primary: the node owning the token's successor virtual node).
// A fixed-capacity value: building one never allocates, so the lookup path of a
// request stays allocation-free. It points into the Ring that produced it: keep
// that ring's shared_ptr alive while the list is used.
// Thread safety: a value; reading it is safe from any thread while its ring lives.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <string>
#include <string_view>

#include "ring/node_info.h"
#include "ring/replication_spec.h"

namespace kvring::ring {

class PreferenceList {
 public:
  PreferenceList() = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // REQUIRES: i < size().
  const NodeInfo& operator[](size_t i) const {
    assert(i < size_);
    return *nodes_[i];
  }
  const NodeInfo* const* begin() const { return nodes_.data(); }
  const NodeInfo* const* end() const { return nodes_.data() + size_; }

  bool Contains(const NodeInfo* node) const {
    for (size_t i = 0; i < size_; ++i) {
      if (nodes_[i] == node) return true;
    }
    return false;
  }
  bool ContainsId(std::string_view id) const {
    for (size_t i = 0; i < size_; ++i) {
      if (nodes_[i]->id == id) return true;
    }
    return false;
  }

  // REQUIRES: size() < kMaxReplicas and !Contains(node).
  void PushBack(const NodeInfo* node) {
    assert(size_ < nodes_.size() && !Contains(node));
    nodes_[size_++] = node;
  }

  // "[n1, n3, n2]".
  std::string ToString() const {
    std::string out = "[";
    for (size_t i = 0; i < size_; ++i) {
      if (i > 0) out += ", ";
      out += nodes_[i]->id;
    }
    return out + "]";
  }

 private:
  std::array<const NodeInfo*, kMaxReplicas> nodes_{};
  size_t size_ = 0;
};

}  // namespace kvring::ring
