// base/fault_env.h — an in-memory Env for tests that models durability and
// injects faults.
//
// Durability model (what survives SimulatePowerLoss()):
//   - A file is an inode with bytes and a synced length; Sync() makes every byte
//     appended so far durable. A file opened with NewWritableFile is a fresh inode
//     (the old bytes under that name return after a power loss unless the directory
//     was synced after the re-creation).
//   - A directory has a live listing and a durable listing; SyncDir(dir) copies the
//     live listing to the durable one. Creations, renames and removals made after
//     the last SyncDir of their directory are lost by a power loss.
//   - Directories themselves are durable as soon as CreateDir returns.
// SimulatePowerLoss() reverts every directory to its durable listing and every
// file to its synced length (or, with keep_random_unsynced_prefix, to a random
// prefix of its unsynced tail), invalidates every open handle and clears a crash.
//
// Faults: a space limit (appends past it fail with NoSpace naming the path, and
// succeed again once the limit is raised or files are removed), failing syncs,
// short writes, and CrashAfterOps(n): after n more mutating operations every
// operation fails with IOError, as if the machine had died.
//
// Thread safety: thread-safe (one mutex). Handles need external synchronization
// like any SequentialFile/WritableFile.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/mutex.h"
#include "base/random.h"
#include "base/thread_annotations.h"

namespace kvring::base {

class FaultEnv final : public Env {
 public:
  static constexpr uint64_t kUnlimited = ~0ull;

  struct Options {
    uint64_t seed = 1;
    // On power loss keep a random prefix of each unsynced tail instead of none.
    bool keep_random_unsynced_prefix = false;
  };

  FaultEnv() : FaultEnv(Options()) {}
  explicit FaultEnv(const Options& options);
  ~FaultEnv() override;

  // --- Env ---
  Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) override;
  Status NewRandomAccessFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override;
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  bool FileExists(const std::string& path) override;
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;
  Status RemoveFile(const std::string& path) override;
  Status CreateDir(const std::string& dir) override;
  Status RemoveDir(const std::string& dir) override;
  Status GetFileSize(const std::string& path, uint64_t* size) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override;
  Status UnlockFile(std::unique_ptr<FileLock> lock) override;

  // --- Durability ---
  void SimulatePowerLoss();

  // --- Faults ---
  // Appends that would make the bytes stored in live files exceed `bytes` fail
  // with NoSpace ("write PATH: No space left on device") and write nothing.
  // With a path_filter, only appends to paths containing it are refused (a full
  // disk as seen by one kind of file).
  void SetSpaceLimit(uint64_t bytes, const std::string& path_filter = "");
  // While on, Sync() of files whose path contains `path_filter` fails with
  // IOError "fdatasync PATH: Input/output error"; their bytes stay unsynced.
  void SetSyncFailure(bool on, const std::string& path_filter = "");
  // The next `count` appends to paths containing `path_filter` write only the
  // first half of their data and then fail with IOError.
  void SetShortWrites(int count, const std::string& path_filter = "");
  // After n more mutating operations (create, append, sync, rename, remove,
  // sync-dir) every operation fails with IOError until SimulatePowerLoss().
  void CrashAfterOps(uint64_t n);
  // Each Sync()/SyncDir() sleeps this long (outside the lock), like a real disk.
  void SetSyncDelayMicros(uint64_t micros);
  bool crashed() const;

  // --- Counters ---
  uint64_t syncs() const;          // successful file syncs
  uint64_t dir_syncs() const;      // successful SyncDir calls
  uint64_t bytes_written() const;  // bytes appended
  uint64_t mutating_ops() const;   // operations counted by CrashAfterOps
  uint64_t BytesStored() const;    // bytes in live files

  // Test helpers that bypass faults: the live bytes of a file, and overwriting them
  // (used to corrupt files on purpose). The written bytes count as synced.
  Status ReadRaw(const std::string& path, std::string* data) const;
  Status WriteRaw(const std::string& path, const std::string& data);

  struct Inode;

 private:
  friend class FaultWritableFile;
  friend class FaultReadFile;
  using Listing = std::map<std::string, std::shared_ptr<Inode>>;  // name -> inode

  Status CheckAliveLocked(const std::string& what) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Status CountMutationLocked(const std::string& what) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<Inode> FindLocked(const std::string& path) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Status OpenForWrite(const std::string& path, bool truncate, std::unique_ptr<WritableFile>* out);
  Status OpenForRead(const std::string& path, std::shared_ptr<Inode>* inode);
  // File-handle operations (called by the handles).
  Status Append(const std::string& path, const std::shared_ptr<Inode>& inode, uint64_t generation,
                std::string_view data);
  Status Sync(const std::string& path, const std::shared_ptr<Inode>& inode, uint64_t generation);
  uint64_t BytesStoredLocked() const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Status Read(const std::shared_ptr<Inode>& inode, uint64_t generation, uint64_t offset, size_t n,
              std::string_view* result, char* scratch) const;

  mutable base::Mutex mu_;
  Random rnd_ GUARDED_BY(mu_);
  const bool keep_random_prefix_;
  std::set<std::string> dirs_ GUARDED_BY(mu_);
  std::map<std::string, Listing> live_ GUARDED_BY(mu_);     // dir -> listing
  std::map<std::string, Listing> durable_ GUARDED_BY(mu_);  // dir -> listing
  std::set<std::string> locks_ GUARDED_BY(mu_);
  uint64_t generation_ GUARDED_BY(mu_) = 1;  // bumped by power loss: old handles die
  uint64_t space_limit_ GUARDED_BY(mu_) = kUnlimited;
  std::string space_filter_ GUARDED_BY(mu_);
  bool sync_failure_ GUARDED_BY(mu_) = false;
  std::string sync_failure_filter_ GUARDED_BY(mu_);
  int short_writes_ GUARDED_BY(mu_) = 0;
  std::string short_write_filter_ GUARDED_BY(mu_);
  uint64_t ops_until_crash_ GUARDED_BY(mu_) = kUnlimited;
  bool crashed_ GUARDED_BY(mu_) = false;
  uint64_t sync_delay_micros_ GUARDED_BY(mu_) = 0;
  uint64_t syncs_ GUARDED_BY(mu_) = 0;
  uint64_t dir_syncs_ GUARDED_BY(mu_) = 0;
  uint64_t bytes_written_ GUARDED_BY(mu_) = 0;
  uint64_t mutating_ops_ GUARDED_BY(mu_) = 0;
};

}  // namespace kvring::base
