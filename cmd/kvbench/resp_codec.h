// cmd/kvbench/resp_codec.h — the Redis protocol (RESP2) for kvbench: GET and SET
// as arrays of bulk strings, pipelined; replies come back in request order, so
// the tags wait in a FIFO. --r/--w do not apply (no such thing in Redis).
// Thread safety: needs external synchronization (loop thread only).
#pragma once

#include <vector>

#include "cmd/kvbench/protocol_codec.h"

namespace kvring::cmd::kvbench {

class RespCodec final : public ProtocolCodec {
 public:
  explicit RespCodec(size_t max_in_flight);

  bool AppendHandshake(std::string*) override { return false; }
  void AppendGet(std::string* out, uint32_t tag, std::string_view key, uint8_t consistency) override;
  void AppendPut(std::string* out, uint32_t tag, std::string_view key, std::string_view value,
                 std::string_view context, uint8_t consistency) override;
  net::ParseResult ParseReply(const char* data, size_t n, Reply* reply, size_t* consumed,
                              base::Status* error) override;
  void Reset() override { head_ = size_ = 0; }

 private:
  enum class Expect : uint8_t { kGet, kSet };
  struct Pending {
    uint32_t tag;
    Expect expect;
  };
  void Push(uint32_t tag, Expect expect);

  std::vector<Pending> fifo_;  // ring buffer of requests awaiting replies
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace kvring::cmd::kvbench
