// lsm/db_iter.h — the user-facing iterator: turns an internal iterator (merged
// memtables and files, InternalKeyCompare order) into user keys as of one
// sequence number: the newest visible version of each key, tombstones and
// older versions hidden, stopping before an optional exclusive upper bound.
// Thread safety: needs external synchronization, like every iterator.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "lsm/dbformat.h"
#include "lsm/iterator.h"

namespace kvring::lsm {

std::unique_ptr<Iterator> NewDBIterator(std::unique_ptr<Iterator> internal, SequenceNumber sequence,
                                        std::optional<std::string> upper_bound);

}  // namespace kvring::lsm
