// lsm/wal_writer.h — appends logical records to a log file (the WAL or the
// manifest) in 32 KiB blocks, fragmenting records that cross a block boundary.
// Format: docs/formats/wal.md.
// Thread safety: needs external synchronization (the engine's current write
// leader, or the manifest writer under the DB mutex's manifest slot).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/env.h"
#include "base/status.h"

namespace kvring::lsm {

class WalWriter {
 public:
  // Writes a new log into *file, which must be empty; *file must outlive the writer.
  // The file header record is written with the first AddRecord.
  explicit WalWriter(base::WritableFile* file);
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Appends one logical record (any length, empty included). Does not Flush or
  // Sync the file. After an error the writer must not be used again: the file may
  // end in a partial record, which readers drop as a torn tail.
  [[nodiscard]] base::Status AddRecord(std::string_view record);

  // Bytes written to the file so far (header, padding and records).
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  base::Status EmitPhysicalRecord(uint8_t type, const char* data, size_t n);

  base::WritableFile* const file_;
  size_t block_offset_ = 0;  // bytes used in the current block
  uint64_t file_bytes_ = 0;
};

}  // namespace kvring::lsm
