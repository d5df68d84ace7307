// net/delayed_calls.h — calls an RpcClient holds back before sending them, as a
// slow link would: the test-only delay hook of the nemesis harness
// (RpcClientOptions::send_delay_ms; kvnode --test-fault-files, the
// test-delay-ms file, docs/operations.md "Testing flags").
//
// A held call leaves after its delay with what remains of its timeout. One
// delayed past its deadline times out at the caller at the deadline and is still
// sent after its delay, its reply ignored, like a late packet: the caller sees an
// indeterminate outcome while the peer may apply it. Close fails every held call
// whose caller still waits with Aborted, and sends nothing more.
// Thread safety: loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "net/event_loop.h"

namespace kvring::net {

class DelayedCalls {
 public:
  // Sends the held call, given the timeout it has left; late: the caller has
  // already been failed (the reply must be dropped).
  using Sender = std::function<void(uint64_t timeout_ms, bool late)>;
  // Fails the caller: TimedOut at its deadline (message from the caller, who
  // knows the peer), or Close's status.
  using Fail = std::function<void(const base::Status&)>;

  explicit DelayedCalls(EventLoop* loop) : loop_(loop) {}
  DelayedCalls(const DelayedCalls&) = delete;
  DelayedCalls& operator=(const DelayedCalls&) = delete;

  // Runs send after delay_ms; when that is past timeout_ms, fail(TimedOut(...))
  // at timeout_ms first. deadline_message: the TimedOut status's message.
  void Hold(uint64_t delay_ms, uint64_t timeout_ms, std::string deadline_message, Sender send, Fail fail);
  // Fails every held call with `why`.
  void Close(const base::Status& why);
  size_t held() const { return held_.size(); }

 private:
  // A late call's reply wait: long enough for the peer to receive it.
  static constexpr uint64_t kLateTimeoutMs = 1000;

  struct Held {
    TimerId send_timer = kNoTimer;
    TimerId deadline_timer = kNoTimer;
    Fail fail;  // empty once the caller was failed at its deadline
  };
  void Release(uint64_t id, uint64_t timeout_ms, const Sender& send);
  void Expire(uint64_t id, const std::string& message);

  EventLoop* const loop_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Held> held_;
};

}  // namespace kvring::net
