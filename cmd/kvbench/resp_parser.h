// cmd/kvbench/resp_parser.h — an incremental parser for Redis replies (RESP2):
// +simple, -error, :integer, $bulk ($-1 is nil), *array (*-1 is nil). It parses
// one complete reply from the front of a buffer or says it needs more bytes, so a
// reply split across reads is simply parsed again once the rest arrived.
// Thread safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "net/protocol.h"

namespace kvring::cmd::kvbench {

enum class RespType : uint8_t { kSimpleString, kError, kInteger, kBulkString, kNil, kArray };

struct RespValue {
  RespType type = RespType::kNil;
  std::string_view text;  // simple string, error message or bulk string (points into the buffer)
  int64_t integer = 0;    // kInteger: the value; kArray: the element count
};

constexpr size_t kMaxRespLineBytes = 64 * 1024;
constexpr int64_t kMaxRespBulkBytes = int64_t{64} << 20;

// kFrame: *value is the first reply and *consumed its size (arrays: all their
// elements, which are checked but not returned). kNeedMore: incomplete.
// kError: malformed (*error names the problem); the connection is unusable.
net::ParseResult ParseResp(const char* data, size_t n, RespValue* value, size_t* consumed, base::Status* error);

}  // namespace kvring::cmd::kvbench
