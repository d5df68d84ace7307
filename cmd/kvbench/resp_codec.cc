#include "cmd/kvbench/resp_codec.h"

#include <charconv>

#include "cmd/kvbench/resp_parser.h"

namespace kvring::cmd::kvbench {

using base::Status;

namespace {

// "$<n>\r\n<bytes>\r\n"
void AppendBulk(std::string* out, std::string_view s) {
  char head[24];
  head[0] = '$';
  char* end = std::to_chars(head + 1, head + sizeof(head) - 2, s.size()).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out->append(head, static_cast<size_t>(end - head));
  out->append(s.data(), s.size());
  out->append("\r\n", 2);
}

}  // namespace

RespCodec::RespCodec(size_t max_in_flight) : fifo_(max_in_flight + 1) {}

void RespCodec::Push(uint32_t tag, Expect expect) {
  if (size_ == fifo_.size()) {  // more in flight than announced: grow, keeping the order
    std::vector<Pending> bigger;
    bigger.reserve(fifo_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger.push_back(fifo_[(head_ + i) % fifo_.size()]);
    bigger.resize(fifo_.size() * 2);
    fifo_.swap(bigger);
    head_ = 0;
  }
  fifo_[(head_ + size_) % fifo_.size()] = Pending{tag, expect};
  ++size_;
}

void RespCodec::AppendGet(std::string* out, uint32_t tag, std::string_view key, uint8_t) {
  out->append("*2\r\n$3\r\nGET\r\n", 13);
  AppendBulk(out, key);
  Push(tag, Expect::kGet);
}

void RespCodec::AppendPut(std::string* out, uint32_t tag, std::string_view key, std::string_view value,
                          std::string_view, uint8_t) {
  out->append("*3\r\n$3\r\nSET\r\n", 13);
  AppendBulk(out, key);
  AppendBulk(out, value);
  Push(tag, Expect::kSet);
}

net::ParseResult RespCodec::ParseReply(const char* data, size_t n, Reply* reply, size_t* consumed,
                                       Status* error) {
  if (n == 0) return net::ParseResult::kNeedMore;
  if (size_ == 0) {
    *error = Status::Corruption("Redis sent a reply with no request outstanding");
    return net::ParseResult::kError;
  }
  RespValue v;
  net::ParseResult r = ParseResp(data, n, &v, consumed, error);
  if (r != net::ParseResult::kFrame) return r;
  const Pending p = fifo_[head_];
  head_ = (head_ + 1) % fifo_.size();
  --size_;
  *reply = Reply();
  reply->tag = p.tag;
  if (v.type == RespType::kError) {
    reply->kind = ReplyKind::kError;
    reply->error = v.text;
    reply->error_kind = v.text.substr(0, v.text.find(' '));  // "ERR", "WRONGTYPE", "OOM", ...
    return r;
  }
  if (p.expect == Expect::kGet && v.type == RespType::kBulkString) {
    reply->kind = ReplyKind::kValue;
    reply->value = v.text;
  } else if (p.expect == Expect::kGet && v.type == RespType::kNil) {
    reply->kind = ReplyKind::kNotFound;
  } else if (p.expect == Expect::kSet && v.type == RespType::kSimpleString && v.text == "OK") {
    reply->kind = ReplyKind::kStored;
  } else {
    *error = Status::Corruption(std::string("unexpected Redis reply to ") +
                                (p.expect == Expect::kGet ? "GET" : "SET"));
    return net::ParseResult::kError;
  }
  return r;
}

}  // namespace kvring::cmd::kvbench
