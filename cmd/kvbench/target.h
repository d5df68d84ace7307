// cmd/kvbench/target.h — where kvbench sends load: kv://HOST:PORT (kvring's binary
// protocol) or redis://HOST:PORT (RESP, for redis-server as a peer), resolved
// once at start-up.
// Thread safety: values; immutable after Resolve().
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kvring::cmd::kvbench {

enum class Protocol : uint8_t { kKv, kRedis };

struct Target {
  Protocol protocol = Protocol::kKv;
  std::string host;
  uint16_t port = 0;
  std::string text;  // as given: "kv://127.0.0.1:7000"
  // Filled by Resolve().
  sockaddr_storage addr{};
  socklen_t addr_len = 0;

  // Looks the host up (numeric addresses and names; the first IPv4/IPv6 answer).
  [[nodiscard]] base::Status Resolve();
};

// Parses "kv://HOST:PORT" or "redis://HOST:PORT" ("[v6addr]:PORT" for IPv6);
// InvalidArgument names the problem.
base::Result<Target> ParseTarget(std::string_view text);

}  // namespace kvring::cmd::kvbench
