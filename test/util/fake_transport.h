// test/util/fake_transport.h — an in-process network for repl/'s Transport and
// Executor: one endpoint per simulated node, every message and continuation
// driven by one deterministic event queue on a simulated clock
// (base::ManualClock). No sockets and no threads of its own.
//
//   test::FakeNetwork net({.seed = seed, .faults = {.min_delay_us = 100, .max_delay_us = 5000}});
//   test::FakeEndpoint* n1 = net.Endpoint("10.0.0.1:7000");   // n1's Transport and Executor
//   net.Endpoint("10.0.0.2:7000")->SetHandler(
//       [](uint8_t opcode, std::string_view body, test::FakeReply reply) { reply(Status::OK(), "pong"); });
//   n1->Call(node2, opcode, body, /*timeout_ms=*/500, [](const Status& s, std::string_view payload) { ... });
//   net.RunUntilIdle();
//
// Nodes are known by their address: Transport::Call routes by NodeInfo::address
// (a seed is known by nothing else), and the production transport's errors and
// its FailureDetector speak of addresses too.
//
// What a call goes through. At Call time the network draws the request's fate
// on the link caller -> callee (a drop, a delay uniform in [min_delay_us,
// max_delay_us]); at delivery the callee's handler runs and answers through its
// FakeReply, at once or later (a replica answering once its write is durable);
// the reply draws its own fate on the link callee -> caller and arrives through
// the queue. The caller sees exactly what net::RpcClient would report:
//   OK or the callee's error status    the reply arrived before the deadline
//   TimedOut "request to X timed out after 500ms"   no reply by timeout_ms (the
//            request or the reply was dropped or delayed, or a black-holed link)
//   Unavailable "connection to X failed: connect: Connection refused"   X is
//            down, or unknown; "...: connect: No route to host" across a
//            partition in kRefused mode (both at once, never inside Call)
//   Unavailable "connection to X lost: ..."   X went down (or the link was cut in
//            kRefused mode) while the call was in flight
// `done` runs exactly once; a reply that arrives after its deadline is dropped
// (stats().late_replies). A request is still delivered and handled after its
// caller gave up, as on a real network: a timed-out write may be applied.
// Like the production transport, a call tells the caller's FailureDetector (when
// the test gave one) that the peer answered (any reply) or could not be reached
// (refused, lost); a timeout is no evidence either way.
//
// Down nodes: SetDown(X) makes X unreachable both ways (calls to it are refused,
// its own calls fail with "connection to Y failed: connect: Network is
// unreachable", calls in flight to or from it are lost); its objects and data
// stay, so SetDown(X, false) is a restart with its data.
//
// Determinism: events run in (time, order of scheduling) order, and every random
// draw comes from one base::Random seeded by FakeNetworkOptions::seed, in the
// order of the calls and replies that need it. So the same seed and the same
// calls (in the same order, from the same handlers) give the same delivery order,
// the same times and the same trace(). What breaks it is work finishing on
// another thread (an engine read that missed the memtable and ran on an I/O
// pool): Post accepts it, but when it arrives is up to that thread. Keep data in
// memory (a large memtable, no flush) for replayable runs.
//
// Thread safety: needs external synchronization: one thread (the test's) calls
// everything and runs every event, except FakeEndpoint::Post, which is
// thread-safe (an I/O pool's completion may come from its own thread).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "repl/failure_detector.h"
#include "repl/transport.h"
#include "ring/node_info.h"

