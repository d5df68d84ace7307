// lsm/compression.h — per-block compression of SSTable data blocks (LZ4 from
// liblz4). A compressed payload is `raw_size:varint32 lz4_block`; the block
// trailer's type byte says which form a block is in (docs/formats/sstable.md).
// A block stays uncompressed when compression would save less than 1/8 of it.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "lsm/engine.h"

namespace kvring::lsm {

// The largest uncompressed block a reader accepts (guards allocations against
// garbage sizes in corrupt files).
constexpr size_t kMaxUncompressedBlockBytes = size_t{1} << 30;

// Compresses raw with `type` into *out (replacing its contents). Returns false,
// leaving *out unspecified, when type is kNone, when compression fails, or when it
// would save less than raw.size() / 8: the caller then stores raw as it is.
bool CompressBlock(Compression type, std::string_view raw, std::string* out);

// Reverses CompressBlock. On success *out holds *out_size bytes. Corruption when
// the payload is malformed or its declared size is implausible.
base::Status UncompressBlock(Compression type, std::string_view payload, std::unique_ptr<char[]>* out,
                             size_t* out_size);

}  // namespace kvring::lsm
