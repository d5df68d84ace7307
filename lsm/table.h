// lsm/table.h — reads one SSTable (format: lsm/table_format.h,
// docs/formats/sstable.md).
//
// Open reads the footer, the index block and the bloom filter and pins them in
// the Table for its whole life (the table cache decides how many tables stay
// open). Data blocks go through the block cache, keyed by (this table's cache id,
// block offset). A point lookup (InternalGet) allocates nothing on a cache hit:
// bloom probe, binary search in the pinned index, cache lookup, binary search in
// the data block.
//
// When the file is memory-mapped (base::RandomAccessFile::mapped()), index,
// filter and uncompressed data blocks are read in place: no copy and no heap.
// A data block read in place still enters the block cache (as a small view
// charged only its bookkeeping), so its checksum is verified once, when it
// enters; the Table erases its views from the cache before it unmaps the file.
// Iterators (scans) read such blocks in place without caching them, and verify
// their checksum on every read (when fill_cache is set, as for cached reads).
//
// Corrupt input (bad magic, bad checksum, truncated file, handles pointing
// outside the file, malformed blocks) yields Status::Corruption naming the file
// and the offset; nothing reads out of bounds.
// Thread safety: a Table is immutable once open and safe to use from many
// threads; its iterators are per-thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"
#include "lsm/block.h"
#include "lsm/bloom.h"
#include "lsm/cache.h"
#include "lsm/engine.h"
#include "lsm/iterator.h"
#include "lsm/table_format.h"

namespace kvring::lsm {

// Receives one entry: views valid only during the call.
using EntryCallback = std::function<void(std::string_view internal_key, std::string_view value)>;

class Table {
 public:
  // Opens the table held in file[0, file_size). block_cache may be null (no
  // caching; every data block is read from the file). path_for_messages starts
  // every error message ("sstable /db/000123.sst").
  [[nodiscard]] static base::Status Open(const TableOptions& options, std::unique_ptr<base::RandomAccessFile> file,
                                         uint64_t file_size, uint64_t file_number, Cache* block_cache,
                                         std::string path_for_messages, std::unique_ptr<Table>* table);

  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  ~Table();

  // An iterator over the table's internal keys. Honours verify_checksums,
  // fill_cache and no_io (a block not in the cache gives status Busy "...needs
  // I/O"). ReadOptions::upper_bound and snapshot are the DB iterator's business.
  // The table must outlive the iterator.
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& options) const;

  // Point lookup: when the bloom filter allows the user key, finds the one data
  // block that may hold lookup_internal_key and calls `found` with the first
  // entry >= lookup_internal_key in that block, if any. The caller checks the
  // user key. OK when nothing was found; Busy under no_io when a block is not
  // cached; Corruption on bad data.
  // REQUIRES: lookup_internal_key is an internal key (MakeLookupKey).
  base::Status InternalGet(const ReadOptions& options, std::string_view lookup_internal_key,
                           const EntryCallback& found) const;

  // The approximate file offset where the data of internal key `key` begins
  // (the end of the data blocks when key is past the last one).
  uint64_t ApproximateOffsetOf(std::string_view key) const;

  uint64_t file_number() const { return file_number_; }
  // Memory pinned by the open table (index, filter).
  size_t pinned_bytes() const;
  bool has_filter() const { return filter_.usable(); }

 private:
  // A data block being read: from the cache (pinned by handle) or owned.
  struct BlockRef;

  Table(const TableOptions& options, std::unique_ptr<base::RandomAccessFile> file, uint64_t file_size,
        uint64_t file_number, Cache* block_cache, std::string label);

  base::Status ReadMetaBlocks(const BlockHandle& index, const BlockHandle& filter);
  base::Status CheckHandle(const BlockHandle& handle, std::string_view what) const;
  base::Status DecodeIndexValue(std::string_view value, BlockHandle* handle) const;
  // for_scan: the block is read by an iterator. Such a read of an
  // uncompressed block of a mapped file does not enter the cache (a scan would
  // only churn it; LevelDB does not cache these either) but is still verified.
  base::Status GetBlock(const ReadOptions& options, const BlockHandle& handle, bool for_scan, BlockRef* ref) const;
  // Whether the block at handle would be read in place (mapped file, stored
  // uncompressed). REQUIRES: the handle passed CheckHandle.
  bool InPlace(const BlockHandle& handle) const;
  std::unique_ptr<Iterator> NewBlockIterator(const ReadOptions& options, std::string_view index_value) const;
  base::Status IndexCorruption(const BlockCursor& cursor) const;

  const TableOptions options_;
  const std::unique_ptr<base::RandomAccessFile> file_;
  const uint64_t file_size_;
  const uint64_t file_number_;
  Cache* const block_cache_;
  const uint64_t cache_id_;
  const std::string label_;  // "sstable <path>"
  uint64_t index_offset_ = 0;
  uint64_t data_end_ = 0;     // where the data blocks end (filter or index start)
  std::unique_ptr<Block> index_block_;
  BlockContents filter_data_;
  BloomFilter filter_{std::string_view()};
};

}  // namespace kvring::lsm
