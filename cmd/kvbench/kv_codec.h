// cmd/kvbench/kv_codec.h — kvring's binary protocol (net/protocol.h) for kvbench:
// HELLO as a client, GET/PUT frames whose request id is the caller's tag, replies
// matched by request id in whatever order they come.
// Thread safety: needs external synchronization (loop thread only).
#pragma once

#include <string>

#include "cmd/kvbench/protocol_codec.h"

namespace kvring::cmd::kvbench {

class KvCodec final : public ProtocolCodec {
 public:
  explicit KvCodec(std::string cluster, bool overwrite = false, bool strict = false,
                   const net::ClientCredentials* credentials = nullptr)
      : cluster_(std::move(cluster)), overwrite_(overwrite), strict_(strict), credentials_(credentials) {}

  bool AppendHandshake(std::string* out) override;
  void AppendHandshakeStep(std::string* out) override;
  void AppendGet(std::string* out, uint32_t tag, std::string_view key, uint8_t consistency) override;
  void AppendPut(std::string* out, uint32_t tag, std::string_view key, std::string_view value,
                 std::string_view context, uint8_t consistency) override;
  net::ParseResult ParseReply(const char* data, size_t n, Reply* reply, size_t* consumed,
                              base::Status* error) override;
  void Reset() override {}

 private:
  // Fills *reply from a reply frame's status and payload.
  base::Status DecodeReply(uint8_t opcode, std::string_view payload, Reply* reply);
  // A HELLO or AUTH reply: the handshake is done, or AUTH must follow.
  base::Status DecodeHandshakeReply(uint8_t opcode, std::string_view payload, Reply* reply);

  const std::string cluster_;
  const bool overwrite_;
  const bool strict_;
  const net::ClientCredentials* const credentials_;
  std::string nonce_, auth_, signature_;  // this connection's client authentication
  net::GetReply get_;     // reused: its sibling vector keeps its capacity
  net::WriteReceipt receipt_;  // reused likewise
  base::Status status_;   // the last error reply (Reply::error points into it)
};

}  // namespace kvring::cmd::kvbench
