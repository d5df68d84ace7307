// test/cluster/raw_connection.h — a blocking TCP connection to a live kvnode that
// sends whatever bytes a test gives it (half frames, garbage, mutated frames) and
// checks what comes back: only well-formed reply frames, then maybe a close.
// Thread safety: needs external synchronization (one per thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/socket.h"

namespace kvring::test {

class RawConnection {
 public:
  // Connects to "HOST:PORT" within timeout_ms.
  bool Connect(const std::string& address, uint64_t timeout_ms);
  // Writes every byte (false when the peer closed or reset the connection).
  bool Write(std::string_view bytes);
  // Half-closes: the node reads EOF after what was written.
  void ShutdownWrite();
  // Closes with a reset (SO_LINGER 0) instead of an orderly FIN.
  void Reset();
  void Close() { fd_.Reset(); }

  // Reads until the node closes the connection; true when it did within
  // timeout_ms. Everything read is appended to received().
  bool ReadUntilClosed(uint64_t timeout_ms);
  // Reads until at least `frames` complete frames arrived or the connection
  // closed; false on timeout.
  bool ReadFrames(size_t frames, uint64_t timeout_ms);
  const std::string& received() const { return in_; }
  // Checks that received() is a sequence of reply frames (a trailing partial
  // frame is allowed only when allow_partial); "" when it is, else the problem.
  std::string CheckReplies(bool allow_partial) const;
  // The statuses of the complete reply frames in received(), in order.
  std::vector<base::Status> ReplyStatuses() const;
  // The number of complete frames in received().
  size_t CompleteFrames() const;

 private:
  // One read with a deadline: 1 data, 0 EOF or reset, -1 timeout.
  int ReadSome(uint64_t deadline_ms);

  net::UniqueFd fd_;
  std::string in_;
};

// The bytes of a client HELLO frame (request id 0).
std::string HelloFrame(std::string_view client_id = "raw");
// The bytes of one request frame.
std::string RequestFrame(uint8_t opcode, uint32_t request_id, std::string_view body);

}  // namespace kvring::test
