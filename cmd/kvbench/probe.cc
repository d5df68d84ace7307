#include "cmd/kvbench/probe.h"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "cmd/kvbench/connection.h"
#include "cmd/kvbench/mono_clock.h"
#include "cmd/kvbench/resp_parser.h"

namespace kvring::cmd::kvbench {

using base::Status;

namespace {

constexpr char kRespPing[] = "*1\r\n$4\r\nPING\r\n";

// Waits for `events` on the connection's socket until the deadline.
Status WaitFor(const Connection& c, short events, uint64_t deadline_ns, const char* what) {
  for (;;) {
    const uint64_t now = MonotonicNanos();
    if (now >= deadline_ns) return Status::TimedOut(c.target().text + ": no answer to " + what + " in time");
    pollfd p{c.fd(), events, 0};
    int n = ::poll(&p, 1, static_cast<int>((deadline_ns - now) / 1'000'000 + 1));
    if (n > 0) return Status::OK();
    if (n < 0 && errno != EINTR) return Status::IOError(std::string("poll: ") + std::strerror(errno));
  }
}

// Reads until `parsed` reports a complete reply (true) or an error.
template <typename Parse>
Status ReadReply(Connection* c, uint64_t deadline_ns, const char* what, Parse parsed) {
  for (;;) {
    KV_RETURN_IF_ERROR(WaitFor(*c, POLLIN | (c->NeedsWritable() ? POLLOUT : 0), deadline_ns, what));
    bool closed = false;
    KV_RETURN_IF_ERROR(c->Read(&closed));
    KV_RETURN_IF_ERROR(c->Flush());  // with TLS the request may have waited for the handshake
    bool done = false;
    KV_RETURN_IF_ERROR(parsed(&done));
    if (done) return Status::OK();
    if (closed) return Status::Unavailable(c->target().text + ": connection closed by the server during " + what);
  }
}

}  // namespace

Status ProbeTarget(const Target& target, const std::string& cluster, int timeout_ms,
                   const net::ClientCredentials* credentials, const net::TlsContext* tls) {
  const uint64_t deadline = MonotonicNanos() + static_cast<uint64_t>(timeout_ms) * 1'000'000;
  Connection c(&target, ProtocolCodec::Make(target.protocol, cluster, 1, false, false, credentials), tls);
  KV_RETURN_IF_ERROR(c.StartConnect());
  if (c.state() == Connection::State::kConnecting) {
    KV_RETURN_IF_ERROR(WaitFor(c, POLLOUT, deadline, "connect"));
    KV_RETURN_IF_ERROR(c.FinishConnect());
  }
  const bool kv = target.protocol == Protocol::kKv;
  if (!kv) c.out()->append(kRespPing);
  KV_RETURN_IF_ERROR(c.Flush());
  const char* what = kv ? "HELLO" : "PING";
  return ReadReply(&c, deadline, what, [&](bool* done) -> Status {
    Status error;
    size_t used = 0;
    if (kv) {
      Reply reply;
      net::ParseResult r = c.codec()->ParseReply(c.in_data(), c.in_size(), &reply, &used, &error);
      if (r == net::ParseResult::kError) return error.WithContext(target.text);
      if (r == net::ParseResult::kNeedMore) return Status::OK();
      if (reply.kind == ReplyKind::kHandshakeStep) {  // AUTH follows (client authentication)
        c.Consume(used);
        c.codec()->AppendHandshakeStep(c.out());
        return c.Flush();
      }
      if (reply.kind != ReplyKind::kHello) {
        return Status::Unavailable(target.text + ": HELLO refused: " + std::string(reply.error_kind) + ": " +
                                   std::string(reply.error));
      }
    } else {
      RespValue v;
      net::ParseResult r = ParseResp(c.in_data(), c.in_size(), &v, &used, &error);
      if (r == net::ParseResult::kError) return error.WithContext(target.text);
      if (r == net::ParseResult::kNeedMore) return Status::OK();
      if (v.type != RespType::kSimpleString) {
        return Status::Unavailable(target.text + ": PING answered with '" + std::string(v.text) + "'");
      }
    }
    *done = true;
    return Status::OK();
  });
}

}  // namespace kvring::cmd::kvbench
