// node/disk_guard.cc — DiskGuard: entering read-only mode on NoSpace, and the
// periodic probe and retries that leave it (node/disk_guard.h).
#include "node/disk_guard.h"

#include <cinttypes>

namespace kvring::node {

using base::Status;

DiskGuard::DiskGuard(base::Env* target, std::string data_dir, base::Clock* clock, base::Logger* logger)
    : data_dir_(std::move(data_dir)),
      target_(target),
      clock_(clock),
      logger_(logger),
      env_(target, [this](const Status& s) { OnFailedWrite(s); }) {}

Status DiskGuard::Refusal() const {
  return Status::NoSpace("this node's disk is full (" + data_dir_ + "): it serves reads only");
}

void DiskGuard::OnFailedWrite(const Status& cause) {
  if (!cause.IsNoSpace()) return;
  {
    base::MutexLock l(&mu_);
    if (read_only()) return;
    cause_ = cause.ToString();
    since_us_ = clock_->NowMicros();
    entries_++;
    read_only_.store(true, std::memory_order_release);
  }
  LOG_ERROR(logger_, "disk full: %s: this node is now read-only: it serves reads and refuses writes until %s "
            "has room again (checked every second)", cause.ToString().c_str(), data_dir_.c_str());
}

void DiskGuard::AddRetry(std::string what, std::function<Status()> retry) {
  base::MutexLock l(&mu_);
  retries_.push_back({std::move(what), std::move(retry)});
}

void DiskGuard::Check() {
  if (!read_only() || checking_.exchange(true)) return;
  Status s = WriteProbe();
  if (s.ok()) s = RunRetries();
  if (s.ok()) Leave();
  checking_.store(false);
}

Status DiskGuard::WriteProbe() {
  // Through the target: a probe that fails is the expected answer, not news.
  const std::string path = base::JoinPath(data_dir_, kProbeFileName);
  std::unique_ptr<base::WritableFile> file;
  Status s = target_->NewWritableFile(path, &file);
  const std::string block(64 << 10, '\0');
  for (uint64_t done = 0; s.ok() && done < kProbeBytes; done += block.size()) s = file->Append(block);
  if (s.ok()) s = file->Flush();
  if (file != nullptr) {
    Status c = file->Close();
    if (s.ok()) s = c;
  }
  target_->RemoveFile(path).IgnoreError();  // a leftover is overwritten by the next probe
  return s;
}

Status DiskGuard::RunRetries() {
  std::vector<Retry> pending;
  {
    base::MutexLock l(&mu_);
    pending.swap(retries_);
  }
  Status first;
  std::vector<Retry> failed;
  for (Retry& r : pending) {
    Status s = r.fn();
    if (s.ok()) {
      LOG_INFO(logger_, "disk: %s written now", r.what.c_str());
      continue;
    }
    if (first.ok()) first = s;
    failed.push_back(std::move(r));
  }
  base::MutexLock l(&mu_);
  for (Retry& r : failed) retries_.push_back(std::move(r));
  return first;
}

void DiskGuard::Leave() {
  uint64_t ms;
  {
    base::MutexLock l(&mu_);
    ms = (clock_->NowMicros() - since_us_) / 1000;
    read_only_.store(false, std::memory_order_release);
  }
  LOG_WARN(logger_, "disk: %s has room again (a %" PRIu64 " KiB probe file was written): leaving read-only mode "
           "after %" PRIu64 " ms, writes are accepted", data_dir_.c_str(), kProbeBytes >> 10, ms);
}

std::string DiskGuard::StatsText() const {
  base::MutexLock l(&mu_);
  const uint64_t ms = read_only() ? (clock_->NowMicros() - since_us_) / 1000 : 0;
  char buf[160];
  std::snprintf(buf, sizeof(buf), "disk_read_only %d\ndisk_full_events %" PRIu64 "\ndisk_read_only_ms %" PRIu64 "\n",
                read_only() ? 1 : 0, entries_, ms);
  return buf;
}

}  // namespace kvring::node
