#include "cmd/kvbench/resp_parser.h"

#include <cstdio>
#include <cstring>

namespace kvring::cmd::kvbench {

using base::Status;
using net::ParseResult;

namespace {

constexpr int kMaxDepth = 8;
constexpr int64_t kMaxArrayElements = 1 << 20;

bool ParseInteger(std::string_view s, int64_t* out) {
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = negative ? -v : v;
  return true;
}

ParseResult Fail(Status* error, const std::string& why) {
  *error = Status::Corruption("malformed Redis reply: " + why);
  return ParseResult::kError;
}

ParseResult ParseAt(const char* data, size_t n, int depth, RespValue* value, size_t* consumed, Status* error) {
  if (n == 0) return ParseResult::kNeedMore;
  // The first line: type byte, text, CRLF.
  const size_t scan = n < kMaxRespLineBytes ? n : kMaxRespLineBytes;
  const char* cr = static_cast<const char*>(std::memchr(data, '\r', scan));
  if (cr == nullptr) return n >= kMaxRespLineBytes ? Fail(error, "line longer than 64 KiB") : ParseResult::kNeedMore;
  const size_t line_end = static_cast<size_t>(cr - data);
  if (line_end + 1 >= n) return ParseResult::kNeedMore;
  if (data[line_end + 1] != '\n') return Fail(error, "CR without LF");
  // The text follows the type byte: a line that starts with CR has neither, and
  // its text length (line_end - 1) would wrap around.
  if (line_end == 0) return Fail(error, "empty line where a reply's type byte was expected");
  const std::string_view line(data + 1, line_end - 1);
  const size_t header = line_end + 2;
  switch (data[0]) {
    case '+':
    case '-':
      value->type = data[0] == '+' ? RespType::kSimpleString : RespType::kError;
      value->text = line;
      *consumed = header;
      return ParseResult::kFrame;
    case ':':
      if (!ParseInteger(line, &value->integer)) return Fail(error, "bad integer '" + std::string(line) + "'");
      value->type = RespType::kInteger;
      *consumed = header;
      return ParseResult::kFrame;
    case '$': {
      int64_t len;
      if (!ParseInteger(line, &len) || len < -1 || len > kMaxRespBulkBytes) {
        return Fail(error, "bad bulk length '" + std::string(line) + "'");
      }
      if (len == -1) {
        value->type = RespType::kNil;
        *consumed = header;
        return ParseResult::kFrame;
      }
      const size_t total = header + static_cast<size_t>(len) + 2;
      if (n < total) return ParseResult::kNeedMore;
      if (data[total - 2] != '\r' || data[total - 1] != '\n') return Fail(error, "bulk string not ended by CRLF");
      value->type = RespType::kBulkString;
      value->text = std::string_view(data + header, static_cast<size_t>(len));
      *consumed = total;
      return ParseResult::kFrame;
    }
    case '*': {
      int64_t count;
      if (!ParseInteger(line, &count) || count < -1 || count > kMaxArrayElements) {
        return Fail(error, "bad array length '" + std::string(line) + "'");
      }
      if (depth >= kMaxDepth) return Fail(error, "arrays nested too deep");
      size_t offset = header;
      for (int64_t i = 0; i < count; ++i) {
        RespValue element;
        size_t used = 0;
        ParseResult r = ParseAt(data + offset, n - offset, depth + 1, &element, &used, error);
        if (r != ParseResult::kFrame) return r;
        offset += used;
      }
      value->type = count == -1 ? RespType::kNil : RespType::kArray;
      value->integer = count;
      *consumed = offset;
      return ParseResult::kFrame;
    }
    default: {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned char>(data[0]));
      return Fail(error, std::string("unknown type byte ") + hex);
    }
  }
}

}  // namespace

ParseResult ParseResp(const char* data, size_t n, RespValue* value, size_t* consumed, Status* error) {
  return ParseAt(data, n, 0, value, consumed, error);
}

}  // namespace kvring::cmd::kvbench
