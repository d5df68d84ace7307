#include "lsm/table_builder.h"

#include <cassert>

#include "base/coding.h"
#include "base/crc32c.h"
#include "lsm/compression.h"
#include "lsm/dbformat.h"

namespace kvring::lsm {

namespace {

// Appends the index-key trailer that sorts first among entries of a user key.
void AppendSeekTrailer(std::string* out) { base::PutFixed64(out, PackSequenceAndKind(kMaxSequenceNumber, kValueKindForSeek)); }

}  // namespace

void FindShortestSeparator(std::string_view last, std::string_view next, std::string* out) {
  const std::string_view a = ExtractUserKey(last);
  const std::string_view b = ExtractUserKey(next);
  const size_t limit = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < limit && a[i] == b[i]) ++i;
  if (i < limit) {
    const auto byte = static_cast<uint8_t>(a[i]);
    // a[0..i] + (byte+1) is > a and, because byte+1 < b[i], < b.
    if (byte < 0xff && byte + 1 < static_cast<uint8_t>(b[i]) && i + 1 < a.size()) {
      out->assign(a.data(), i);
      out->push_back(static_cast<char>(byte + 1));
      AppendSeekTrailer(out);
      return;
    }
  }
  out->assign(last.data(), last.size());
}

void FindShortSuccessor(std::string_view last, std::string* out) {
  const std::string_view a = ExtractUserKey(last);
  for (size_t i = 0; i < a.size(); ++i) {
    const auto byte = static_cast<uint8_t>(a[i]);
    if (byte != 0xff && i + 1 < a.size()) {
      out->assign(a.data(), i);
      out->push_back(static_cast<char>(byte + 1));
      AppendSeekTrailer(out);
      return;
    }
  }
  out->assign(last.data(), last.size());
}

TableBuilder::TableBuilder(const TableOptions& options, base::WritableFile* file)
    : options_(options),
      file_(file),
      data_block_(options.restart_interval),
      index_block_(1),  // every index entry is a restart point: exact binary search
      filter_(options.bloom_bits_per_key > 0 ? options.bloom_bits_per_key : 1) {}

TableBuilder::~TableBuilder() { assert(closed_); }

void TableBuilder::Add(std::string_view internal_key, std::string_view value) {
  assert(!closed_);
  assert(internal_key.size() >= kInternalKeyTrailerBytes);
  assert(num_entries_ == 0 || InternalKeyCompare(last_key_, internal_key) < 0);
  if (!status_.ok()) return;
  if (pending_index_entry_) AddPendingIndexEntry(internal_key);
  if (options_.bloom_bits_per_key > 0) filter_.AddKey(ExtractUserKey(internal_key));
  last_key_.assign(internal_key.data(), internal_key.size());
  ++num_entries_;
  data_block_.Add(internal_key, value);
  if (data_block_.CurrentSizeEstimate() >= options_.block_bytes) FlushDataBlock();
}

void TableBuilder::AddPendingIndexEntry(std::string_view next_key) {
  if (next_key.empty()) {
    FindShortSuccessor(last_key_, &separator_);
  } else {
    FindShortestSeparator(last_key_, next_key, &separator_);
  }
  std::string handle;
  pending_handle_.EncodeTo(&handle);
  index_block_.Add(separator_, handle);
  pending_index_entry_ = false;
}

void TableBuilder::FlushDataBlock() {
  if (data_block_.empty() || !status_.ok()) return;
  pending_handle_ = WriteBlock(data_block_.Finish(), options_.compression);
  data_block_.Reset();
  pending_index_entry_ = true;
}

BlockHandle TableBuilder::WriteBlock(std::string_view raw, Compression type) {
  if (type != Compression::kNone && CompressBlock(type, raw, &compressed_)) {
    return WriteRawBlock(compressed_, type);
  }
  return WriteRawBlock(raw, Compression::kNone);
}

BlockHandle TableBuilder::WriteRawBlock(std::string_view contents, Compression type) {
  BlockHandle handle;
  handle.offset = offset_;
  handle.size = contents.size();
  char trailer[kBlockTrailerBytes];
  trailer[0] = static_cast<char>(type);
  uint32_t crc = base::crc32c::Extend(base::crc32c::Value(contents.data(), contents.size()), trailer, 1);
  base::EncodeFixed32(trailer + 1, base::crc32c::Mask(crc));
  status_ = file_->Append(contents);
  if (status_.ok()) status_ = file_->Append(std::string_view(trailer, kBlockTrailerBytes));
  if (status_.ok()) offset_ += contents.size() + kBlockTrailerBytes;
  return handle;
}

base::Status TableBuilder::Finish() {
  assert(!closed_);
  FlushDataBlock();
  closed_ = true;
  if (!status_.ok()) return status_;
  Footer footer;
  if (options_.bloom_bits_per_key > 0) {
    footer.filter_handle = WriteRawBlock(filter_.Finish(), Compression::kNone);
  }
  if (status_.ok() && pending_index_entry_) AddPendingIndexEntry({});
  if (status_.ok()) footer.index_handle = WriteRawBlock(index_block_.Finish(), Compression::kNone);
  if (status_.ok()) {
    std::string encoded;
    footer.EncodeTo(&encoded);
    status_ = file_->Append(encoded);
    if (status_.ok()) offset_ += encoded.size();
  }
  return status_;
}

void TableBuilder::Abandon() {
  assert(!closed_);
  closed_ = true;
}

}  // namespace kvring::lsm
