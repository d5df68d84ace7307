// lsm/table_format.h — the SSTable's fixed pieces: table options, block handles,
// the footer, the per-block trailer, and ReadBlock (read + verify + decompress one
// block). The whole format is described in docs/formats/sstable.md; the constants
// below are on-disk values: never renumber or resize them.
//
//   table   := data_block* filter_block index_block footer
//   block   := contents type:u8 masked_crc32c:fixed32      (the trailer, 5 bytes)
//   footer  := filter_handle index_handle zero-padding to 40 bytes
//              version:u8 reserved:3 zero bytes footer_crc:fixed32 magic:fixed64
//
// Thread safety: values and pure functions; ReadBlock is safe from many threads
// (RandomAccessFile is).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/env.h"
#include "base/status.h"
#include "lsm/engine.h"

namespace kvring::lsm {

// Counters shared by every table opened with the same TableOptions (the table
// cache owns one set per DB). Relaxed atomics: they are statistics.
struct TableStats {
  std::atomic<uint64_t> bloom_checked{0};  // lookups that consulted a bloom filter
  std::atomic<uint64_t> bloom_useful{0};   // ... and were told "absent"
  std::atomic<uint64_t> blocks_read{0};    // data blocks read from files
  std::atomic<uint64_t> bytes_read{0};     // bytes of those blocks (with trailers)
};

struct TableOptions {
  size_t block_bytes = 4096;     // target uncompressed size of a data block
  int restart_interval = 16;     // keys between restart points in data blocks
  int bloom_bits_per_key = 10;   // 0: no filter block
  Compression compression = Compression::kNone;
  // Reading side: where tables count bloom and block statistics. Not owned; may
  // be null.
  TableStats* stats = nullptr;
};

// The table options for files written at `level` of a DB with `options`.
TableOptions TableOptionsForLevel(const Options& options, int level);

// Where a block lives in the file: its offset and its size without the trailer.
struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;

  static constexpr size_t kMaxEncodedLength = 2 * 10;  // two varint64s

  void EncodeTo(std::string* dst) const;
  // Consumes a handle from the front of *input; false when malformed.
  bool DecodeFrom(std::string_view* input);
};

// Block trailer: compression type byte + masked CRC32C over contents and type.
constexpr size_t kBlockTrailerBytes = 5;

// "kvringtb" read as a little-endian fixed64 (bytes 6b 76 72 69 6e 67 74 62).
constexpr uint64_t kTableMagic = 0x6274676e6972766bull;
// Version 1: the format of docs/formats/sstable.md. A reader refuses versions it
// does not know (NotSupported) rather than guess.
constexpr uint8_t kTableFormatVersion = 1;

struct Footer {
  BlockHandle filter_handle;  // size 0 when the table has no filter
  BlockHandle index_handle;
  uint8_t version = kTableFormatVersion;

  static constexpr size_t kHandlesBytes = 2 * BlockHandle::kMaxEncodedLength;  // 40
  static constexpr size_t kEncodedLength = kHandlesBytes + 4 + 4 + 8;           // 56

  void EncodeTo(std::string* dst) const;
  // Decodes exactly kEncodedLength bytes. Errors are Corruption (bad magic, bad
  // checksum, malformed handles) or NotSupported (an unknown version); messages
  // start with what is wrong (the caller adds the file name).
  base::Status DecodeFrom(std::string_view input);
};
static_assert(Footer::kEncodedLength == 56, "the footer size is part of the format");

// A block's contents after the trailer is checked and the payload uncompressed.
// data points into `heap` (owned), or, when heap is null, into the mapping of
// a memory-mapped file (valid as long as that file object); never into a
// caller's buffer.
struct BlockContents {
  std::unique_ptr<char[]> heap;
  std::string_view data;
};

// Reads the block at `handle` from `file`. When verify_checksum, checks the CRC.
// An uncompressed block of a mapped file is returned in place (no copy).
// Corruption messages name the file and the block's offset, built from
// `file_label` (e.g. "sstable /db/000123.sst").
// REQUIRES: handle.offset + handle.size + kBlockTrailerBytes <= the file's data
// size (Table checks handles against the file size before calling).
base::Status ReadBlock(const base::RandomAccessFile& file, std::string_view file_label,
                       const BlockHandle& handle, bool verify_checksum, BlockContents* out);

}  // namespace kvring::lsm
