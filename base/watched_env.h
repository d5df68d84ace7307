// base/watched_env.h — an Env that tells an observer about every failed write:
// creating, appending to, flushing, syncing or closing a file, renaming,
// removing, creating or syncing a directory. The status passes through
// unchanged; the observer only looks (node/disk_guard.h uses it to notice a
// full disk wherever the process writes). Reads are not watched.
// Thread safety: thread-safe; the observer is called on the failing call's
// thread, so it must be thread-safe too. A WritableFile needs external
// synchronization like any.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/env_wrapper.h"

namespace kvring::base {

class WatchedEnv final : public EnvWrapper {
 public:
  using Observer = std::function<void(const Status&)>;
  // *target must outlive the env.
  WatchedEnv(Env* target, Observer observer) : EnvWrapper(target), observer_(std::move(observer)) {}

  Status NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* out) override;
  Status NewAppendableFile(const std::string& p, std::unique_ptr<WritableFile>* out) override;
  Status RemoveFile(const std::string& p) override { return Seen(EnvWrapper::RemoveFile(p)); }
  Status CreateDir(const std::string& d) override { return Seen(EnvWrapper::CreateDir(d)); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return Seen(EnvWrapper::RenameFile(from, to));
  }
  Status SyncDir(const std::string& d) override { return Seen(EnvWrapper::SyncDir(d)); }

  // Passes s on, telling the observer first when it failed.
  Status Seen(Status s) const {
    if (!s.ok()) observer_(s);
    return s;
  }

 private:
  Status Wrap(Status s, std::unique_ptr<WritableFile>* out);

  const Observer observer_;
};

}  // namespace kvring::base
