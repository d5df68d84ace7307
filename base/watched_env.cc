// base/watched_env.cc — WatchedEnv: the watched files forward to the real ones and
// report what fails (base/watched_env.h).
#include "base/watched_env.h"

namespace kvring::base {

namespace {

class WatchedFile final : public WritableFile {
 public:
  WatchedFile(const WatchedEnv* env, std::unique_ptr<WritableFile> file) : env_(env), file_(std::move(file)) {}
  Status Append(std::string_view data) override { return env_->Seen(file_->Append(data)); }
  Status Flush() override { return env_->Seen(file_->Flush()); }
  Status Sync() override { return env_->Seen(file_->Sync()); }
  Status Close() override { return env_->Seen(file_->Close()); }

 private:
  const WatchedEnv* const env_;
  const std::unique_ptr<WritableFile> file_;
};

}  // namespace

Status WatchedEnv::Wrap(Status s, std::unique_ptr<WritableFile>* out) {
  if (!s.ok()) return Seen(s);
  *out = std::make_unique<WatchedFile>(this, std::move(*out));
  return s;
}

Status WatchedEnv::NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* out) {
  return Wrap(EnvWrapper::NewWritableFile(p, out), out);
}

Status WatchedEnv::NewAppendableFile(const std::string& p, std::unique_ptr<WritableFile>* out) {
  return Wrap(EnvWrapper::NewAppendableFile(p, out), out);
}

}  // namespace kvring::base
