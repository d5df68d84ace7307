// lsm/wal_format.h — constants of the log format shared by the write-ahead log and
// the manifest: records in 32 KiB blocks, each physical record with a masked
// CRC32C, a length and a type. Format: docs/formats/wal.md.
// On-disk values: never renumber. Thread safety: constants only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvring::lsm::wal {

enum class RecordType : uint8_t {
  kZero = 0,        // never written (zeroed space reads as a checksum mismatch)
  kFull = 1,        // a whole logical record
  kFirst = 2,       // first fragment of a logical record
  kMiddle = 3,      // interior fragment
  kLast = 4,        // last fragment
  kFileHeader = 5,  // first record of a file: magic + format version
};
constexpr uint8_t kMaxRecordType = static_cast<uint8_t>(RecordType::kFileHeader);

constexpr size_t kBlockBytes = 32 * 1024;
// crc32c:fixed32 length:fixed16 type:u8
constexpr size_t kHeaderBytes = 4 + 2 + 1;
static_assert(kHeaderBytes == 7, "record header layout is part of the on-disk format");
static_assert(kBlockBytes - kHeaderBytes <= 0xffff, "a fragment length must fit in fixed16");

// Payload of the kFileHeader record: magic then a version byte.
constexpr std::string_view kFileMagic = "kvlog";
constexpr uint8_t kFormatVersion = 1;
constexpr size_t kFileHeaderPayloadBytes = 6;

}  // namespace kvring::lsm::wal
