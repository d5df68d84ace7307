#include "net/flush_list.h"

#include "net/connection.h"

namespace kvring::net {

FlushList::FlushList(EventLoop* loop) : loop_(loop) {
  hook_ = loop_->AddBeforeSleep([this] { FlushAll(); });
}

FlushList::~FlushList() { loop_->RemoveBeforeSleep(hook_); }

void FlushList::Remove(Connection* conn) {
  for (auto& c : pending_) {
    if (c == conn) c = nullptr;
  }
  for (auto& c : flushing_) {
    if (c == conn) c = nullptr;
  }
}

void FlushList::FlushAll() {
  while (!pending_.empty()) {
    flushing_.swap(pending_);
    // Index loop: Remove() may null entries while a flush runs.
    for (size_t i = 0; i < flushing_.size(); ++i) {
      Connection* conn = flushing_[i];
      if (conn != nullptr) conn->FlushFromList();
    }
    flushing_.clear();
  }
}

}  // namespace kvring::net
