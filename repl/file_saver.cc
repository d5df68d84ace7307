#include "repl/file_saver.h"

namespace kvring::repl {

FileSaver::FileSaver(std::string path, std::string what, base::Env* env, Executor* io, base::Logger* logger)
    : state_(std::make_shared<State>()), io_(io) {
  state_->path = std::move(path);
  state_->what = std::move(what);
  state_->env = env;
  state_->logger = logger;
}

void FileSaver::Save(std::string bytes) {
  {
    base::MutexLock l(&state_->mu);
    state_->next = std::move(bytes);
    if (state_->writing) return;  // the running drain writes it next
    state_->writing = true;
  }
  io_->Post([st = state_] { Drain(st); });
}

bool FileSaver::idle() const {
  base::MutexLock l(&state_->mu);
  return !state_->writing;
}

void FileSaver::Drain(const std::shared_ptr<State>& st) {
  while (true) {
    std::string bytes;
    {
      base::MutexLock l(&st->mu);
      if (!st->next) {
        st->writing = false;
        return;
      }
      bytes = std::move(*st->next);
      st->next.reset();
    }
    base::Status s = base::WriteStringToFileAtomic(st->env, bytes, st->path);
    if (!s.ok()) {
      LOG_ERROR(st->logger, "cannot save the %s to %s: %s", st->what.c_str(), st->path.c_str(), s.ToString().c_str());
    }
  }
}

}  // namespace kvring::repl
