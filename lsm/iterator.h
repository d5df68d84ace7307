// lsm/iterator.h — the forward iterator every layer of the engine exposes:
// memtable, block, SSTable, merging, and the user-facing DB iterator.
// Keys are ordered bytewise (memcmp, shorter first on a tie) unless an
// iterator says otherwise (internal iterators order by InternalKeyCompare).
// Thread safety: needs external synchronization (one thread at a time).
// Lifetime: key()/value() stay valid until the next move of the iterator.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvring::lsm {

class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator();

  // True when positioned at an entry.
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  // Positions at the first entry with key >= target.
  virtual void Seek(std::string_view target) = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  // REQUIRES: Valid().
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // The first error met (a corrupt block, an I/O error); OK otherwise. An iterator
  // that hit an error is not Valid().
  virtual base::Status status() const = 0;

  // Runs fn when the iterator is destroyed (releases pinned blocks, versions).
  void RegisterCleanup(std::function<void()> fn);

 private:
  std::vector<std::function<void()>> cleanups_;
};

// An iterator over nothing, carrying a status (OK or an error).
std::unique_ptr<Iterator> NewEmptyIterator(base::Status status = base::Status::OK());

}  // namespace kvring::lsm
