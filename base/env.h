// base/env.h — the file-system interface. Every file the engine, hints or
// membership code touches goes through an Env, so tests can inject faults (EIO on
// fdatasync, ENOSPC, short writes) and simulate power loss by dropping whatever
// was not synced. Env::Default() is the POSIX one; base/fault_env.h the test one.
// Thread safety: an Env is thread-safe. A RandomAccessFile (mapped or not) is thread-safe; a
// SequentialFile or WritableFile needs external synchronization.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kvring::base {

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes. *result points into scratch (or other stable memory).
  // A short (even empty) result with OK status means end of file.
  virtual Status Read(size_t n, std::string_view* result, char* scratch) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset; short read at end of file. Safe from many threads.
  virtual Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const = 0;
  // The whole file when it is memory-mapped (see Env::NewMappedRandomAccessFile):
  // valid as long as this object, and Read results then point into it instead
  // of scratch. Empty for a file that is read with system calls.
  virtual std::string_view mapped() const { return {}; }
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Pushes buffered bytes to the OS (not to the disk).
  virtual Status Flush() = 0;
  // Makes every appended byte durable (flush + fdatasync). After a failed Sync the
  // caller must not treat any unsynced byte as durable.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

// A held lock on a file; released by Env::UnlockFile.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) = 0;
  virtual Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) = 0;
  // Like NewRandomAccessFile, for a file that is complete and never changes
  // while it is open (an SSTable): the Env may map it into memory (then the
  // file's mapped() is its contents and reads copy nothing). Env::Default maps
  // up to a fixed number of files at once and reads the others with pread; the
  // default implementation is NewRandomAccessFile.
  virtual Status NewMappedRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) {
    return NewRandomAccessFile(path, out);
  }
  // Creates or truncates.
  virtual Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) = 0;
  // Creates or appends to an existing file.
  virtual Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries of dir, without "." and "..".
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // OK when the directory already exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Status RemoveDir(const std::string& dir) = 0;
  virtual Status GetFileSize(const std::string& path, uint64_t* size) = 0;
  // Atomically replaces `to` if it exists.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes creations, renames and removals in dir durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Takes an exclusive advisory lock (also against other processes). Busy when
  // someone else holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;
  virtual Status UnlockFile(std::unique_ptr<FileLock> lock) = 0;

  // The POSIX file system. Stateless apart from the open-file bookkeeping; never deleted.
  static Env* Default();
};

// Helpers over any Env.
Status ReadFileToString(Env* env, const std::string& path, std::string* data);
// Writes data to path.tmp, syncs it, renames over path and syncs the directory.
Status WriteStringToFileAtomic(Env* env, std::string_view data, const std::string& path);
// "dir/name" joined with exactly one slash.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of a path ("." when there is none).
std::string DirName(std::string_view path);
// Removes dir and everything below it (tests and `kvnode --wipe` style tools).
Status RemoveDirRecursively(Env* env, const std::string& dir);

}  // namespace kvring::base
