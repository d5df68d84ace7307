// lsm/merging_iterator.h — merges sorted internal iterators (memtables, L0 files,
// level iterators) into one stream ordered by InternalKeyCompare, with a binary
// heap: Next costs O(log n) key comparisons. Entries that compare equal come out
// in child order (lower index first).
// When a child stops on an error the merged iterator becomes invalid and status()
// returns the first child error.
// Thread safety: needs external synchronization, like every iterator.
#pragma once

#include <memory>
#include <vector>

#include "lsm/iterator.h"

namespace kvring::lsm {

std::unique_ptr<Iterator> NewMergingIterator(std::vector<std::unique_ptr<Iterator>> children);

}  // namespace kvring::lsm
