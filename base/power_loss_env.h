// base/power_loss_env.h — an Env over the real one that keeps, for every file
// this process writes, how many of its bytes are durable (fdatasynced), so a
// test can make a running process lose power: PowerLoss() refuses every later
// write, cuts each file back to what it synced (a file this process truncated
// and rewrote: to what it synced since) and removes the files it created and
// never synced, as a machine whose page cache vanished; the caller then
// exits at once (_exit). kvnode's test-power-loss control file
// (node/test_hooks.h) and the nemesis's power-loss fault use it: kill -9 alone
// keeps every byte a process handed the OS.
//
// Not modelled: directory entries (a created, renamed or removed name whose
// directory was not synced stays as it is), torn sectors, and files written
// before this process started (their bytes count as synced).
// Thread safety: thread-safe; its files need external synchronization like any.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

#include "base/env_wrapper.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace kvring::base {

class PowerLossEnv final : public EnvWrapper {
 public:
  explicit PowerLossEnv(Env* target) : EnvWrapper(target) {}

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;

  // Loses every unsynced byte now: later writes fail with IOError "power lost";
  // each tracked file is truncated to its synced length, or removed when this
  // process created it and never synced it. Returns the first error met (the
  // others are still attempted). Call once, then _exit.
  Status PowerLoss();

  // What a file may lose (for tests and the log line).
  struct FileState {
    uint64_t written = 0;  // bytes appended (plus the size it had when opened)
    uint64_t synced = 0;   // bytes durable
    bool created = false;  // created empty by this process
    bool ever_synced = false;
  };
  // The tracked files (path -> state) as of now.
  std::map<std::string, FileState> Files() const;

  // For the files: the shared side of the lock that PowerLoss takes exclusively,
  // so no write slips past the cut.
  std::shared_mutex& cut_lock() { return cut_; }
  bool lost() const { return lost_; }  // REQUIRES: cut_lock() held (either side)
  void NoteAppend(const std::string& path, uint64_t bytes);
  void NoteSync(const std::string& path);

 private:
  Status Track(const std::string& path, bool created, bool truncated, Status s, std::unique_ptr<WritableFile>* out);

  std::shared_mutex cut_;
  bool lost_ = false;  // guarded by cut_
  mutable Mutex mu_;
  std::map<std::string, FileState> files_ GUARDED_BY(mu_);
};

}  // namespace kvring::base
