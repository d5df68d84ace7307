// lsm/two_level_iterator.h — an iterator over an index whose values name blocks:
// an SSTable's index block -> its data blocks, or a level's file list -> tables.
// `block_function` turns an index value into the iterator over that block (it may
// return an iterator carrying an error, e.g. NewEmptyIterator(Corruption(...))).
// Empty blocks are skipped. The first error met (index, block, block_function)
// makes the iterator invalid and is reported by status().
// Thread safety: needs external synchronization, like every iterator.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "lsm/iterator.h"

namespace kvring::lsm {

using BlockFunction = std::function<std::unique_ptr<Iterator>(std::string_view index_value)>;

// Index keys must be upper bounds: index key i >= every key of block i, and keys
// ordered like the blocks' keys. Seek(target) positions the index at the first
// index key >= target and then seeks inside that block.
std::unique_ptr<Iterator> NewTwoLevelIterator(std::unique_ptr<Iterator> index_iter, BlockFunction block_function);

}  // namespace kvring::lsm
