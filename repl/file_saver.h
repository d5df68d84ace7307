// repl/file_saver.h — keeps a small state file (DATA/membership_op) up to date
// off the event loop: each Save hands the file's newest bytes to an I/O
// executor, which writes them whole (base::WriteStringToFileAtomic: a temporary
// file, fsync, rename). One write at a time, in the order given; bytes given
// while one is in flight replace each other, so a burst of saves costs at most
// two writes and the file always ends with the newest. A write queued when the
// owner goes away still happens (the executor holds what it needs), so a state
// change saved just before a shutdown is not lost as long as the executor drains
// its queue (base::ThreadPool does).
// Thread safety: Save and idle from one thread (the owner's loop); the writes run
// on the executor's thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/env.h"
#include "base/logging.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "repl/transport.h"

namespace kvring::repl {

class FileSaver {
 public:
  // *env, *io and *logger must outlive every write (the node's I/O pool drains
  // before they go). `what` names the file in errors ("membership operation").
  FileSaver(std::string path, std::string what, base::Env* env, Executor* io, base::Logger* logger);
  FileSaver(const FileSaver&) = delete;
  FileSaver& operator=(const FileSaver&) = delete;

  void Save(std::string bytes);
  // No write queued or running (tests).
  bool idle() const;

 private:
  struct State {
    std::string path, what;
    base::Env* env;
    base::Logger* logger;
    mutable base::Mutex mu;
    std::optional<std::string> next GUARDED_BY(mu);
    bool writing GUARDED_BY(mu) = false;
  };
  static void Drain(const std::shared_ptr<State>& st);

  const std::shared_ptr<State> state_;
  Executor* const io_;
};

}  // namespace kvring::repl
