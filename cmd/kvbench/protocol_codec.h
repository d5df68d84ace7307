// cmd/kvbench/protocol_codec.h — how kvbench speaks to one connection's server:
// requests are appended to the connection's send buffer, replies parsed from its
// receive buffer one at a time. Each request carries a caller-chosen tag that its
// reply gives back (kv: the frame's request id, so replies may come out of order;
// RESP: a FIFO, replies come in order).
// Thread safety: needs external synchronization (one per connection, loop thread only).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cmd/kvbench/target.h"
#include "net/client_auth.h"
#include "net/protocol.h"

namespace kvring::cmd::kvbench {

enum class ReplyKind : uint8_t {
  kHello,     // handshake accepted
  kHandshakeStep,  // the handshake goes on: send what AppendHandshakeStep appends (kv: AUTH)
  kValue,     // GET found: see values
  kNotFound,  // GET: no such key
  kStored,    // PUT acknowledged
  kError,     // the server answered with an error: see error_kind, error
};

// One parsed reply. Views point into the receive buffer (or the codec) and are
// valid until the next parse or read.
struct Reply {
  uint32_t tag = 0;
  ReplyKind kind = ReplyKind::kError;
  // kValue: the kv siblings, or the one RESP value.
  const std::vector<net::Sibling>* siblings = nullptr;
  std::string_view value;
  std::string_view context;     // kv GET (found or not) and PUT: hand back on a put to supersede what it covers
  std::string_view error_kind;  // kError: "Unavailable", "ERR", ... (for grouping)
  std::string_view error;       // kError: the server's message

  // Calls fn(value) for every value of a kValue reply.
  template <typename Fn>
  void ForEachValue(Fn&& fn) const {
    if (kind != ReplyKind::kValue) return;
    if (siblings == nullptr) {
      fn(value);
      return;
    }
    for (const auto& s : *siblings) fn(s.value);
  }
};

class ProtocolCodec {
 public:
  static constexpr uint32_t kHelloTag = 0xffffffffu;

  virtual ~ProtocolCodec() = default;
  // kv: appends HELLO (tag kHelloTag) and returns true; RESP: nothing to do, false.
  virtual bool AppendHandshake(std::string* out) = 0;
  // After a kHandshakeStep reply: appends the next handshake frame (tag kHelloTag).
  virtual void AppendHandshakeStep(std::string* /*out*/) {}
  virtual void AppendGet(std::string* out, uint32_t tag, std::string_view key, uint8_t consistency) = 0;
  virtual void AppendPut(std::string* out, uint32_t tag, std::string_view key, std::string_view value,
                         std::string_view context, uint8_t consistency) = 0;
  // Parses the first reply in [data, data+n). kFrame: *reply filled, *consumed
  // bytes used. kNeedMore: incomplete. kError: a protocol violation (*error says
  // which); close the connection.
  virtual net::ParseResult ParseReply(const char* data, size_t n, Reply* reply, size_t* consumed,
                                      base::Status* error) = 0;
  // Forgets requests in flight (after the connection was lost).
  virtual void Reset() = 0;

  // cluster: the HELLO cluster name (kv). max_in_flight: requests in flight at once.
  // overwrite: kv puts carry the OVERWRITE flag. credentials: kv's user (may be
  // null; must outlive the codec).
  static std::unique_ptr<ProtocolCodec> Make(Protocol protocol, const std::string& cluster, size_t max_in_flight,
                                             bool overwrite = false, bool strict = false,
                                             const net::ClientCredentials* credentials = nullptr);
};

}  // namespace kvring::cmd::kvbench