namespace kvring::test {

// How messages on one directed link behave. Each message (a request on
// caller -> callee, its reply on callee -> caller) draws its own fate, so
// random delays reorder messages.
struct LinkFaults {
  uint64_t min_delay_us = 100;
  uint64_t max_delay_us = 100;
  double drop_probability = 0;  // of each message
};

// What a blocked link (a partition) does to the calls that cross it.
enum class PartitionMode {
  kRefused,    // Unavailable "connection to X failed: connect: No route to host", at once
  kBlackHole,  // messages vanish: the caller gets TimedOut at its deadline
};

struct FakeNetworkOptions {
  uint64_t seed = 1;
  LinkFaults faults;  // every link's, unless SetLinkFaults scripted one
  PartitionMode partition_mode = PartitionMode::kRefused;
  uint64_t start_micros = 1'000'000;  // the clock's start (wall time = this + 1.7e15 µs)
  bool trace = false;                 // keep one line per message event (trace())
};

struct FakeNetworkStats {
  uint64_t calls = 0;         // Transport::Call
  uint64_t delivered = 0;     // requests handed to a handler
  uint64_t replies = 0;       // replies that reached their caller in time
  uint64_t late_replies = 0;  // replies that arrived after their call had finished (dropped)
  uint64_t dropped = 0;       // messages lost: drop draws, black holes, down repliers
  uint64_t refused = 0;       // calls failed at once: down, unknown or partitioned callee
  uint64_t lost = 0;          // calls failed by a node going down or a link cut mid-call
  uint64_t timeouts = 0;      // calls that got TimedOut
  uint64_t duplicate_replies = 0;  // a handler answered one request twice (a bug; ignored)
  uint64_t posts = 0;         // Executor::Post
};

// Answers one delivered request: call it exactly once, now or later, with the
// status and payload the caller gets.
using FakeReply = std::function<void(const base::Status& status, std::string_view payload)>;
// A node's request handler. `body` stays valid until `reply` is called.
using FakeHandler = std::function<void(uint8_t opcode, std::string_view body, FakeReply reply)>;

class FakeNetwork;

// One simulated node's view of the network: its Transport and its Executor.
class FakeEndpoint final : public repl::Transport, public repl::Executor {
 public:
  FakeEndpoint(const FakeEndpoint&) = delete;
  FakeEndpoint& operator=(const FakeEndpoint&) = delete;

  const std::string& address() const { return address_; }
  // Requests to this node go to `handler`; without one they get NotSupported.
  void SetHandler(FakeHandler handler) { handler_ = std::move(handler); }
  // Where this node's calls report which peers answered or could not be reached
  // (null: nowhere). *detector must outlive the network's use of it.
  void SetFailureDetector(repl::FailureDetector* detector) { detector_ = detector; }

  // repl::Transport.
  void Send(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms,
            AnsweredCallback done) override;
  // repl::Executor: runs fn at the current simulated time, after what is already
  // queued for that time. Thread-safe.
  void Post(std::function<void()> fn) override;

  // Requests of `opcode` delivered to this node's handler so far.
  uint64_t received(uint8_t opcode) const;

 private:
  friend class FakeNetwork;
  FakeEndpoint(FakeNetwork* network, std::string address) : network_(network), address_(std::move(address)) {}

  FakeNetwork* const network_;
  const std::string address_;
  FakeHandler handler_;
  repl::FailureDetector* detector_ = nullptr;
  std::map<uint8_t, uint64_t> received_;
};

class FakeNetwork {
 public:
  explicit FakeNetwork(FakeNetworkOptions options = {});
  ~FakeNetwork();
  FakeNetwork(const FakeNetwork&) = delete;
  FakeNetwork& operator=(const FakeNetwork&) = delete;

  // The simulated clock every endpoint's events run on; hand it to the nodes.
  base::ManualClock* clock() { return &clock_; }
  uint64_t now() const { return clock_.NowMicros(); }

  // The node at `address` (created on first use; the pointer stays valid).
  FakeEndpoint* Endpoint(const std::string& address);

  // --- Faults (take effect for messages sent from now on) ---
  void SetDefaultFaults(const LinkFaults& faults) { options_.faults = faults; }
  // Scripts the directed link from -> to (overrides the default).
  void SetLinkFaults(const std::string& from, const std::string& to, const LinkFaults& faults);
  void ClearLinkFaults() { link_faults_.clear(); }
  void SetPartitionMode(PartitionMode mode) { options_.partition_mode = mode; }
  // Blocks the directed link from -> to.
  void Block(const std::string& from, const std::string& to);
  // Blocks every link between the two sides, both ways.
  void Partition(const std::vector<std::string>& side_a, const std::vector<std::string>& side_b);
  // Blocks every link between `address` and every other endpoint, both ways.
  void Isolate(const std::string& address);
  // Unblocks every link.
  void Heal() { blocked_.clear(); }
  bool IsBlocked(const std::string& from, const std::string& to) const;
  // A down node is unreachable both ways; calls in flight to or from it are lost now.
  void SetDown(const std::string& address, bool down = true);
  bool IsDown(const std::string& address) const { return down_.count(address) != 0; }

