#include "base/fault_env.h"

#include <algorithm>
#include <cstring>
#include <thread>

namespace kvring::base {

struct FaultEnv::Inode {
  std::string data;
  uint64_t synced = 0;  // bytes of data that survive a power loss
};

namespace {

bool Matches(const std::string& path, const std::string& filter) {
  return filter.empty() || path.find(filter) != std::string::npos;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class FaultLock final : public FileLock {
 public:
  explicit FaultLock(std::string path) : path(std::move(path)) {}
  std::string path;
};

}  // namespace

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::string path, std::shared_ptr<FaultEnv::Inode> inode, uint64_t generation)
      : env_(env), path_(std::move(path)), inode_(std::move(inode)), generation_(generation) {}
  Status Append(std::string_view data) override { return env_->Append(path_, inode_, generation_, data); }
  Status Flush() override { return Status::OK(); }
  Status Sync() override { return env_->Sync(path_, inode_, generation_); }
  Status Close() override { return Status::OK(); }

 private:
  FaultEnv* const env_;
  const std::string path_;  // the name it was opened under
  const std::shared_ptr<FaultEnv::Inode> inode_;
  const uint64_t generation_;
};

class FaultReadFile final : public SequentialFile, public RandomAccessFile {
 public:
  FaultReadFile(const FaultEnv* env, std::shared_ptr<FaultEnv::Inode> inode, uint64_t generation)
      : env_(env), inode_(std::move(inode)), generation_(generation) {}
  Status Read(size_t n, std::string_view* result, char* scratch) override {
    Status s = env_->Read(inode_, generation_, pos_, n, result, scratch);
    pos_ += result->size();
    return s;
  }
  Status Skip(uint64_t n) override {
    pos_ += n;
    return Status::OK();
  }
  Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    return env_->Read(inode_, generation_, offset, n, result, scratch);
  }

 private:
  const FaultEnv* const env_;
  const std::shared_ptr<FaultEnv::Inode> inode_;
  const uint64_t generation_;
  uint64_t pos_ = 0;
};

FaultEnv::FaultEnv(const Options& options)
    : rnd_(options.seed), keep_random_prefix_(options.keep_random_unsynced_prefix) {}

FaultEnv::~FaultEnv() = default;

Status FaultEnv::CheckAliveLocked(const std::string& what) {
  if (crashed_) return Status::IOError(what + ": machine crashed (FaultEnv)");
  return Status::OK();
}

Status FaultEnv::CountMutationLocked(const std::string& what) {
  KV_RETURN_IF_ERROR(CheckAliveLocked(what));
  if (ops_until_crash_ != kUnlimited) {
    if (ops_until_crash_ == 0) {
      crashed_ = true;
      return CheckAliveLocked(what);
    }
    --ops_until_crash_;
  }
  ++mutating_ops_;
  return Status::OK();
}

std::shared_ptr<FaultEnv::Inode> FaultEnv::FindLocked(const std::string& path) const {
  auto dir = live_.find(DirName(path));
  if (dir == live_.end()) return nullptr;
  auto it = dir->second.find(BaseName(path));
  return it == dir->second.end() ? nullptr : it->second;
}

Status FaultEnv::OpenForRead(const std::string& path, std::shared_ptr<Inode>* inode) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CheckAliveLocked("open " + path));
  *inode = FindLocked(path);
  if (*inode == nullptr) return Status::NotFound("open " + path + ": No such file or directory");
  return Status::OK();
}

Status FaultEnv::NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) {
  std::shared_ptr<Inode> inode;
  KV_RETURN_IF_ERROR(OpenForRead(path, &inode));
  base::MutexLock l(&mu_);
  *out = std::make_unique<FaultReadFile>(this, inode, generation_);
  return Status::OK();
}

Status FaultEnv::NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) {
  std::shared_ptr<Inode> inode;
  KV_RETURN_IF_ERROR(OpenForRead(path, &inode));
  base::MutexLock l(&mu_);
  *out = std::make_unique<FaultReadFile>(this, inode, generation_);
  return Status::OK();
}

Status FaultEnv::OpenForWrite(const std::string& path, bool truncate, std::unique_ptr<WritableFile>* out) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("open " + path));
  const std::string dir = DirName(path);
  if (dirs_.count(dir) == 0) return Status::NotFound("open " + path + ": No such file or directory");
  std::shared_ptr<Inode> inode = FindLocked(path);
  if (inode == nullptr || truncate) {
    inode = std::make_shared<Inode>();
    live_[dir][BaseName(path)] = inode;
  }
  *out = std::make_unique<FaultWritableFile>(this, path, inode, generation_);
  return Status::OK();
}

Status FaultEnv::NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  return OpenForWrite(path, /*truncate=*/true, out);
}

