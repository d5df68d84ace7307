// test/net/raw_socket.h — a blocking TCP socket that speaks raw bytes, for tests that
// must send what a well-behaved client never would (no HELLO, bad versions, garbage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

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

// A fake server for one connection: it reads once (the client's HELLO and whatever
// came with it), writes `reply` (raw bytes), then waits for the client to close.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply);
  ~OneShotServer();
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Serve();

  std::string reply_;
  UniqueFd listen_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace kvring::net::testing
