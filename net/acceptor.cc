#include "net/acceptor.h"

namespace kvring::net {

namespace {

constexpr int kMaxAcceptsPerWakeup = 64;
constexpr uint64_t kPauseAfterErrorUs = 100'000;

}  // namespace

Acceptor::Acceptor(EventLoop* loop, UniqueFd listen_fd, NewConnection on_new)
    : loop_(loop), fd_(std::move(listen_fd)), on_new_(std::move(on_new)) {}

Acceptor::~Acceptor() {
  loop_->CancelTimer(resume_timer_);
  if (watching_) loop_->Unwatch(fd_.get());
}

base::Status Acceptor::Start() {
  base::Status s = loop_->Watch(fd_.get(), kReadable, this);
  watching_ = s.ok();
  return s;
}

void Acceptor::OnFdEvents(uint32_t /*events*/) {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    SocketAddress peer;
    auto fd = Accept(fd_.get(), &peer);
    if (!fd.ok()) {
      PauseAfterError(fd.status());
      return;
    }
    if (!fd->valid()) return;  // nothing more waiting
    on_new_(std::move(fd.value()), peer);
  }
}

void Acceptor::PauseAfterError(const base::Status& error) {
  LOG_WARN(loop_->logger(), "net: %s; not accepting for %llums", error.ToString().c_str(),
           static_cast<unsigned long long>(kPauseAfterErrorUs / 1000));
  loop_->Unwatch(fd_.get());
  watching_ = false;
  resume_timer_ = loop_->RunAfter(kPauseAfterErrorUs, [this] {
    resume_timer_ = kNoTimer;
    base::Status s = Start();
    if (!s.ok()) LOG_ERROR(loop_->logger(), "net: cannot resume accepting: %s", s.ToString().c_str());
  });
}

}  // namespace kvring::net