Status FaultEnv::NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  return OpenForWrite(path, /*truncate=*/false, out);
}

Status FaultEnv::Append(const std::string& path, const std::shared_ptr<Inode>& inode, uint64_t generation,
                        std::string_view data) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("write " + path));
  if (generation != generation_) return Status::IOError("write " + path + ": stale handle after power loss");
  if (space_limit_ != kUnlimited && Matches(path, space_filter_) &&
      BytesStoredLocked() + data.size() > space_limit_) {
    return Status::NoSpace("write " + path + ": No space left on device");
  }
  if (short_writes_ > 0 && Matches(path, short_write_filter_)) {
    --short_writes_;
    size_t half = data.size() / 2;
    inode->data.append(data.data(), half);
    bytes_written_ += half;
    return Status::IOError("write " + path + ": short write (" + std::to_string(half) + " of " +
                           std::to_string(data.size()) + " bytes)");
  }
  inode->data.append(data.data(), data.size());
  bytes_written_ += data.size();
  return Status::OK();
}

Status FaultEnv::Sync(const std::string& path, const std::shared_ptr<Inode>& inode, uint64_t generation) {
  uint64_t delay;
  {
    base::MutexLock l(&mu_);
    delay = sync_delay_micros_;
  }
  if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("fdatasync " + path));
  if (generation != generation_) return Status::IOError("fdatasync " + path + ": stale handle after power loss");
  if (sync_failure_ && Matches(path, sync_failure_filter_)) {
    return Status::IOError("fdatasync " + path + ": Input/output error");
  }
  // What was synced before stays synced; the whole current length becomes durable.
  inode->synced = inode->data.size();
  ++syncs_;
  return Status::OK();
}

Status FaultEnv::Read(const std::shared_ptr<Inode>& inode, uint64_t generation, uint64_t offset, size_t n,
                      std::string_view* result, char* scratch) const {
  base::MutexLock l(&mu_);
  *result = {};
  if (crashed_) return Status::IOError("read: machine crashed (FaultEnv)");
  if (generation != generation_) return Status::IOError("read: stale handle after power loss");
  if (offset >= inode->data.size()) return Status::OK();
  size_t len = std::min<uint64_t>(n, inode->data.size() - offset);
  std::memcpy(scratch, inode->data.data() + offset, len);
  *result = std::string_view(scratch, len);
  return Status::OK();
}

bool FaultEnv::FileExists(const std::string& path) {
  base::MutexLock l(&mu_);
  return FindLocked(path) != nullptr || dirs_.count(path) != 0;
}

Status FaultEnv::GetChildren(const std::string& dir, std::vector<std::string>* names) {
  base::MutexLock l(&mu_);
  names->clear();
  KV_RETURN_IF_ERROR(CheckAliveLocked("opendir " + dir));
  if (dirs_.count(dir) == 0) return Status::NotFound("opendir " + dir + ": No such file or directory");
  auto it = live_.find(dir);
  if (it != live_.end()) {
    for (const auto& entry : it->second) names->push_back(entry.first);
  }
  for (const auto& d : dirs_) {
    if (d != dir && DirName(d) == dir) names->push_back(BaseName(d));
  }
  return Status::OK();
}

Status FaultEnv::RemoveFile(const std::string& path) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("unlink " + path));
  auto dir = live_.find(DirName(path));
  if (dir == live_.end() || dir->second.count(BaseName(path)) == 0) {
    return Status::NotFound("unlink " + path + ": No such file or directory");
  }
  dir->second.erase(BaseName(path));
  return Status::OK();
}

Status FaultEnv::CreateDir(const std::string& dir) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("mkdir " + dir));
  dirs_.insert(dir);
  return Status::OK();
}

Status FaultEnv::RemoveDir(const std::string& dir) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("rmdir " + dir));
  if (dirs_.count(dir) == 0) return Status::NotFound("rmdir " + dir + ": No such file or directory");
  auto it = live_.find(dir);
  if (it != live_.end() && !it->second.empty()) return Status::IOError("rmdir " + dir + ": Directory not empty");
  dirs_.erase(dir);
  live_.erase(dir);
  durable_.erase(dir);
  return Status::OK();
}

Status FaultEnv::GetFileSize(const std::string& path, uint64_t* size) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CheckAliveLocked("stat " + path));
  auto inode = FindLocked(path);
  if (inode == nullptr) return Status::NotFound("stat " + path + ": No such file or directory");
  *size = inode->data.size();
  return Status::OK();
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("rename " + from + " to " + to));
  auto inode = FindLocked(from);
  if (inode == nullptr) return Status::NotFound("rename " + from + ": No such file or directory");
  if (dirs_.count(DirName(to)) == 0) return Status::NotFound("rename to " + to + ": No such file or directory");
  live_[DirName(from)].erase(BaseName(from));
  live_[DirName(to)][BaseName(to)] = inode;
  return Status::OK();
}

