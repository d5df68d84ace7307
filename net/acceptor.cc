#include "net/acceptor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace kvring::net {

using base::Status;

namespace {

constexpr int kMaxAcceptsPerWakeup = 64;
constexpr uint64_t kRetryUs = 100'000;       // after an accept error; and while short of descriptors
constexpr uint64_t kLogEveryUs = 1'000'000;  // at most one line a second
constexpr size_t kRefusalsPerTry = 2;        // waiting clients told Busy per shortage and per retry

bool IsOutOfDescriptors(int error_number) { return error_number == EMFILE || error_number == ENFILE; }

void Bump(std::atomic<uint64_t>* c) { c->fetch_add(1, std::memory_order_relaxed); }

}  // namespace

Acceptor::Acceptor(EventLoop* loop, UniqueFd listen_fd, int spare_fds, Callbacks callbacks,
                   AcceptCounters* counters)
    : loop_(loop),
      fd_(std::move(listen_fd)),
      spare_count_(static_cast<size_t>(std::max(spare_fds, 0))),
      callbacks_(std::move(callbacks)),
      counters_(counters) {}

Acceptor::~Acceptor() {
  loop_->CancelTimer(retry_timer_);
  UnwatchSocket();
  counters_->waiting_for_fd.store(false, std::memory_order_relaxed);
}

Status Acceptor::Start() {
  if (!RefillSpares()) {
    return Status::IOError(std::string("open /dev/null for spare descriptors: ") + std::strerror(errno));
  }
  return WatchSocket();
}

Status Acceptor::WatchSocket() {
  Status s = loop_->Watch(fd_.get(), kReadable, this);
  watching_ = s.ok();
  return s;
}

void Acceptor::UnwatchSocket() {
  if (!watching_) return;
  loop_->Unwatch(fd_.get());
  watching_ = false;
}

base::Result<UniqueFd> Acceptor::AcceptNext(SocketAddress* peer, int* error_number) {
  auto fd = Accept(fd_.get(), peer, error_number);
  if (!fd.ok()) {
    Bump(&counters_->errors);
    ++unlogged_errors_;
  }
  return fd;
}

void Acceptor::OnFdEvents(uint32_t /*events*/) {
  for (int i = 0; i < kMaxAcceptsPerWakeup && watching_; ++i) {
    SocketAddress peer;
    int error_number = 0;
    auto fd = AcceptNext(&peer, &error_number);
    if (!fd.ok()) {
      if (IsOutOfDescriptors(error_number)) {
        EnterShortage(fd.status());
      } else {
        PauseAfterError(fd.status());
      }
      return;
    }
    if (!fd->valid()) return;  // nothing more waiting
    callbacks_.on_new(std::move(fd.value()), peer);
    // That connection may have taken the last descriptor: stop before the rest of
    // the process finds none (the spares are no use to it while we hold them).
    if (!HasFreeDescriptors(1)) {
      EnterShortage(Status::IOError("no descriptor left after accepting a connection (" +
                                    std::string(std::strerror(EMFILE)) + ")"));
      return;
    }
  }
}

void Acceptor::EnterShortage(const Status& why) {
  Bump(&counters_->shortages);
  UnwatchSocket();
  short_ = true;
  counters_->waiting_for_fd.store(true, std::memory_order_relaxed);
  spares_.clear();  // the rest of the process may use them now
  LogThrottled(why);
  RefuseWaiting();
  ArmRetryTimer();
}

void Acceptor::PauseAfterError(const Status& error) {
  UnwatchSocket();
  LogThrottled(error);
  ArmRetryTimer();
}

// A client left in the backlog would see its HELLO go unanswered: accept a few,
// on descriptors the spares left free, to tell them Busy.
void Acceptor::RefuseWaiting() {
  const size_t refusals = std::min(kRefusalsPerTry, spare_count_);
  for (size_t i = 0; i < refusals && callbacks_.may_refuse(); ++i) {
    SocketAddress peer;
    auto fd = AcceptNext(&peer, nullptr);
    if (!fd.ok() || !fd->valid()) return;
    Bump(&counters_->refused_no_fds);
    ++unlogged_refusals_;
    callbacks_.on_refuse(std::move(fd.value()), peer);
  }
  if (unlogged_refusals_ > 0) LogThrottled(Status::FromErrno("accept", EMFILE));
}

void Acceptor::DescriptorFreed() {
  if (short_) TryResume();
}

void Acceptor::TryResume() {
  if (watching_) return;
  if (short_) {
    // Accept again only with the spares back and a quarter as many free besides.
    const bool room = RefillSpares() && HasFreeDescriptors(std::max<size_t>(spare_count_ / 4, 1));
    if (!room) {
      spares_.clear();  // while short the free descriptors are the rest of the process's
      RefuseWaiting();
      ArmRetryTimer();
      return;
    }
    short_ = false;
    counters_->waiting_for_fd.store(false, std::memory_order_relaxed);
  }
  loop_->CancelTimer(retry_timer_);
  retry_timer_ = kNoTimer;
  Status s = WatchSocket();
  if (!s.ok()) {
    LOG_ERROR(loop_->logger(), "net: cannot resume accepting: %s", s.ToString().c_str());
    ArmRetryTimer();
  }
}

// True once all spare_count_ spares are held (keeps what it got otherwise).
bool Acceptor::RefillSpares() {
  while (spares_.size() < spare_count_) {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return false;
    spares_.push_back(std::move(fd));
  }
  return true;
}

// Whether the process could open n more descriptors now (opens and closes them).
bool Acceptor::HasFreeDescriptors(size_t n) const {
  std::vector<UniqueFd> probe;
  probe.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    UniqueFd fd(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd.valid()) return !IsOutOfDescriptors(errno);
    probe.push_back(std::move(fd));
  }
  return true;
}

void Acceptor::ArmRetryTimer() {
  if (retry_timer_ != kNoTimer) return;
  retry_timer_ = loop_->RunAfter(kRetryUs, [this] {
    retry_timer_ = kNoTimer;
    TryResume();
  });
}

void Acceptor::LogThrottled(const Status& why) {
  const uint64_t now = loop_->clock()->NowMicros();
  if (last_log_us_ != 0 && now - last_log_us_ < kLogEveryUs) return;
  LOG_WARN(loop_->logger(), "net: %s: %s (%llu clients refused with Busy and %llu accept calls failed since the "
           "last such line)",
           short_ ? "out of file descriptors" : "cannot accept",
           (why.ToString() + (short_ ? "; not accepting until one frees up" : "; not accepting for 100ms")).c_str(),
           static_cast<unsigned long long>(unlogged_refusals_), static_cast<unsigned long long>(unlogged_errors_));
  last_log_us_ = now;
  unlogged_errors_ = 0;
  unlogged_refusals_ = 0;
}

}  // namespace kvring::net
