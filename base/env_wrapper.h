// base/env_wrapper.h — an Env that forwards every call to another one (LevelDB's
// EnvWrapper): derive from it and override only what should differ, e.g. to
// watch the errors a process meets (node/disk_guard.h) or to inject one fault.
// Thread safety: as the target Env (thread-safe); the wrapper adds no state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/env.h"

namespace kvring::base {

class EnvWrapper : public Env {
 public:
  // *target must outlive the wrapper.
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Status NewSequentialFile(const std::string& p, std::unique_ptr<SequentialFile>* out) override {
    return target_->NewSequentialFile(p, out);
  }
  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* out) override {
    return target_->NewRandomAccessFile(p, out);
  }
  Status NewMappedRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* out) override {
    return target_->NewMappedRandomAccessFile(p, out);
  }
  Status NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* out) override {
    return target_->NewWritableFile(p, out);
  }
  Status NewAppendableFile(const std::string& p, std::unique_ptr<WritableFile>* out) override {
    return target_->NewAppendableFile(p, out);
  }
  bool FileExists(const std::string& p) override { return target_->FileExists(p); }
  Status GetChildren(const std::string& d, std::vector<std::string>* names) override {
    return target_->GetChildren(d, names);
  }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status CreateDir(const std::string& d) override { return target_->CreateDir(d); }
  Status RemoveDir(const std::string& d) override { return target_->RemoveDir(d); }
  Status GetFileSize(const std::string& p, uint64_t* size) override { return target_->GetFileSize(p, size); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status SyncDir(const std::string& d) override { return target_->SyncDir(d); }
  Status LockFile(const std::string& p, std::unique_ptr<FileLock>* lock) override {
    return target_->LockFile(p, lock);
  }
  Status UnlockFile(std::unique_ptr<FileLock> lock) override { return target_->UnlockFile(std::move(lock)); }

 private:
  Env* const target_;
};

}  // namespace kvring::base
