// net/flush_list.h — the connections of one loop that have output waiting.
// A connection adds itself when it first gets output in an iteration; the loop's
// before-sleep hook then flushes each one with a single write(), so every reply
// produced during one wake-up leaves in one system call per connection.
// Thread safety: loop thread only.
#pragma once

#include <vector>

#include "net/event_loop.h"

namespace kvring::net {

class Connection;

class FlushList {
 public:
  // Registers the before-sleep hook on *loop. REQUIRES: on the loop thread.
  explicit FlushList(EventLoop* loop);
  ~FlushList();  // REQUIRES: on the loop thread (or the loop has stopped)
  FlushList(const FlushList&) = delete;
  FlushList& operator=(const FlushList&) = delete;

  void Add(Connection* conn) { pending_.push_back(conn); }
  // Forgets conn (it is closing). Cheap: only connections with pending output are here.
  void Remove(Connection* conn);
  // Flushes every pending connection once; connections added while flushing (a
  // resumed connection that produced more replies) are flushed in the same pass.
  void FlushAll();

 private:
  EventLoop* const loop_;
  EventLoop::HookId hook_;
  std::vector<Connection*> pending_;
  std::vector<Connection*> flushing_;
};

}  // namespace kvring::net
