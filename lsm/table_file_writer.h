// lsm/table_file_writer.h — writes one SSTable file for a flush or a compaction:
// creates NNNNNN.sst, feeds a TableBuilder, and on Finish syncs and closes the
// file and reports its FileMetaData (number, size, smallest/largest keys, and
// the tombstones it holds: deletion markers and values *is_tombstone flags, and
// the span of its entries' sequence numbers).
// The directory entry is not synced here: the caller syncs the directory once
// for all outputs before the manifest names them.
// Thread safety: needs external synchronization.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"
#include "lsm/table_builder.h"
#include "lsm/version_edit.h"

namespace kvring::lsm {

class TableFileWriter {
 public:
  // is_tombstone: null or empty counts deletion markers only; must outlive the writer.
  TableFileWriter(base::Env* env, std::string dbname, const TableOptions& options, uint64_t number,
                  const std::function<bool(std::string_view)>* is_tombstone = nullptr);
  TableFileWriter(const TableFileWriter&) = delete;
  TableFileWriter& operator=(const TableFileWriter&) = delete;
  // Abandons (and removes) the file when Finish was not called or failed.
  ~TableFileWriter();

  [[nodiscard]] base::Status Open();
  // REQUIRES: Open() succeeded; keys in increasing InternalKeyCompare order.
  void Add(std::string_view internal_key, std::string_view value);
  uint64_t FileSize() const { return builder_ ? builder_->FileSize() : 0; }
  uint64_t NumEntries() const { return builder_ ? builder_->NumEntries() : 0; }
  // Writes the table's tail, syncs and closes the file. Errors name the path.
  [[nodiscard]] base::Status Finish(FileMetaData* meta);
  const std::string& path() const { return path_; }

 private:
  void CountTombstone(std::string_view internal_key, std::string_view value);

  base::Env* const env_;
  const TableOptions options_;
  const uint64_t number_;
  const std::string path_;
  const std::function<bool(std::string_view)>* const is_tombstone_;
  std::unique_ptr<base::WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
  std::string smallest_, largest_;
  uint64_t tombstones_ = 0;
  uint64_t entries_ = 0;
  uint64_t data_bytes_ = 0;  // user keys + values
  SequenceNumber oldest_tombstone_ = kMaxSequenceNumber;
  SequenceNumber smallest_seq_ = kMaxSequenceNumber;
  SequenceNumber largest_seq_ = 0;
  bool finish_called_ = false;  // TableBuilder::Finish ran (success or not)
  bool done_ = false;
};

}  // namespace kvring::lsm
