// net/socket.h — TCP addresses and the few socket calls kvring makes: non-blocking
// listen/accept/connect, TCP_NODELAY, SO_ERROR, and an owning fd wrapper.
//
// Addresses are "HOST:PORT" where HOST is a numeric IPv4 address, "localhost", or a
// bracketed IPv6 address ("[::1]:7000"). Names are never resolved through DNS here:
// an event loop must not block on a resolver. Errors name the input and the problem
// ("bad address '1.2.3.4': expected HOST:PORT").
// Thread safety: values and free functions; a UniqueFd needs external synchronization.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kvring::net {

class SocketAddress {
 public:
  SocketAddress() = default;
  // Parses "HOST:PORT" (port 0..65535; 0 asks the kernel for a free port when listening).
  static base::Result<SocketAddress> Parse(std::string_view host_port);
  // Parses a host alone ("127.0.0.2", "[::1]", "localhost") or a "HOST:PORT" whose port
  // is then replaced: used for a source address to bind outgoing connections to.
  static base::Result<SocketAddress> ParseHost(std::string_view host, uint16_t port);
  static SocketAddress FromSockaddr(const sockaddr* sa, socklen_t len);

  bool valid() const { return len_ != 0; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  void set_port(uint16_t port);
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return len_; }
  // "127.0.0.1:7000" or "[::1]:7000".
  std::string ToString() const;
  // 127.0.0.0/8 or ::1: reachable from this machine only.
  bool IsLoopback() const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

// Owns a file descriptor and closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct ListenOptions {
  bool reuse_port = false;  // SO_REUSEPORT: several sockets share the port
  int backlog = 1024;
};

// A non-blocking, close-on-exec listening socket with SO_REUSEADDR.
// Errors read "listen on 127.0.0.1:7000: bind: Address already in use".
base::Result<UniqueFd> Listen(const SocketAddress& addr, const ListenOptions& options = {});

// Accepts one connection as a non-blocking, close-on-exec fd with TCP_NODELAY set.
// Returns an invalid UniqueFd when no connection is waiting (EAGAIN) and an error
// for real failures (EMFILE, ENFILE, ENOBUFS, ...), whose errno goes to
// *error_number when given; transient per-connection errors (ECONNABORTED, EINTR)
// also yield an invalid fd.
base::Result<UniqueFd> Accept(int listen_fd, SocketAddress* peer, int* error_number = nullptr);

// Starts a non-blocking connect with TCP_NODELAY. *in_progress is true when the
// connect completes later: wait for writability, then check SocketError(). When
// source is valid, the socket is bound to it first (its port is normally 0).
base::Result<UniqueFd> Connect(const SocketAddress& to, const SocketAddress* source, bool* in_progress);

// The pending error of a socket (SO_ERROR), as a Status naming `what`.
base::Status SocketError(int fd, std::string_view what);
base::Status SetNoDelay(int fd);
base::Status SetNonBlocking(int fd, bool on);
base::Result<SocketAddress> LocalAddress(int fd);

}  // namespace kvring::net
