#include "lsm/table_file_writer.h"

#include <algorithm>

#include "lsm/filename.h"

namespace kvring::lsm {

TableFileWriter::TableFileWriter(base::Env* env, std::string dbname, const TableOptions& options, uint64_t number,
                                 const std::function<bool(std::string_view)>* is_tombstone)
    : env_(env),
      options_(options),
      number_(number),
      path_(TableFileName(dbname, number)),
      is_tombstone_(is_tombstone != nullptr && *is_tombstone ? is_tombstone : nullptr) {}

TableFileWriter::~TableFileWriter() {
  if (done_) return;
  if (builder_ != nullptr && !finish_called_) builder_->Abandon();
  builder_.reset();
  if (file_ != nullptr) {
    file_->Close().IgnoreError();  // the table is being thrown away
    file_.reset();
    env_->RemoveFile(path_).IgnoreError();  // best effort; obsolete-file GC retries
  }
}

base::Status TableFileWriter::Open() {
  KV_RETURN_IF_ERROR(env_->NewWritableFile(path_, &file_));
  builder_ = std::make_unique<TableBuilder>(options_, file_.get());
  return base::Status::OK();
}

void TableFileWriter::Add(std::string_view internal_key, std::string_view value) {
  if (builder_->NumEntries() == 0) smallest_.assign(internal_key.data(), internal_key.size());
  largest_.assign(internal_key.data(), internal_key.size());
  const SequenceNumber sequence = ExtractTrailer(internal_key) >> 8;
  smallest_seq_ = std::min(smallest_seq_, sequence);
  largest_seq_ = std::max(largest_seq_, sequence);
  CountTombstone(internal_key, value);
  entries_++;
  data_bytes_ += internal_key.size() - kInternalKeyTrailerBytes + value.size();
  builder_->Add(internal_key, value);
}

void TableFileWriter::CountTombstone(std::string_view internal_key, std::string_view value) {
  const uint64_t trailer = ExtractTrailer(internal_key);
  const auto kind = static_cast<ValueKind>(trailer & 0xff);
  if (kind != ValueKind::kDeletion && (is_tombstone_ == nullptr || !(*is_tombstone_)(value))) return;
  tombstones_++;
  oldest_tombstone_ = std::min(oldest_tombstone_, trailer >> 8);
}

base::Status TableFileWriter::Finish(FileMetaData* meta) {
  finish_called_ = true;
  base::Status s = builder_->Finish();
  if (s.ok()) s = file_->Sync();
  if (s.ok()) s = file_->Close();
  if (!s.ok()) {
    if (s.message().find(path_) == std::string::npos) s = s.WithContext("sstable " + path_);
    return s;
  }
  meta->number = number_;
  meta->file_size = builder_->FileSize();
  meta->smallest = smallest_;
  meta->largest = largest_;
  meta->tombstones = tombstones_;
  meta->oldest_tombstone = tombstones_ > 0 ? oldest_tombstone_ : 0;
  meta->entries = entries_;
  meta->data_bytes = data_bytes_;
  if (smallest_seq_ <= largest_seq_) {  // some entry was added
    meta->smallest_seq = smallest_seq_;
    meta->largest_seq = largest_seq_;
  }
  builder_.reset();
  file_.reset();
  done_ = true;
  return base::Status::OK();
}

}  // namespace kvring::lsm
