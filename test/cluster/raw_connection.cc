#include "test/cluster/raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/coding.h"
#include "net/protocol.h"
#include "test/util/kvnode_process.h"

namespace kvring::test {

bool RawConnection::Connect(const std::string& address, uint64_t timeout_ms) {
  in_.clear();
  auto addr = net::SocketAddress::Parse(address);
  if (!addr.ok()) return false;
  fd_.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) return false;
  timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>(timeout_ms % 1000 * 1000)};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return ::connect(fd_.get(), addr->addr(), addr->length()) == 0;
}

bool RawConnection::Write(std::string_view bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void RawConnection::ShutdownWrite() { ::shutdown(fd_.get(), SHUT_WR); }

void RawConnection::Reset() {
  linger l{1, 0};
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  fd_.Reset();
}

int RawConnection::ReadSome(uint64_t deadline_ms) {
  for (;;) {
    uint64_t now = NowMs();
    if (now >= deadline_ms) return -1;
    pollfd p{fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(deadline_ms - now));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    char buf[16384];
    ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // EOF, or a reset (also a close)
    in_.append(buf, static_cast<size_t>(n));
    return 1;
  }
}

bool RawConnection::ReadUntilClosed(uint64_t timeout_ms) {
  const uint64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    int r = ReadSome(deadline);
    if (r == 0) return true;
    if (r < 0) return false;
  }
}

bool RawConnection::ReadFrames(size_t frames, uint64_t timeout_ms) {
  const uint64_t deadline = NowMs() + timeout_ms;
  while (CompleteFrames() < frames) {
    int r = ReadSome(deadline);
    if (r == 0) return true;
    if (r < 0) return false;
  }
  return true;
}

size_t RawConnection::CompleteFrames() const {
  size_t frames = 0, off = 0;
  while (in_.size() - off >= 4) {
    uint32_t length = base::DecodeFixed32(in_.data() + off);
    if (in_.size() - off - 4 < length) break;
    off += 4 + length;
    frames++;
  }
  return frames;
}

std::string RawConnection::CheckReplies(bool allow_partial) const {
  size_t off = 0;
  while (off < in_.size()) {
    net::Frame frame;
    size_t consumed = 0;
    base::Status error;
    net::ParseResult r = net::ParseFrame(in_.data() + off, in_.size() - off, net::kDefaultMaxFrameBytes, &frame,
                                         &consumed, &error);
    if (r == net::ParseResult::kNeedMore) {
      return allow_partial ? "" : "a partial frame of " + std::to_string(in_.size() - off) + " bytes at the end";
    }
    if (r == net::ParseResult::kError) return "bad frame at offset " + std::to_string(off) + ": " + error.ToString();
    if (!frame.is_reply()) return "a non-reply frame (opcode " + std::to_string(frame.opcode) + ")";
    base::Status status;
    std::string_view payload;
    base::Status parsed = net::ParseReplyStatus(frame.body, &status, &payload);
    if (!parsed.ok()) return "a malformed reply body: " + parsed.ToString();
    off += consumed;
  }
  return "";
}

std::vector<base::Status> RawConnection::ReplyStatuses() const {
  std::vector<base::Status> out;
  size_t off = 0;
  while (off < in_.size()) {
    net::Frame frame;
    size_t consumed = 0;
    base::Status error, status;
    std::string_view payload;
    if (net::ParseFrame(in_.data() + off, in_.size() - off, net::kDefaultMaxFrameBytes, &frame, &consumed, &error) !=
        net::ParseResult::kFrame) {
      break;
    }
    if (!net::ParseReplyStatus(frame.body, &status, &payload).ok()) break;
    out.push_back(status);
    off += consumed;
  }
  return out;
}

std::string HelloFrame(std::string_view client_id) {
  std::string body;
  net::HelloRequest hello;
  hello.id = client_id;
  net::EncodeHello(&body, hello);
  return RequestFrame(static_cast<uint8_t>(net::Opcode::kHello), 0, body);
}

std::string RequestFrame(uint8_t opcode, uint32_t request_id, std::string_view body) {
  std::string out;
  net::AppendFrame(&out, opcode, 0, request_id, body);
  return out;
}

}  // namespace kvring::test
