#include "base/sync_fault_env.h"

#include <cerrno>

namespace kvring::base {

namespace {

// A writable file whose Sync() asks the Env first.
class SyncFaultFile final : public WritableFile {
 public:
  SyncFaultFile(SyncFaultEnv* env, std::string path, std::unique_ptr<WritableFile> file)
      : env_(env), path_(std::move(path)), file_(std::move(file)) {}

  Status Append(std::string_view data) override { return file_->Append(data); }
  Status Flush() override { return file_->Flush(); }
  Status Sync() override {
    KV_RETURN_IF_ERROR(file_->Flush());
    KV_RETURN_IF_ERROR(env_->CheckSync(path_));
    return file_->Sync();
  }
  Status Close() override { return file_->Close(); }

 private:
  SyncFaultEnv* const env_;
  const std::string path_;
  const std::unique_ptr<WritableFile> file_;
};

}  // namespace

SyncFaultEnv::SyncFaultEnv(Env* target, std::unique_ptr<ControlFile> failing, int64_t fail_after)
    : target_(target), failing_(std::move(failing)), fail_after_(fail_after) {}

Status SyncFaultEnv::CheckSync(const std::string& path) {
  const bool on = failing_ != nullptr && failing_->Value() != 0;
  if (!on && (fail_after_ < 0 || synced_.fetch_add(1, std::memory_order_relaxed) < fail_after_)) {
    return Status::OK();
  }
  failed_.fetch_add(1, std::memory_order_relaxed);
  return Status::FromErrno("fdatasync " + path, EIO);
}

Status SyncFaultEnv::Wrap(const std::string& path, Status s, std::unique_ptr<WritableFile>* out) {
  if (s.ok()) *out = std::make_unique<SyncFaultFile>(this, path, std::move(*out));
  return s;
}

Status SyncFaultEnv::NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) {
  return target_->NewSequentialFile(path, out);
}

Status SyncFaultEnv::NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) {
  return target_->NewRandomAccessFile(path, out);
}

Status SyncFaultEnv::NewMappedRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) {
  return target_->NewMappedRandomAccessFile(path, out);
}

Status SyncFaultEnv::NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  return Wrap(path, target_->NewWritableFile(path, out), out);
}

Status SyncFaultEnv::NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  return Wrap(path, target_->NewAppendableFile(path, out), out);
}

Status SyncFaultEnv::GetChildren(const std::string& dir, std::vector<std::string>* names) {
  return target_->GetChildren(dir, names);
}

Status SyncFaultEnv::RenameFile(const std::string& from, const std::string& to) {
  return target_->RenameFile(from, to);
}

Status SyncFaultEnv::SyncDir(const std::string& dir) {
  KV_RETURN_IF_ERROR(CheckSync(dir));
  return target_->SyncDir(dir);
}

Status SyncFaultEnv::LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) {
  return target_->LockFile(path, lock);
}

}  // namespace kvring::base
