// test/net/test_handler.h — a RequestHandler for net/ tests, and a server wrapper.
// Opcodes (in the node range, test only):
//   PING (0x02), kEcho       reply OK with the request body
//   kDeferThread             reply with the body from a background thread after
//                            fixed32 milliseconds (the first 4 body bytes)
//   kDeferTimer              same, from a loop timer (replies overtake each other)
//   kBig                     reply OK with fixed32 bytes of payload
//   kBigLater                the same, deferred, from the background thread
//   kNoAnswer                the handler returns without answering
//   kNever                   deferred and never answered (deadline tests)
//   kWhoAmI                  reply "ADDRESS ROLE ID" from the peer's HELLO info
//   GET, PUT, DELETE         decode the body with net/protocol.h: OK with the key,
//                            or InvalidArgument for a malformed body
//   anything else            NotSupported
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/request.h"
#include "net/server.h"

namespace kvring::net::testing {

constexpr uint8_t kEcho = 0x40;
constexpr uint8_t kDeferThread = 0x41;
constexpr uint8_t kDeferTimer = 0x42;
constexpr uint8_t kBig = 0x43;
constexpr uint8_t kNoAnswer = 0x44;
constexpr uint8_t kNever = 0x45;
constexpr uint8_t kWhoAmI = 0x46;
constexpr uint8_t kBigLater = 0x47;

// Polls pred every millisecond for up to ms milliseconds; true once it holds.
template <typename Pred>
bool WaitUntil(Pred pred, int ms = 3000) {
  for (int i = 0; i < ms; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

// fixed32 delay (ms) followed by the bytes to echo.
std::string DelayedBody(uint32_t delay_ms, std::string_view echo);
std::string Fixed32Body(uint32_t v);

class TestHandler : public RequestHandler {
 public:
  TestHandler();
  ~TestHandler() override;

  void OnRequest(Request& request) override;

  // The server's loop i, for kDeferTimer (set by TestServer).
  void set_server(Server* server) { server_ = server; }
  uint64_t requests() const { return requests_.load(); }
  // Answers the held kNever requests with OK (a no-op for closed connections or a
  // stopped server), then forgets them; returns how many it answered.
  size_t AnswerNever();
  // Threads that ran OnRequest so far.
  size_t distinct_threads();

 private:
  struct Delayed {
    uint64_t due_us;
    Responder responder;
    std::string payload;
  };
  void BackgroundLoop();

  Server* server_ = nullptr;
  std::atomic<uint64_t> requests_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Delayed> queue_;
  std::vector<Responder> never_;
  std::set<std::thread::id> threads_;
  bool stop_ = false;
  std::thread background_;
};

// A Server on 127.0.0.1 with a free port and a TestHandler.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {});
  ~TestServer();
  base::Status Start();
  void Stop(uint64_t drain_ms = 0);
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  Server* server() { return server_.get(); }
  TestHandler* handler() { return &handler_; }
  ServerOptions& options() { return options_; }

 private:
  ServerOptions options_;
  TestHandler handler_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

}  // namespace kvring::net::testing
