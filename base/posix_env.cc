// base/posix_env.cc — Env::Default(): the POSIX file system.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "base/env.h"

namespace kvring::base {

namespace {

Status PosixError(const std::string& context, int err) { return Status::FromErrno(context, err); }

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status Read(size_t n, std::string_view* result, char* scratch) override {
    while (true) {
      ssize_t r = ::read(fd_, scratch, n);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read " + path_, errno);
      }
      *result = std::string_view(scratch, static_cast<size_t>(r));
      return Status::OK();
    }
  }

  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) == static_cast<off_t>(-1)) {
      return PosixError("lseek " + path_, errno);
    }
    return Status::OK();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = std::string_view(scratch, done);
        return PosixError("pread " + path_ + " at offset " + std::to_string(offset + done), errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, done);
    return Status::OK();
  }

 private:
  const std::string path_;
  const int fd_;
};

// A file mapped into memory whole (read-only): reads are views into the
// mapping, no system call and no copy. Holds one of the Env's mapping slots.
class PosixMappedFile final : public RandomAccessFile {
 public:
  PosixMappedFile(const char* base, size_t size, std::atomic<int>* slots) : base_(base), size_(size), slots_(slots) {}
  ~PosixMappedFile() override {
    ::munmap(const_cast<char*>(base_), size_);
    slots_->fetch_add(1, std::memory_order_relaxed);
  }

  Status Read(uint64_t offset, size_t n, std::string_view* result, char* /*scratch*/) const override {
    if (offset >= size_) {
      *result = std::string_view();
    } else {
      *result = std::string_view(base_ + offset, std::min<uint64_t>(n, size_ - offset));
    }
    return Status::OK();
  }

  std::string_view mapped() const override { return std::string_view(base_, size_); }

 private:
  const char* const base_;
  const size_t size_;
  std::atomic<int>* const slots_;
};

// Buffers appends in user space (64 KiB) to save system calls on small records.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) { buf_.reserve(kBufferBytes); }
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close().IgnoreError();  // destructor cannot report; callers Close() first
  }

  Status Append(std::string_view data) override {
    if (buf_.size() + data.size() <= kBufferBytes) {
      buf_.append(data.data(), data.size());
      return Status::OK();
    }
    KV_RETURN_IF_ERROR(FlushBuffer());
    if (data.size() <= kBufferBytes) {
      buf_.append(data.data(), data.size());
      return Status::OK();
    }
    return WriteRaw(data.data(), data.size());
  }

  Status Flush() override { return FlushBuffer(); }

  Status Sync() override {
    KV_RETURN_IF_ERROR(FlushBuffer());
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync " + path_, errno);
    return Status::OK();
  }

  Status Close() override {
    Status s = FlushBuffer();
    if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = PosixError("close " + path_, errno);
    fd_ = -1;
    return s;
  }

 private:
  static constexpr size_t kBufferBytes = 64 * 1024;

  Status FlushBuffer() {
    Status s = WriteRaw(buf_.data(), buf_.size());
    buf_.clear();
    return s;
  }

  Status WriteRaw(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError("write " + path_, errno);
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::OK();
  }

  const std::string path_;
  int fd_;
  std::string buf_;
};

class PosixFileLock final : public FileLock {
 public:
  PosixFileLock(int fd, std::string path) : fd(fd), path(std::move(path)) {}
  int fd;
  std::string path;
};

class PosixEnv final : public Env {
 public:
  Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    *out = std::make_unique<PosixSequentialFile>(path, fd);
    return Status::OK();
  }

  Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    *out = std::make_unique<PosixRandomAccessFile>(path, fd);
    return Status::OK();
  }

  Status NewMappedRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    struct stat st;
    const bool sized = ::fstat(fd, &st) == 0 && st.st_size > 0;
    if (sized && sizeof(void*) >= 8 && TakeMappingSlot()) {
      const auto size = static_cast<size_t>(st.st_size);
      void* base = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      if (base != MAP_FAILED) {
        ::close(fd);  // the mapping keeps the file
        *out = std::make_unique<PosixMappedFile>(static_cast<const char*>(base), size, &mapping_slots_);
        return Status::OK();
      }
      mapping_slots_.fetch_add(1, std::memory_order_relaxed);  // fall back to pread
    }
    *out = std::make_unique<PosixRandomAccessFile>(path, fd);
    return Status::OK();
  }

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    return OpenForWrite(path, O_TRUNC, out);
  }

  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    return OpenForWrite(path, O_APPEND, out);
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir " + dir, errno);
    while (dirent* entry = ::readdir(d)) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      names->emplace_back(entry->d_name);
    }
    ::closedir(d);
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink " + path, errno);
    return Status::OK();
  }

  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError("mkdir " + dir, errno);
    return Status::OK();
  }

  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError("rmdir " + dir, errno);
    return Status::OK();
  }

  Status GetFileSize(const std::string& path, uint64_t* size) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat " + path, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename " + from + " to " + to, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open directory " + dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError("fsync directory " + dir, errno);
    ::close(fd);
    return s;
  }

  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    std::lock_guard<std::mutex> guard(mu_);
    if (locked_.count(path) != 0) return Status::Busy("lock " + path + ": already held by this process");
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open lock file " + path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return Status::Busy("lock " + path + ": held by another process");
      return PosixError("flock " + path, err);
    }
    locked_.insert(path);
    *lock = std::make_unique<PosixFileLock>(fd, path);
    return Status::OK();
  }

  Status UnlockFile(std::unique_ptr<FileLock> lock) override {
    auto* posix_lock = static_cast<PosixFileLock*>(lock.get());
    std::lock_guard<std::mutex> guard(mu_);
    locked_.erase(posix_lock->path);
    ::close(posix_lock->fd);  // closing releases the flock
    return Status::OK();
  }

 private:
  Status OpenForWrite(const std::string& path, int extra_flags, std::unique_ptr<WritableFile>* out) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | extra_flags, 0644);
    if (fd < 0) return PosixError("open " + path, errno);
    *out = std::make_unique<PosixWritableFile>(path, fd);
    return Status::OK();
  }

  // Files mapped at once are bounded (address space, the kernel's map count);
  // past the bound NewMappedRandomAccessFile falls back to pread.
  static constexpr int kMaxMappedFiles = 1000;

  bool TakeMappingSlot() {
    int n = mapping_slots_.load(std::memory_order_relaxed);
    while (n > 0 && !mapping_slots_.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
    }
    return n > 0;
  }

  std::mutex mu_;
  std::set<std::string> locked_;  // flock does not exclude a second open in one process
  std::atomic<int> mapping_slots_{kMaxMappedFiles};
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

}  // namespace kvring::base
