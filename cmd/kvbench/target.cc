#include "cmd/kvbench/target.h"

#include <netdb.h>

#include <cstring>

namespace kvring::cmd::kvbench {

using base::Status;

base::Result<Target> ParseTarget(std::string_view text) {
  const std::string shown(text);
  auto bad = [&shown](const std::string& why) {
    return Status::InvalidArgument("--target '" + shown + "': " + why +
                                   " (expected kv://HOST:PORT or redis://HOST:PORT)");
  };
  Target t;
  t.text = shown;
  if (text.substr(0, 5) == "kv://") {
    t.protocol = Protocol::kKv;
    text.remove_prefix(5);
  } else if (text.substr(0, 8) == "redis://") {
    t.protocol = Protocol::kRedis;
    text.remove_prefix(8);
  } else {
    return bad("unknown scheme");
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("missing HOST:PORT");
  std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("bad [IPv6] host");
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty() || port.size() > 5) return bad("bad port");
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("bad port");
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p == 0 || p > 65535) return bad("port out of range");
  t.host = std::string(host);
  t.port = static_cast<uint16_t>(p);
  return t;
}

Status Target::Resolve() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Status::Unavailable(text + ": cannot resolve host '" + host + "': " + gai_strerror(rc));
  }
  std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
  addr_len = static_cast<socklen_t>(res->ai_addrlen);
  ::freeaddrinfo(res);
  return Status::OK();
}

}  // namespace kvring::cmd::kvbench
