#include "net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kvring::net {

using base::Status;

namespace {

bool ParsePort(std::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

// Splits "HOST:PORT" / "[V6]:PORT"; host keeps no brackets. False when malformed.
bool SplitHostPort(std::string_view in, std::string_view* host, std::string_view* port, bool* bracketed) {
  *bracketed = false;
  if (!in.empty() && in[0] == '[') {
    size_t close = in.find(']');
    if (close == std::string_view::npos || close + 1 >= in.size() || in[close + 1] != ':') return false;
    *host = in.substr(1, close - 1);
    *port = in.substr(close + 2);
    *bracketed = true;
    return true;
  }
  size_t colon = in.rfind(':');
  if (colon == std::string_view::npos || in.find(':') != colon) return false;
  *host = in.substr(0, colon);
  *port = in.substr(colon + 1);
  return true;
}

bool FillHost(std::string_view host, bool bracketed, uint16_t port, sockaddr_storage* ss, socklen_t* len) {
  std::string h(host);
  if (h == "localhost") h = "127.0.0.1";
  std::memset(ss, 0, sizeof(*ss));
  if (!bracketed) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
    if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) != 1) return false;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) != 1) return false;
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(port);
  *len = sizeof(sockaddr_in6);
  return true;
}

Status BadAddress(std::string_view input, std::string_view why) {
  return Status::InvalidArgument("bad address '" + std::string(input) + "': " + std::string(why));
}

}  // namespace

base::Result<SocketAddress> SocketAddress::Parse(std::string_view host_port) {
  std::string_view host, port_text;
  bool bracketed;
  if (!SplitHostPort(host_port, &host, &port_text, &bracketed)) {
    return BadAddress(host_port, "expected HOST:PORT (IPv6 as [ADDR]:PORT)");
  }
  uint16_t port;
  if (!ParsePort(port_text, &port)) return BadAddress(host_port, "port must be a number from 0 to 65535");
  if (host.empty()) return BadAddress(host_port, "missing host");
  SocketAddress a;
  if (!FillHost(host, bracketed, port, &a.storage_, &a.len_)) {
    return BadAddress(host_port, "host must be a numeric IP address or 'localhost' (names are not resolved)");
  }
  return a;
}

base::Result<SocketAddress> SocketAddress::ParseHost(std::string_view host, uint16_t port) {
  std::string_view h = host, ignored;
  bool bracketed = false;
  if (SplitHostPort(host, &h, &ignored, &bracketed)) {
    // "HOST:PORT": keep the host only.
  } else if (!host.empty() && host[0] == '[' && host.back() == ']') {
    h = host.substr(1, host.size() - 2);
    bracketed = true;
  } else if (host.find(':') != std::string_view::npos) {
    h = host;  // a bare IPv6 address
    bracketed = true;
  }
  SocketAddress a;
  if (h.empty() || !FillHost(h, bracketed, port, &a.storage_, &a.len_)) {
    return BadAddress(host, "host must be a numeric IP address or 'localhost'");
  }
  return a;
}

SocketAddress SocketAddress::FromSockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (len > 0 && len <= sizeof(a.storage_)) {
    std::memcpy(&a.storage_, sa, len);
    a.len_ = len;
  }
  return a;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

void SocketAddress::set_port(uint16_t port) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

bool SocketAddress::IsLoopback() const {
  if (family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  }
  return false;
}

std::string SocketAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof(buf));
    return std::string(buf) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof(buf));
    return "[" + std::string(buf) + "]:" + std::to_string(port());
  }
  return "(no address)";
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

int UniqueFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

base::Result<UniqueFd> Listen(const SocketAddress& addr, const ListenOptions& options) {
  const std::string what = "listen on " + addr.ToString();
  UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno(what + ": socket", errno);
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return Status::FromErrno(what + ": SO_REUSEADDR", errno);
  }
  if (options.reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return Status::FromErrno(what + ": SO_REUSEPORT", errno);
  }
  if (::bind(fd.get(), addr.addr(), addr.length()) != 0) return Status::FromErrno(what + ": bind", errno);
  if (::listen(fd.get(), options.backlog) != 0) return Status::FromErrno(what + ": listen", errno);
  return fd;
}

base::Result<UniqueFd> Accept(int listen_fd, SocketAddress* peer, int* error_number) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED || err == EPROTO) {
      return UniqueFd();
    }
    if (error_number != nullptr) *error_number = err;
    return Status::FromErrno("accept", err);
  }
  UniqueFd out(fd);
  SetNoDelay(fd).IgnoreError();  // latency only; the connection works without it
  if (peer != nullptr) *peer = SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return out;
}

base::Result<UniqueFd> Connect(const SocketAddress& to, const SocketAddress* source, bool* in_progress) {
  const std::string what = "connect to " + to.ToString();
  *in_progress = false;
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno(what + ": socket", errno);
  if (source != nullptr && source->valid()) {
    if (::bind(fd.get(), source->addr(), source->length()) != 0) {
      return Status::FromErrno(what + ": bind source " + source->ToString(), errno);
    }
  }
  SetNoDelay(fd.get()).IgnoreError();
  if (::connect(fd.get(), to.addr(), to.length()) != 0) {
    if (errno != EINPROGRESS) return Status::Unavailable(what + ": " + std::strerror(errno));
    *in_progress = true;
  }
  return fd;
}

Status SocketError(int fd, std::string_view what) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) return Status::OK();
  return Status::Unavailable(std::string(what) + ": " + std::strerror(err));
}

Status SetNoDelay(int fd) {
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return Status::FromErrno("setsockopt(TCP_NODELAY)", errno);
  }
  return Status::OK();
}

Status SetNonBlocking(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0) return Status::FromErrno("fcntl(F_GETFL)", errno);
  flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd, F_SETFL, flags) != 0) return Status::FromErrno("fcntl(F_SETFL)", errno);
  return Status::OK();
}

base::Result<SocketAddress> LocalAddress(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return Status::FromErrno("getsockname", errno);
  }
  return SocketAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace kvring::net
