#include "test/net/raw_socket.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kvring::net::testing {

using base::Status;

bool RawSocket::Connect(uint16_t port) {
  fd_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
}

bool RawSocket::Write(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool RawSocket::SendHello(uint16_t version, PeerRole role, std::string_view cluster, std::string_view id) {
  HelloRequest h;
  h.version = version;
  h.role = role;
  h.cluster = cluster;
  h.id = id;
  std::string body, frame;
  EncodeHello(&body, h);
  AppendFrame(&frame, static_cast<uint8_t>(Opcode::kHello), 0, 0, body);
  return Write(frame);
}

base::Result<Reply> RawSocket::ReadReply(int timeout_ms) {
  while (true) {
    Frame f;
    size_t consumed = 0;
    Status error;
    ParseResult r = ParseFrame(in_.data(), in_.size(), kDefaultMaxFrameBytes, &f, &consumed, &error);
    if (r == ParseResult::kError) return error;
    if (r == ParseResult::kFrame) {
      Reply reply;
      reply.opcode = f.opcode;
      reply.request_id = f.request_id;
      std::string_view payload;
      Status parsed = ParseReplyStatus(f.body, &reply.status, &payload);
      reply.payload.assign(payload);
      in_.erase(0, consumed);
      if (!parsed.ok()) return parsed;
      return reply;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return Status::TimedOut("no reply");
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
    if (n <= 0) return Status::Unavailable("closed");
    in_.append(buf, static_cast<size_t>(n));
  }
}

bool RawSocket::WaitForClose(int timeout_ms) {
  while (true) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[65536];
    ssize_t n = ::read(fd_.get(), buf, sizeof(buf));
    if (n <= 0) return true;  // EOF or reset
  }
}

void RawSocket::ShutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

OneShotServer::OneShotServer(std::string reply) : reply_(std::move(reply)) {
  auto fd = Listen(*SocketAddress::Parse("127.0.0.1:0"));
  if (!fd.ok()) return;
  listen_ = std::move(fd.value());
  SetNonBlocking(listen_.get(), false).IgnoreError();  // a blocking accept in Serve()
  port_ = LocalAddress(listen_.get())->port();
  thread_ = std::thread([this] { Serve(); });
}

OneShotServer::~OneShotServer() {
  ::shutdown(listen_.get(), SHUT_RDWR);  // wakes a pending accept
  if (thread_.joinable()) thread_.join();
}

void OneShotServer::Serve() {
  UniqueFd c(::accept(listen_.get(), nullptr, nullptr));
  if (!c.valid()) return;
  char buf[4096];
  ssize_t n = ::read(c.get(), buf, sizeof(buf));
  if (n <= 0) return;
  n = ::write(c.get(), reply_.data(), reply_.size());
  while (::read(c.get(), buf, sizeof(buf)) > 0) {
  }  // until the client gives up and closes
}

}  // namespace kvring::net::testing