Status FaultEnv::SyncDir(const std::string& dir) {
  uint64_t delay;
  {
    base::MutexLock l(&mu_);
    delay = sync_delay_micros_;
  }
  if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CountMutationLocked("fsync directory " + dir));
  if (dirs_.count(dir) == 0) return Status::NotFound("open directory " + dir + ": No such file or directory");
  durable_[dir] = live_[dir];
  ++dir_syncs_;
  return Status::OK();
}

Status FaultEnv::LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) {
  base::MutexLock l(&mu_);
  KV_RETURN_IF_ERROR(CheckAliveLocked("lock " + path));
  if (locks_.count(path) != 0) return Status::Busy("lock " + path + ": already held by this process");
  if (dirs_.count(DirName(path)) == 0) return Status::NotFound("open lock file " + path + ": No such file or directory");
  if (FindLocked(path) == nullptr) {
    live_[DirName(path)][BaseName(path)] = std::make_shared<Inode>();
  }
  locks_.insert(path);
  *lock = std::make_unique<FaultLock>(path);
  return Status::OK();
}

Status FaultEnv::UnlockFile(std::unique_ptr<FileLock> lock) {
  base::MutexLock l(&mu_);
  locks_.erase(static_cast<FaultLock*>(lock.get())->path);
  return Status::OK();
}

void FaultEnv::SimulatePowerLoss() {
  base::MutexLock l(&mu_);
  live_ = durable_;
  for (auto& [dir, listing] : live_) {
    for (auto& [name, inode] : listing) {
      uint64_t keep = inode->synced;
      if (keep_random_prefix_ && inode->data.size() > keep) {
        keep += rnd_.Uniform(inode->data.size() - keep + 1);
      }
      inode->data.resize(keep);
      inode->synced = keep;
    }
  }
  locks_.clear();  // the process holding them died
  generation_++;
  crashed_ = false;
  ops_until_crash_ = kUnlimited;
}

void FaultEnv::SetSpaceLimit(uint64_t bytes, const std::string& path_filter) {
  base::MutexLock l(&mu_);
  space_limit_ = bytes;
  space_filter_ = path_filter;
}

void FaultEnv::SetSyncFailure(bool on, const std::string& path_filter) {
  base::MutexLock l(&mu_);
  sync_failure_ = on;
  sync_failure_filter_ = path_filter;
}

void FaultEnv::SetShortWrites(int count, const std::string& path_filter) {
  base::MutexLock l(&mu_);
  short_writes_ = count;
  short_write_filter_ = path_filter;
}

void FaultEnv::CrashAfterOps(uint64_t n) {
  base::MutexLock l(&mu_);
  ops_until_crash_ = n;
}

void FaultEnv::SetSyncDelayMicros(uint64_t micros) {
  base::MutexLock l(&mu_);
  sync_delay_micros_ = micros;
}

bool FaultEnv::crashed() const {
  base::MutexLock l(&mu_);
  return crashed_;
}

uint64_t FaultEnv::syncs() const {
  base::MutexLock l(&mu_);
  return syncs_;
}

uint64_t FaultEnv::dir_syncs() const {
  base::MutexLock l(&mu_);
  return dir_syncs_;
}

uint64_t FaultEnv::bytes_written() const {
  base::MutexLock l(&mu_);
  return bytes_written_;
}

uint64_t FaultEnv::mutating_ops() const {
  base::MutexLock l(&mu_);
  return mutating_ops_;
}

uint64_t FaultEnv::BytesStoredLocked() const {
  uint64_t total = 0;
  for (const auto& [dir, listing] : live_) {
    for (const auto& [name, inode] : listing) total += inode->data.size();
  }
  return total;
}

uint64_t FaultEnv::BytesStored() const {
  base::MutexLock l(&mu_);
  return BytesStoredLocked();
}

Status FaultEnv::ReadRaw(const std::string& path, std::string* data) const {
  base::MutexLock l(&mu_);
  auto inode = FindLocked(path);
  if (inode == nullptr) return Status::NotFound("read " + path + ": No such file or directory");
  *data = inode->data;
  return Status::OK();
}

Status FaultEnv::WriteRaw(const std::string& path, const std::string& data) {
  base::MutexLock l(&mu_);
  auto inode = FindLocked(path);
  if (inode == nullptr) return Status::NotFound("write " + path + ": No such file or directory");
  inode->data = data;
  inode->synced = data.size();
  return Status::OK();
}

}  // namespace kvring::base
