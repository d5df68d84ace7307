// lsm/wal_reader.h — reads logical records back from a log file (the WAL or the
// manifest) written by WalWriter. Format: docs/formats/wal.md.
//
// Damage handling:
//   - A torn tail (the file ends inside a record, or ends in bytes that do not
//     form a valid record, with no valid record after them) is dropped silently:
//     such a record was never acknowledged as durable. dropped_tail_bytes() says
//     how much was dropped.
//   - Damage followed by a valid record is corruption in the middle: it is
//     reported through the Reporter with the file name and offset, and reading
//     goes on after it (the engine's paranoid_checks turns a report into a failed
//     Open).
//   - A file header with an unknown format version stops reading with
//     NotSupported in status().
// Thread safety: needs external synchronization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"

namespace kvring::lsm {

class WalReader {
 public:
  class Reporter {
   public:
    virtual ~Reporter() = default;
    // `bytes` were dropped starting at file offset `offset`; reason names the file.
    virtual void Corruption(uint64_t offset, uint64_t bytes, const base::Status& reason) = 0;
  };

  // *file and *reporter (may be null) must outlive the reader. path is for messages.
  // With strict_tail, only a truncated or zero-filled tail counts as torn; a
  // complete record with a bad checksum at the end is reported (the manifest,
  // whose synced edits must never vanish silently).
  WalReader(base::SequentialFile* file, std::string path, Reporter* reporter, bool strict_tail = false);
  WalReader(const WalReader&) = delete;
  WalReader& operator=(const WalReader&) = delete;

  // Reads the next logical record. *record stays valid until the next call (it may
  // point into *scratch or into the reader's block buffer). False at the end of the
  // file, or on an error that stops reading (see status()).
  bool ReadRecord(std::string_view* record, std::string* scratch);

  // File offset of the first physical record of the last record returned.
  uint64_t last_record_offset() const { return last_record_offset_; }
  // An I/O error or an unsupported format version; OK at a clean end of file.
  const base::Status& status() const { return status_; }
  uint64_t dropped_tail_bytes() const { return dropped_tail_bytes_; }

 private:
  static constexpr int kEof = -1;
  static constexpr int kBad = -2;

  // Returns a record type, kEof or kBad (with *bad_bytes and *reason set).
  int ReadPhysicalRecord(std::string_view* fragment, uint64_t* offset, uint64_t* bad_bytes, std::string* reason);
  // Remembers damage until we know whether a valid record follows it. Benign
  // damage (a truncated or all-zero tail) is what a power cut leaves.
  void NoteDamage(uint64_t offset, uint64_t bytes, std::string_view reason, bool benign = false);
  void ReportPendingDamage();
  bool CheckFileHeader(std::string_view payload);

  base::SequentialFile* const file_;
  const std::string path_;
  Reporter* const reporter_;
  const bool strict_tail_;
  std::string backing_;              // one block
  std::string_view buffer_;          // unread part of the current block
  bool eof_ = false;                 // the last read returned a short block
  uint64_t end_of_buffer_offset_ = 0;  // file offset just past buffer_
  uint64_t last_record_offset_ = 0;
  bool pending_ = false;             // damage seen, not yet reported or dropped
  bool pending_confirmed_ = false;   // a valid fragment followed the damage
  bool pending_benign_ = true;       // all of it looks like a power cut
  uint64_t pending_offset_ = 0;
  uint64_t pending_bytes_ = 0;
  std::string pending_reason_;
  uint64_t dropped_tail_bytes_ = 0;
  base::Status status_;
};

}  // namespace kvring::lsm
