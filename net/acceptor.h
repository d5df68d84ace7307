// net/acceptor.h — accepts connections on a listening socket for its event loop.
// Each readable wake-up accepts up to a batch of connections and hands each to the
// callback. When the process runs out of descriptors (EMFILE/ENFILE) the acceptor
// stops watching for a short pause instead of spinning on a level-triggered
// listener it cannot serve, and logs why.
// Thread safety: loop thread only.
#pragma once

#include <functional>

#include "net/event_loop.h"
#include "net/socket.h"

namespace kvring::net {

class Acceptor final : public FdHandler {
 public:
  using NewConnection = std::function<void(UniqueFd fd, const SocketAddress& peer)>;

  Acceptor(EventLoop* loop, UniqueFd listen_fd, NewConnection on_new);
  ~Acceptor() override;  // stops listening (closes the socket)
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  base::Status Start();
  void OnFdEvents(uint32_t events) override;

 private:
  void PauseAfterError(const base::Status& error);

  EventLoop* const loop_;
  UniqueFd fd_;
  NewConnection on_new_;
  TimerId resume_timer_ = kNoTimer;
  bool watching_ = false;
};

}  // namespace kvring::net
