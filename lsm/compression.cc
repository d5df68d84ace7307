#include "lsm/compression.h"

#include <lz4.h>

#include <climits>

#include "base/coding.h"

namespace kvring::lsm {

namespace {

bool Lz4Compress(std::string_view raw, std::string* out) {
  if (raw.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return false;
  const int raw_size = static_cast<int>(raw.size());
  const int bound = LZ4_compressBound(raw_size);
  out->clear();
  base::PutVarint32(out, static_cast<uint32_t>(raw.size()));
  const size_t header = out->size();
  out->resize(header + static_cast<size_t>(bound));
  int n = LZ4_compress_default(raw.data(), out->data() + header, raw_size, bound);
  if (n <= 0) return false;
  out->resize(header + static_cast<size_t>(n));
  return true;
}

base::Status Lz4Uncompress(std::string_view payload, std::unique_ptr<char[]>* out, size_t* out_size) {
  uint32_t raw_size = 0;
  if (!base::GetVarint32(&payload, &raw_size)) {
    return base::Status::Corruption("lz4 block: bad size header");
  }
  // LZ4 never expands more than 255:1; anything beyond that is garbage.
  if (raw_size > kMaxUncompressedBlockBytes || raw_size > payload.size() * 255 + 16) {
    return base::Status::Corruption("lz4 block: implausible uncompressed size " + std::to_string(raw_size));
  }
  if (payload.size() > static_cast<size_t>(INT_MAX)) return base::Status::Corruption("lz4 block: too large");
  auto buf = std::make_unique_for_overwrite<char[]>(raw_size == 0 ? 1 : raw_size);
  int n = LZ4_decompress_safe(payload.data(), buf.get(), static_cast<int>(payload.size()),
                              static_cast<int>(raw_size));
  if (n < 0 || static_cast<uint32_t>(n) != raw_size) {
    return base::Status::Corruption("lz4 block: malformed compressed data");
  }
  *out = std::move(buf);
  *out_size = raw_size;
  return base::Status::OK();
}

}  // namespace

bool CompressBlock(Compression type, std::string_view raw, std::string* out) {
  bool ok = false;
  switch (type) {
    case Compression::kNone:
      return false;
    case Compression::kLz4:
      ok = Lz4Compress(raw, out);
      break;
  }
  // Worth it only when it saves at least an eighth.
  return ok && out->size() <= raw.size() - raw.size() / 8;
}

base::Status UncompressBlock(Compression type, std::string_view payload, std::unique_ptr<char[]>* out,
                             size_t* out_size) {
  switch (type) {
    case Compression::kNone:
      break;
    case Compression::kLz4:
      return Lz4Uncompress(payload, out, out_size);
  }
  return base::Status::Corruption("unknown compression type " + std::to_string(static_cast<int>(type)));
}

}  // namespace kvring::lsm
