#include "lsm/table_format.h"

#include <algorithm>

#include "base/coding.h"
#include "base/crc32c.h"
#include "lsm/compression.h"

namespace kvring::lsm {

TableOptions TableOptionsForLevel(const Options& options, int level) {
  TableOptions t;
  t.block_bytes = options.block_bytes;
  t.restart_interval = options.block_restart_interval;
  t.bloom_bits_per_key = options.bloom_bits_per_key;
  const auto& per_level = options.compression_per_level;
  if (!per_level.empty()) {
    size_t i = std::min(static_cast<size_t>(std::max(level, 0)), per_level.size() - 1);
    t.compression = per_level[i];
  }
  return t;
}

void BlockHandle::EncodeTo(std::string* dst) const {
  base::PutVarint64(dst, offset);
  base::PutVarint64(dst, size);
}

bool BlockHandle::DecodeFrom(std::string_view* input) {
  return base::GetVarint64(input, &offset) && base::GetVarint64(input, &size);
}

void Footer::EncodeTo(std::string* dst) const {
  const size_t start = dst->size();
  filter_handle.EncodeTo(dst);
  index_handle.EncodeTo(dst);
  dst->resize(start + kHandlesBytes, '\0');
  dst->push_back(static_cast<char>(version));
  dst->append(3, '\0');
  uint32_t crc = base::crc32c::Value(dst->data() + start, kHandlesBytes + 4);
  base::PutFixed32(dst, base::crc32c::Mask(crc));
  base::PutFixed64(dst, kTableMagic);
}

base::Status Footer::DecodeFrom(std::string_view input) {
  if (input.size() != kEncodedLength) return base::Status::Corruption("footer has the wrong size");
  const char* p = input.data();
  if (base::DecodeFixed64(p + kHandlesBytes + 8) != kTableMagic) {
    return base::Status::Corruption("not an sstable (bad magic number)");
  }
  uint32_t stored = base::crc32c::Unmask(base::DecodeFixed32(p + kHandlesBytes + 4));
  if (stored != base::crc32c::Value(p, kHandlesBytes + 4)) {
    return base::Status::Corruption("footer checksum mismatch");
  }
  version = static_cast<uint8_t>(p[kHandlesBytes]);
  if (version != kTableFormatVersion) {
    return base::Status::NotSupported("sstable format version " + std::to_string(version) +
                                      " is unknown to this reader (it reads version " +
                                      std::to_string(kTableFormatVersion) + ")");
  }
  std::string_view handles(p, kHandlesBytes);
  if (!filter_handle.DecodeFrom(&handles) || !index_handle.DecodeFrom(&handles)) {
    return base::Status::Corruption("malformed block handles in footer");
  }
  return base::Status::OK();
}

namespace {

base::Status BlockError(std::string_view file_label, const BlockHandle& handle, std::string_view what) {
  std::string msg(file_label);
  msg += ": ";
  msg += what;
  msg += " at offset ";
  msg += std::to_string(handle.offset);
  return base::Status::Corruption(msg);
}

}  // namespace

base::Status ReadBlock(const base::RandomAccessFile& file, std::string_view file_label,
                       const BlockHandle& handle, bool verify_checksum, BlockContents* out) {
  if (handle.size > kMaxUncompressedBlockBytes) return BlockError(file_label, handle, "block handle too large");
  const size_t n = static_cast<size_t>(handle.size);
  const bool mapped = !file.mapped().empty();
  std::unique_ptr<char[]> buf;
  if (!mapped) buf = std::make_unique_for_overwrite<char[]>(n + kBlockTrailerBytes);
  std::string_view got;
  base::Status s = file.Read(handle.offset, n + kBlockTrailerBytes, &got, buf.get());
  if (!s.ok()) return s.WithContext(file_label);
  if (got.size() != n + kBlockTrailerBytes) return BlockError(file_label, handle, "truncated block read");
  const char* data = got.data();
  if (verify_checksum) {
    uint32_t stored = base::crc32c::Unmask(base::DecodeFixed32(data + n + 1));
    if (stored != base::crc32c::Value(data, n + 1)) {
      return BlockError(file_label, handle, "block checksum mismatch");
    }
  }
  const auto type = static_cast<uint8_t>(data[n]);
  if (type == static_cast<uint8_t>(Compression::kNone)) {
    if (mapped) {  // in place: the mapping lives as long as the file object
      out->heap.reset();
      out->data = std::string_view(data, n);
      return base::Status::OK();
    }
    if (data != buf.get()) {  // the file returned its own memory: copy it into ours
      std::copy(data, data + n, buf.get());
    }
    out->heap = std::move(buf);
    out->data = std::string_view(out->heap.get(), n);
    return base::Status::OK();
  }
  if (type != static_cast<uint8_t>(Compression::kLz4)) {
    return BlockError(file_label, handle, "unknown block compression type " + std::to_string(type));
  }
  size_t raw_size = 0;
  s = UncompressBlock(Compression::kLz4, std::string_view(data, n), &out->heap, &raw_size);
  if (!s.ok()) return BlockError(file_label, handle, s.message());
  out->data = std::string_view(out->heap.get(), raw_size);
  return base::Status::OK();
}

}  // namespace kvring::lsm