  // --- Running (each returns how many events ran) ---
  // Runs events until none is queued, advancing the clock to each one's time.
  // Deadlines of calls that finished are not waited for.
  size_t RunUntilIdle();
  // Runs the events due within `micros`, then sets the clock to now + micros.
  size_t RunFor(uint64_t micros);
  // Runs events until done() holds (checked before each), at most `max_micros`
  // of simulated time. When nothing is queued it waits (up to 10 s of real time)
  // for a Post from another thread, such as an I/O pool's completion; it never
  // sleeps. Returns done().
  bool RunUntil(const std::function<bool()>& done, uint64_t max_micros = 3'600'000'000ull);

  bool idle() const;
  FakeNetworkStats stats() const;
  // One line per message event when options.trace: "t=1000100 #3 10.0.0.1:7000 -> 10.0.0.2:7000 0x41 delivered".
  const std::vector<std::string>& trace() const { return trace_; }

 private:
  friend class FakeEndpoint;
  struct PendingCall;
  struct Event {
    std::function<void()> fn;
    std::shared_ptr<const bool> cancelled;  // set: skipped without advancing the clock
  };
  using EventKey = std::pair<uint64_t, uint64_t>;  // (time, scheduling order)

  // Thread-safe.
  void Schedule(uint64_t at_micros, std::function<void()> fn, std::shared_ptr<const bool> cancelled = nullptr);
  // Pops the next live event due at or before `limit` (its time in *at); false
  // when there is none.
  bool PopEvent(uint64_t limit, uint64_t* at, Event* event);
  void AdvanceTo(uint64_t micros);

  void StartCall(FakeEndpoint* caller, const ring::NodeInfo& node, uint8_t opcode, std::string body,
                 uint64_t timeout_ms, repl::Transport::AnsweredCallback done);
  void Deliver(const std::shared_ptr<PendingCall>& call);
  void SendReply(const std::shared_ptr<PendingCall>& call, const base::Status& status, std::string_view payload);
  void ArriveReply(const std::shared_ptr<PendingCall>& call, const base::Status& status, const std::string& payload);
  // Ends a call with `status` unless it already ended; returns whether it did.
  bool Finish(const std::shared_ptr<PendingCall>& call, const base::Status& status, std::string_view payload,
              bool answered = false);
  // Fails a call at the current time through the queue, reporting the callee unreachable.
  void FailSoon(const std::shared_ptr<PendingCall>& call, base::Status status, uint64_t* counter);
  // Draws one message's fate on from -> to: false when it is dropped, else its delay.
  bool DrawFate(const std::string& from, const std::string& to, uint64_t* delay_us);
  const LinkFaults& FaultsOf(const std::string& from, const std::string& to) const;
  void ReportAnswered(const PendingCall& call);
  void ReportUnreachable(const PendingCall& call, const base::Status& status);
  void Trace(const PendingCall& call, std::string_view what);

  FakeNetworkOptions options_;
  base::ManualClock clock_;
  base::Random random_;
  std::map<std::string, std::unique_ptr<FakeEndpoint>> endpoints_;
  std::map<std::pair<std::string, std::string>, LinkFaults> link_faults_;
  std::set<std::pair<std::string, std::string>> blocked_;
  std::set<std::string> down_;
  std::map<uint64_t, std::shared_ptr<PendingCall>> in_flight_;  // by call id: calls not finished
  uint64_t next_call_id_ = 1;
  FakeNetworkStats stats_;  // posts: under mu_
  std::vector<std::string> trace_;

  mutable std::mutex mu_;  // guards the queue (Post may come from another thread)
  std::condition_variable posted_;
  std::map<EventKey, Event> queue_;
  uint64_t next_seq_ = 0;
};

}  // namespace kvring::test
