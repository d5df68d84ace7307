// cmd/kvbench/probe.h — checks, before a run, that a target answers: connect,
// then HELLO (kv) or PING (redis), each within a timeout. The error names the
// target and the cause ("kv://127.0.0.1:7000: connect: Connection refused").
// Thread safety: pure function (blocking).
#pragma once

#include <string>

#include "base/status.h"
#include "cmd/kvbench/target.h"
#include "net/client_auth.h"
#include "net/tls.h"

namespace kvring::cmd::kvbench {

// REQUIRES: target.Resolve() succeeded.
[[nodiscard]] base::Status ProbeTarget(const Target& target, const std::string& cluster, int timeout_ms,
                                       const net::ClientCredentials* credentials = nullptr,
                                       const net::TlsContext* tls = nullptr);

}  // namespace kvring::cmd::kvbench
