// test/net/raw_socket.h — a blocking TCP socket that speaks raw bytes, for tests that
// must send what a well-behaved client never would (no HELLO, bad versions, garbage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/blocking_client.h"
#include "net/socket.h"

namespace kvring::net::testing {

class RawSocket {
 public:
  // Connects (blocking) to 127.0.0.1:port.
  bool Connect(uint16_t port);
  bool Write(std::string_view bytes);
  // Sends a HELLO with the given fields.
  bool SendHello(uint16_t version, PeerRole role, std::string_view cluster, std::string_view id);
  // The next reply frame within timeout_ms; an error status on EOF/timeout/bad frame.
  base::Result<Reply> ReadReply(int timeout_ms);
  // True when the server closes the connection within timeout_ms (replies before the
  // close are skipped).
  bool WaitForClose(int timeout_ms);
  void ShutdownWrite();
  void Close() { fd_.Reset(); }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string in_;
};

}  // namespace kvring::net::testing
