// base/sync_fault_env.h — an Env over another (the POSIX one in a kvnode) whose
// file syncs fail on demand with IOError "fdatasync PATH: Input/output error",
// as a dying disk's do (test-only: kvnode's --test-fail-syncs-after and
// --test-fault-files, node/test_hooks.h). Everything else is passed through, so
// the data stays on the real disk and survives kill -9 like any node's.
//
// A sync fails while the ControlFile reads non-zero, and every sync after the
// first `fail_after` successful ones (fail_after < 0: never). A failed sync
// does flush the bytes to the OS first (they are in the page cache, not durable).
// Thread safety: thread-safe; its files need external synchronization like any.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/control_file.h"
#include "base/env.h"

namespace kvring::base {

class SyncFaultEnv final : public Env {
 public:
  // *target must outlive this Env; failing may be null (only fail_after counts).
  SyncFaultEnv(Env* target, std::unique_ptr<ControlFile> failing, int64_t fail_after);

  Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) override;
  Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override;
  Status NewMappedRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override;
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status CreateDir(const std::string& dir) override { return target_->CreateDir(dir); }
  Status RemoveDir(const std::string& dir) override { return target_->RemoveDir(dir); }
  Status GetFileSize(const std::string& path, uint64_t* size) override { return target_->GetFileSize(path, size); }
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override;
  Status UnlockFile(std::unique_ptr<FileLock> lock) override { return target_->UnlockFile(std::move(lock)); }

  // OK, or the injected error for `path` (and counts a sync that may go ahead).
  Status CheckSync(const std::string& path);
  uint64_t failed_syncs() const { return failed_.load(std::memory_order_relaxed); }

 private:
  Status Wrap(const std::string& path, Status s, std::unique_ptr<WritableFile>* out);

  Env* const target_;
  const std::unique_ptr<ControlFile> failing_;
  const int64_t fail_after_;
  std::atomic<int64_t> synced_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace kvring::base
