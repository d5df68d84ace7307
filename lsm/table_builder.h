// lsm/table_builder.h — writes one SSTable: data blocks, the whole-file bloom
// filter, the index block and the footer (format: lsm/table_format.h and
// docs/formats/sstable.md).
//
// Entries arrive in increasing internal-key order. A data block is cut when it
// reaches TableOptions::block_bytes; its index entry is a short separator key
// (>= every key of the block, < every key of the next one) and the block's handle.
// The builder only appends to the file: the caller syncs and closes it.
// Thread safety: needs external synchronization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"
#include "lsm/block_builder.h"
#include "lsm/bloom.h"
#include "lsm/table_format.h"

namespace kvring::lsm {

class TableBuilder {
 public:
  // *file must outlive the builder; the builder writes from the file's current
  // position, which must be its start.
  TableBuilder(const TableOptions& options, base::WritableFile* file);
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;
  // REQUIRES: Finish() or Abandon() was called.
  ~TableBuilder();

  // REQUIRES: internal_key is a valid internal key that sorts after every key
  // added before (InternalKeyCompare); Finish/Abandon not called yet.
  void Add(std::string_view internal_key, std::string_view value);
  // The first error met writing the file (later Adds are ignored after one).
  base::Status status() const { return status_; }
  // Writes the last data block, the filter, the index and the footer. Does not
  // Sync or Close the file.
  base::Status Finish();
  // Gives up: the caller deletes the file.
  void Abandon();

  uint64_t NumEntries() const { return num_entries_; }
  // Bytes written to the file so far (the final size after Finish).
  uint64_t FileSize() const { return offset_; }

 private:
  void FlushDataBlock();
  void AddPendingIndexEntry(std::string_view next_key);
  // Writes raw as a block (compressed with `type` when worth it).
  BlockHandle WriteBlock(std::string_view raw, Compression type);
  BlockHandle WriteRawBlock(std::string_view contents, Compression type);

  const TableOptions options_;
  base::WritableFile* const file_;
  base::Status status_;
  uint64_t offset_ = 0;
  uint64_t num_entries_ = 0;
  BlockBuilder data_block_;
  BlockBuilder index_block_;
  BloomFilterBuilder filter_;
  std::string last_key_;
  // After a data block is written its index entry waits for the next key, so the
  // separator can be short.
  bool pending_index_entry_ = false;
  BlockHandle pending_handle_;
  std::string compressed_;  // scratch
  std::string separator_;   // scratch
  bool closed_ = false;
};

// Index keys: the shortest internal key k with last <= k < next (bytewise on the
// user keys; falls back to `last` itself). Exposed for tests.
void FindShortestSeparator(std::string_view last, std::string_view next, std::string* out);
// A short internal key >= last, for the final block.
void FindShortSuccessor(std::string_view last, std::string* out);

}  // namespace kvring::lsm
