#include "lsm/table_file_writer.h"

#include "lsm/filename.h"

namespace kvring::lsm {

TableFileWriter::TableFileWriter(base::Env* env, std::string dbname, const TableOptions& options, uint64_t number)
    : env_(env), options_(options), number_(number), path_(TableFileName(dbname, number)) {}

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
  builder_->Add(internal_key, value);
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
  builder_.reset();
  file_.reset();
  done_ = true;
  return base::Status::OK();
}

}  // namespace kvring::lsm
