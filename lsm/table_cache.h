// lsm/table_cache.h — the DB's open SSTables, by file number, with an LRU bound
// of max_open_files (each open table holds a file handle and its pinned index and
// filter blocks). Tables open on first use (TableFileName(db_dir, number)) and
// close when evicted and no iterator uses them any more.
//
// Also owns the TableStats every table of the DB counts into (bloom checks,
// blocks read); block cache hits and misses are the block cache's.
// Thread safety: thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"
#include "lsm/cache.h"
#include "lsm/engine.h"
#include "lsm/iterator.h"
#include "lsm/table.h"
#include "lsm/table_format.h"

namespace kvring::lsm {

class TableCache {
 public:
  // env and block_cache (may be null) must outlive the table cache. Only the
  // reading side of `options` matters here (compression is per file).
  TableCache(base::Env* env, std::string db_dir, const TableOptions& options, int max_open_files,
             Cache* block_cache);
  TableCache(const TableCache&) = delete;
  TableCache& operator=(const TableCache&) = delete;
  // REQUIRES: no iterator from this cache is alive.
  ~TableCache();

  // An iterator over the internal keys of table file_number; it keeps the table
  // open while it lives. Open errors come back as an iterator carrying the status.
  // *table_out (optional) receives the table, valid as long as the iterator.
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options, uint64_t file_number, uint64_t file_size,
                                        const Table** table_out = nullptr);

  // Table::InternalGet on table file_number.
  base::Status Get(const ReadOptions& options, uint64_t file_number, uint64_t file_size,
                   std::string_view lookup_key, const EntryCallback& found);

  // Table::ApproximateOffsetOf on table file_number (0 when it cannot be opened).
  uint64_t ApproximateOffsetOf(uint64_t file_number, uint64_t file_size, std::string_view key);

  // Forgets file_number (call when the file is deleted); the table closes once
  // no iterator uses it.
  void Evict(uint64_t file_number);

  const TableStats& stats() const { return stats_; }
  uint64_t bloom_useful() const { return stats_.bloom_useful.load(std::memory_order_relaxed); }
  // Tables open right now.
  size_t open_tables() const { return tables_.TotalCharge(); }

 private:
  // Finds or opens the table; on success *handle pins it (Release when done).
  base::Status FindTable(const ReadOptions& options, uint64_t file_number, uint64_t file_size,
                         Cache::Handle** handle);

  base::Env* const env_;
  const std::string db_dir_;
  TableStats stats_;
  TableOptions options_;  // options_.stats points at stats_
  Cache* const block_cache_;
  Cache tables_;  // file number -> Table*, charge 1 each
};

}  // namespace kvring::lsm
