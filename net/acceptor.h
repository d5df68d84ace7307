// net/acceptor.h — accepts connections on a listening socket for its event loop.
// Each readable wake-up accepts up to a batch of connections and hands each to the
// callback.
//
// Descriptors. Out of them (EMFILE/ENFILE), a level-triggered listener that cannot
// be served would spin, clients would connect (the kernel completes the
// handshake) only to see their HELLO go unanswered, and the storage engine could
// not open its next WAL. So the acceptor holds `spare_fds` descriptors (on
// /dev/null, opened at Start) while it accepts, checks after each accepted
// connection that the process still has a descriptor left, and when it has not
// (or accept fails with EMFILE/ENFILE) it enters a shortage:
//   - it stops watching the socket and releases the spares: the rest of the
//     process (the engine above all) can open that many files;
//   - it accepts up to two waiting clients on them and hands them to on_refuse
//     (the server answers Busy and closes), then two more on each retry, as long
//     as may_refuse agrees (a refusal holds its descriptor until the client has
//     read it: the server allows a few at a time);
//   - it retries when DescriptorFreed() is called (a connection closed) and every
//     100 ms, and accepts again only once it can take its spares back with a
//     quarter as many descriptors free besides (hysteresis: a connection or two
//     closing does not make it flap).
// Other accept errors (ENOBUFS, ENOMEM) pause accepting for 100 ms. These events
// are logged at most once a second, with how many clients were refused and how
// many accept calls failed since the last line.
//
// Thread safety: loop thread only; AcceptCounters may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "net/event_loop.h"
#include "net/socket.h"

namespace kvring::net {

// Written on the acceptor's loop, read by any thread (Server::stats).
struct AcceptCounters {
  std::atomic<uint64_t> errors{0};          // accept calls that failed
  std::atomic<uint64_t> shortages{0};       // times accepting stopped for lack of descriptors
  std::atomic<uint64_t> refused_no_fds{0};  // clients accepted on a spare descriptor to be refused
  std::atomic<bool> waiting_for_fd{false};  // in a shortage
};

class Acceptor final : public FdHandler {
 public:
  using NewConnection = std::function<void(UniqueFd fd, const SocketAddress& peer)>;
  struct Callbacks {
    NewConnection on_new;
    NewConnection on_refuse;          // a client accepted in a shortage: answer Busy and close
    std::function<bool()> may_refuse;  // whether to take another client to refuse (else it waits)
  };

  // spare_fds: descriptors held back for a shortage (0: none). *counters must
  // outlive the acceptor.
  Acceptor(EventLoop* loop, UniqueFd listen_fd, int spare_fds, Callbacks callbacks, AcceptCounters* counters);
  ~Acceptor() override;  // stops listening (closes the socket and the spares)
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Opens the spare descriptors and starts watching the socket.
  base::Status Start();
  void OnFdEvents(uint32_t events) override;
  // A descriptor was closed (a connection ended): in a shortage, tries to resume.
  void DescriptorFreed();

 private:
  void EnterShortage(const base::Status& why);
  void PauseAfterError(const base::Status& error);
  // One waiting connection (an invalid fd when none waits); a failure is counted.
  base::Result<UniqueFd> AcceptNext(SocketAddress* peer, int* error_number);
  void RefuseWaiting();
  void TryResume();
  bool RefillSpares();
  bool HasFreeDescriptors(size_t n) const;
  void ArmRetryTimer();
  void LogThrottled(const base::Status& why);
  base::Status WatchSocket();
  void UnwatchSocket();

  EventLoop* const loop_;
  UniqueFd fd_;
  const size_t spare_count_;
  Callbacks callbacks_;
  AcceptCounters* const counters_;
  std::vector<UniqueFd> spares_;  // open on /dev/null while accepting
  TimerId retry_timer_ = kNoTimer;
  bool watching_ = false;
  bool short_ = false;        // in a shortage (see above)
  uint64_t last_log_us_ = 0;  // the throttled line
  uint64_t unlogged_errors_ = 0;
  uint64_t unlogged_refusals_ = 0;
};

}  // namespace kvring::net
