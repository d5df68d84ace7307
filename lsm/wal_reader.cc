#include "lsm/wal_reader.h"

#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"
#include "lsm/wal_format.h"

namespace kvring::lsm {

using wal::RecordType;

WalReader::WalReader(base::SequentialFile* file, std::string path, Reporter* reporter, bool strict_tail)
    : file_(file),
      path_(std::move(path)),
      reporter_(reporter),
      strict_tail_(strict_tail),
      backing_(wal::kBlockBytes, '\0') {}

void WalReader::NoteDamage(uint64_t offset, uint64_t bytes, std::string_view reason, bool benign) {
  if (!pending_) {
    pending_ = true;
    pending_benign_ = true;
    pending_offset_ = offset;
    pending_bytes_ = 0;
    pending_reason_.assign(reason.data(), reason.size());
  }
  if (!benign) pending_benign_ = false;
  pending_bytes_ += bytes;
}

void WalReader::ReportPendingDamage() {
  if (!pending_) return;
  pending_ = false;
  pending_confirmed_ = false;
  if (reporter_ != nullptr) {
    reporter_->Corruption(pending_offset_, pending_bytes_,
                          base::Status::Corruption(path_ + ": " + pending_reason_ + " at offset " +
                                                   std::to_string(pending_offset_) + " (" +
                                                   std::to_string(pending_bytes_) + " bytes dropped)"));
  }
}

bool WalReader::CheckFileHeader(std::string_view payload) {
  if (payload.size() != wal::kFileHeaderPayloadBytes || payload.substr(0, wal::kFileMagic.size()) != wal::kFileMagic) {
    NoteDamage(0, payload.size() + wal::kHeaderBytes, "bad log file header magic");
    return true;
  }
  uint8_t version = static_cast<uint8_t>(payload[wal::kFileMagic.size()]);
  if (version > wal::kFormatVersion) {
    status_ = base::Status::NotSupported(path_ + ": log format version " + std::to_string(version) +
                                         " is newer than this build supports (" +
                                         std::to_string(wal::kFormatVersion) + ")");
    return false;
  }
  return true;
}

bool WalReader::ReadRecord(std::string_view* record, std::string* scratch) {
  scratch->clear();
  *record = {};
  bool in_fragmented = false;
  uint64_t fragmented_offset = 0;
  while (true) {
    std::string_view fragment;
    uint64_t offset = 0, bad_bytes = 0;
    std::string reason;
    const int type = ReadPhysicalRecord(&fragment, &offset, &bad_bytes, &reason);
    if (type == kEof) {
      // Whatever damage or partial record remains is a torn tail (never
      // acknowledged), unless valid fragments after it proved otherwise.
      if (pending_confirmed_ || (strict_tail_ && !pending_benign_)) ReportPendingDamage();
      if (pending_) dropped_tail_bytes_ += pending_bytes_;
      if (in_fragmented) dropped_tail_bytes_ += scratch->size();  // cut short: torn
      pending_ = false;
      scratch->clear();
      return false;
    }
    if (type == kBad) {
      if (in_fragmented) {
        NoteDamage(fragmented_offset, scratch->size(), "partial record", /*benign=*/true);
        in_fragmented = false;
        scratch->clear();
      }
      NoteDamage(offset, bad_bytes, reason, /*benign=*/reason == "zero-filled space");
      continue;
    }
    // A valid record start (not an orphan fragment): damage before it was in the
    // middle of the file.
    if (type != static_cast<int>(RecordType::kMiddle) && type != static_cast<int>(RecordType::kLast)) {
      ReportPendingDamage();
    }
    switch (static_cast<RecordType>(type)) {
      case RecordType::kFileHeader:
        if (offset != 0) {
          NoteDamage(offset, fragment.size() + wal::kHeaderBytes, "file header record in the middle");
          break;
        }
        if (!CheckFileHeader(fragment)) return false;
        break;
      case RecordType::kFull:
        if (in_fragmented) {
          NoteDamage(fragmented_offset, scratch->size(), "partial record without end");
          ReportPendingDamage();
        }
        last_record_offset_ = offset;
        scratch->clear();
        *record = fragment;
        return true;
      case RecordType::kFirst:
        if (in_fragmented) {
          NoteDamage(fragmented_offset, scratch->size(), "partial record without end");
          ReportPendingDamage();
        }
        in_fragmented = true;
        fragmented_offset = offset;
        scratch->assign(fragment.data(), fragment.size());
        break;
      case RecordType::kMiddle:
      case RecordType::kLast:
        if (!in_fragmented) {
          // Part of the damaged region, and proof that it is not a torn tail (a
          // valid record follows it): reported in one piece once a record starts.
          NoteDamage(offset, fragment.size() + wal::kHeaderBytes, "fragment without a first fragment");
          pending_confirmed_ = true;
          break;
        }
        scratch->append(fragment.data(), fragment.size());
        if (static_cast<RecordType>(type) == RecordType::kLast) {
          last_record_offset_ = fragmented_offset;
          *record = *scratch;
          return true;
        }
        break;
      default:
        NoteDamage(offset, fragment.size() + wal::kHeaderBytes, "unknown record type " + std::to_string(type));
        ReportPendingDamage();
        break;
    }
  }
}

int WalReader::ReadPhysicalRecord(std::string_view* fragment, uint64_t* offset, uint64_t* bad_bytes,
                                  std::string* reason) {
  while (true) {
    if (buffer_.size() < wal::kHeaderBytes) {
      if (eof_) {
        // A header cut short by the end of the file: torn tail.
        if (!buffer_.empty()) {
          NoteDamage(end_of_buffer_offset_ - buffer_.size(), buffer_.size(), "truncated header", /*benign=*/true);
        }
        buffer_ = {};
        return kEof;
      }
      // Skip the zero padding at the end of a block and read the next one.
      base::Status s = file_->Read(wal::kBlockBytes, &buffer_, backing_.data());
      if (!s.ok()) {
        status_ = s.WithContext("reading log " + path_);
        buffer_ = {};
        eof_ = true;
        return kEof;
      }
      end_of_buffer_offset_ += buffer_.size();
      if (buffer_.size() < wal::kBlockBytes) eof_ = true;
      continue;
    }
    const char* header = buffer_.data();
    const uint32_t length = base::DecodeFixed16(header + 4);
    const uint8_t type = static_cast<uint8_t>(header[6]);
    *offset = end_of_buffer_offset_ - buffer_.size();
    if (wal::kHeaderBytes + length > buffer_.size()) {
      const size_t drop = buffer_.size();
      buffer_ = {};
      if (eof_) {
        NoteDamage(*offset, drop, "truncated record", /*benign=*/true);  // dropped at EOF unless more follows
        return kEof;
      }
      *bad_bytes = drop;
      *reason = "bad record length";
      return kBad;
    }
    const uint32_t expected = base::crc32c::Unmask(base::DecodeFixed32(header));
    const uint32_t actual = base::crc32c::Value(header + 6, 1 + length);
    if (expected != actual || type == 0 || type > wal::kMaxRecordType) {
      // The length may be the damaged field: drop the rest of the block.
      *bad_bytes = buffer_.size();
      const bool zeros = base::DecodeFixed32(header) == 0 && length == 0 && type == 0;
      *reason = zeros ? "zero-filled space"
                : expected != actual ? "checksum mismatch"
                                     : "unknown record type " + std::to_string(type);
      buffer_ = {};
      return kBad;
    }
    *fragment = std::string_view(header + wal::kHeaderBytes, length);
    buffer_.remove_prefix(wal::kHeaderBytes + length);
    return type;
  }
}

}  // namespace kvring::lsm
