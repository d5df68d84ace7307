#include "lsm/wal_writer.h"

#include <cassert>
#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"
#include "lsm/wal_format.h"

namespace kvring::lsm {

using wal::RecordType;

WalWriter::WalWriter(base::WritableFile* file) : file_(file) {}

base::Status WalWriter::AddRecord(std::string_view record) {
  if (file_bytes_ == 0) {
    char header[wal::kFileHeaderPayloadBytes];
    std::memcpy(header, wal::kFileMagic.data(), wal::kFileMagic.size());
    header[wal::kFileMagic.size()] = static_cast<char>(wal::kFormatVersion);
    KV_RETURN_IF_ERROR(
        EmitPhysicalRecord(static_cast<uint8_t>(RecordType::kFileHeader), header, sizeof(header)));
  }
  const char* ptr = record.data();
  size_t left = record.size();
  bool begin = true;
  do {
    const size_t leftover = wal::kBlockBytes - block_offset_;
    if (leftover < wal::kHeaderBytes) {
      // Invariant: a record header never straddles a block; pad the block's tail.
      if (leftover > 0) {
        static constexpr char kZeros[wal::kHeaderBytes] = {};
        KV_RETURN_IF_ERROR(file_->Append(std::string_view(kZeros, leftover)));
        file_bytes_ += leftover;
      }
      block_offset_ = 0;
    }
    assert(wal::kBlockBytes - block_offset_ >= wal::kHeaderBytes);
    const size_t avail = wal::kBlockBytes - block_offset_ - wal::kHeaderBytes;
    const size_t fragment = left < avail ? left : avail;
    const bool end = (left == fragment);
    RecordType type = begin && end ? RecordType::kFull
                      : begin      ? RecordType::kFirst
                      : end        ? RecordType::kLast
                                   : RecordType::kMiddle;
    KV_RETURN_IF_ERROR(EmitPhysicalRecord(static_cast<uint8_t>(type), ptr, fragment));
    ptr += fragment;
    left -= fragment;
    begin = false;
  } while (left > 0);
  return base::Status::OK();
}

base::Status WalWriter::EmitPhysicalRecord(uint8_t type, const char* data, size_t n) {
  assert(n <= 0xffff);
  assert(block_offset_ + wal::kHeaderBytes + n <= wal::kBlockBytes);
  char header[wal::kHeaderBytes];
  uint32_t crc = base::crc32c::Extend(0, reinterpret_cast<const char*>(&type), 1);
  crc = base::crc32c::Extend(crc, data, n);
  base::EncodeFixed32(header, base::crc32c::Mask(crc));
  base::EncodeFixed16(header + 4, static_cast<uint16_t>(n));
  header[6] = static_cast<char>(type);
  KV_RETURN_IF_ERROR(file_->Append(std::string_view(header, sizeof(header))));
  KV_RETURN_IF_ERROR(file_->Append(std::string_view(data, n)));
  block_offset_ += wal::kHeaderBytes + n;
  file_bytes_ += wal::kHeaderBytes + n;
  return base::Status::OK();
}

}  // namespace kvring::lsm
