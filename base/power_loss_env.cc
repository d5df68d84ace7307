#include "base/power_loss_env.h"

#include <unistd.h>

#include <cerrno>

namespace kvring::base {

namespace {

Status PowerLost(const std::string& path) { return Status::IOError("write " + path + ": power lost"); }

// A file that reports its appends and syncs to the Env, and fails once power is lost.
class PowerLossFile final : public WritableFile {
 public:
  PowerLossFile(PowerLossEnv* env, std::string path, std::unique_ptr<WritableFile> file)
      : env_(env), path_(std::move(path)), file_(std::move(file)) {}

  Status Append(std::string_view data) override {
    std::shared_lock<std::shared_mutex> lock(env_->cut_lock());
    if (env_->lost()) return PowerLost(path_);
    KV_RETURN_IF_ERROR(file_->Append(data));
    env_->NoteAppend(path_, data.size());
    return Status::OK();
  }
  Status Flush() override {
    std::shared_lock<std::shared_mutex> lock(env_->cut_lock());
    return env_->lost() ? PowerLost(path_) : file_->Flush();
  }
  Status Sync() override {
    std::shared_lock<std::shared_mutex> lock(env_->cut_lock());
    if (env_->lost()) return PowerLost(path_);
    KV_RETURN_IF_ERROR(file_->Sync());
    env_->NoteSync(path_);
    return Status::OK();
  }
  Status Close() override {
    std::shared_lock<std::shared_mutex> lock(env_->cut_lock());
    return env_->lost() ? PowerLost(path_) : file_->Close();
  }

 private:
  PowerLossEnv* const env_;
  const std::string path_;
  const std::unique_ptr<WritableFile> file_;
};

}  // namespace

Status PowerLossEnv::Track(const std::string& path, bool created, bool truncated, Status s,
                           std::unique_ptr<WritableFile>* out) {
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (!created && !truncated) target()->GetFileSize(path, &size).IgnoreError();
  {
    // A name that existed before survives the power loss (cut to what was synced
    // since: nothing, for a file truncated by this open); a new one does only once synced.
    MutexLock lock(&mu_);
    files_[path] = FileState{.written = size, .synced = size, .created = created, .ever_synced = !created};
  }
  *out = std::make_unique<PowerLossFile>(this, path, std::move(*out));
  return s;
}

Status PowerLossEnv::NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  std::shared_lock<std::shared_mutex> lock(cut_);
  if (lost_) return PowerLost(path);
  const bool existed = target()->FileExists(path);
  return Track(path, !existed, /*truncated=*/true, target()->NewWritableFile(path, out), out);
}

Status PowerLossEnv::NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  std::shared_lock<std::shared_mutex> lock(cut_);
  if (lost_) return PowerLost(path);
  const bool existed = target()->FileExists(path);
  return Track(path, !existed, /*truncated=*/false, target()->NewAppendableFile(path, out), out);
}

Status PowerLossEnv::RemoveFile(const std::string& path) {
  std::shared_lock<std::shared_mutex> lock(cut_);
  if (lost_) return PowerLost(path);
  KV_RETURN_IF_ERROR(target()->RemoveFile(path));
  MutexLock files_lock(&mu_);
  files_.erase(path);
  return Status::OK();
}

Status PowerLossEnv::RenameFile(const std::string& from, const std::string& to) {
  std::shared_lock<std::shared_mutex> lock(cut_);
  if (lost_) return PowerLost(to);
  KV_RETURN_IF_ERROR(target()->RenameFile(from, to));
  MutexLock files_lock(&mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return Status::OK();
  files_[to] = it->second;
  files_.erase(from);
  return Status::OK();
}

void PowerLossEnv::NoteAppend(const std::string& path, uint64_t bytes) {
  MutexLock lock(&mu_);
  files_[path].written += bytes;
}

void PowerLossEnv::NoteSync(const std::string& path) {
  MutexLock lock(&mu_);
  FileState& f = files_[path];
  f.synced = f.written;
  f.ever_synced = true;
}

std::map<std::string, PowerLossEnv::FileState> PowerLossEnv::Files() const {
  MutexLock lock(&mu_);
  return files_;
}

Status PowerLossEnv::PowerLoss() {
  std::unique_lock<std::shared_mutex> lock(cut_);
  lost_ = true;
  Status first;
  for (const auto& [path, f] : Files()) {
    Status s;
    if (f.created && !f.ever_synced) {
      s = target()->RemoveFile(path);
    } else if (f.synced < f.written && ::truncate(path.c_str(), static_cast<off_t>(f.synced)) != 0) {
      s = Status::FromErrno("truncate " + path, errno);
    }
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

}  // namespace kvring::base
