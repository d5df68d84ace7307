#include "test/util/fake_transport.h"

#include <chrono>
#include <cstdio>
#include <limits>

namespace kvring::test {

using base::Status;

namespace {

constexpr auto kExternalPostWait = std::chrono::seconds(10);

std::string OpcodeText(uint8_t opcode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", opcode);
  return buf;
}

}  // namespace

// One call from its Call to its `done`.
struct FakeNetwork::PendingCall {
  uint64_t id = 0;
  FakeEndpoint* caller = nullptr;
  std::string to;  // the callee's address
  uint8_t opcode = 0;
  uint64_t timeout_ms = 0;
  std::string body;  // lives until the call and its reply are gone: the handler's view of it stays valid
  repl::Transport::AnsweredCallback done;
  bool finished = false;  // done has run (or is about to)
  bool replied = false;   // the handler answered
  std::shared_ptr<bool> deadline_cancelled = std::make_shared<bool>(false);
};

// --- FakeEndpoint ------------------------------------------------------------------

void FakeEndpoint::Send(const ring::NodeInfo& node, uint8_t opcode, std::string body, uint64_t timeout_ms,
                        AnsweredCallback done) {
  network_->StartCall(this, node, opcode, std::move(body), timeout_ms, std::move(done));
}

void FakeEndpoint::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(network_->mu_);
    network_->stats_.posts++;
  }
  network_->Schedule(network_->clock_.NowMicros(), std::move(fn));
}

uint64_t FakeEndpoint::received(uint8_t opcode) const {
  auto it = received_.find(opcode);
  return it == received_.end() ? 0 : it->second;
}

// --- FakeNetwork: set-up and faults --------------------------------------------------

FakeNetwork::FakeNetwork(FakeNetworkOptions options)
    : options_(std::move(options)), clock_(options_.start_micros), random_(options_.seed) {}

FakeNetwork::~FakeNetwork() = default;

FakeEndpoint* FakeNetwork::Endpoint(const std::string& address) {
  auto it = endpoints_.find(address);
  if (it == endpoints_.end()) {
    it = endpoints_.emplace(address, std::unique_ptr<FakeEndpoint>(new FakeEndpoint(this, address))).first;
  }
  return it->second.get();
}

void FakeNetwork::SetLinkFaults(const std::string& from, const std::string& to, const LinkFaults& faults) {
  link_faults_[{from, to}] = faults;
}

void FakeNetwork::Block(const std::string& from, const std::string& to) { blocked_.insert({from, to}); }

void FakeNetwork::Partition(const std::vector<std::string>& side_a, const std::vector<std::string>& side_b) {
  for (const auto& a : side_a) {
    for (const auto& b : side_b) {
      Block(a, b);
      Block(b, a);
    }
  }
}

void FakeNetwork::Isolate(const std::string& address) {
  for (const auto& [other, endpoint] : endpoints_) {
    if (other == address) continue;
    Block(address, other);
    Block(other, address);
  }
}

bool FakeNetwork::IsBlocked(const std::string& from, const std::string& to) const {
  return blocked_.count({from, to}) != 0;
}

void FakeNetwork::SetDown(const std::string& address, bool down) {
  if (!down) {
    down_.erase(address);
    return;
  }
  down_.insert(address);
  // The process is gone: its connections close, failing every call on them.
  for (const auto& [id, call] : in_flight_) {
    if (call->to != address && call->caller->address() != address) continue;
    FailSoon(call, Status::Aborted("connection to " + call->to + " lost: peer closed the connection"),
             &stats_.lost);
  }
}

const LinkFaults& FakeNetwork::FaultsOf(const std::string& from, const std::string& to) const {
  auto it = link_faults_.find({from, to});
  return it == link_faults_.end() ? options_.faults : it->second;
}

bool FakeNetwork::DrawFate(const std::string& from, const std::string& to, uint64_t* delay_us) {
  const LinkFaults& f = FaultsOf(from, to);
  if (f.drop_probability > 0 && random_.NextDouble() < f.drop_probability) return false;
  *delay_us = f.max_delay_us > f.min_delay_us ? random_.Range(f.min_delay_us, f.max_delay_us) : f.min_delay_us;
  return true;
}

// --- FakeNetwork: the life of a call -----------------------------------------------

void FakeNetwork::StartCall(FakeEndpoint* caller, const ring::NodeInfo& node, uint8_t opcode, std::string body,
                            uint64_t timeout_ms, repl::Transport::AnsweredCallback done) {
  stats_.calls++;
  auto call = std::make_shared<PendingCall>();
  call->id = next_call_id_++;
  call->caller = caller;
  call->to = node.address;
  call->opcode = opcode;
  call->timeout_ms = timeout_ms;
  call->body = std::move(body);
  call->done = std::move(done);
  in_flight_[call->id] = call;
  Trace(*call, "sent");
  Schedule(
      now() + timeout_ms * 1000,
      [this, call] {
        if (call->finished) return;
        stats_.timeouts++;
        Trace(*call, "timed out");
        Finish(call,
               Status::TimedOut("request to " + call->to + " timed out after " + std::to_string(call->timeout_ms) +
                                "ms"),
               {});
      },
      call->deadline_cancelled);

  const std::string& from = caller->address();
  if (IsDown(from)) {
    FailSoon(call, Status::Unavailable("connection to " + call->to + " failed: connect: Network is unreachable"),
             &stats_.refused);
    return;
  }
  if (endpoints_.count(call->to) == 0 || IsDown(call->to)) {
    FailSoon(call, Status::Unavailable("connection to " + call->to + " failed: connect: Connection refused"),
             &stats_.refused);
    return;
  }
  if (IsBlocked(from, call->to)) {
    if (options_.partition_mode == PartitionMode::kRefused) {
      FailSoon(call, Status::Unavailable("connection to " + call->to + " failed: connect: No route to host"),
               &stats_.refused);
    } else {
      stats_.dropped++;
      Trace(*call, "request lost in a black hole");
    }
    return;
  }
  uint64_t delay = 0;
  if (!DrawFate(from, call->to, &delay)) {
    stats_.dropped++;
    Trace(*call, "request dropped");
    return;
  }
  Schedule(now() + delay, [this, call] { Deliver(call); });
}

void FakeNetwork::Deliver(const std::shared_ptr<PendingCall>& call) {
  const std::string& from = call->caller->address();
  if (IsDown(call->to) || IsDown(from)) {
    Trace(*call, "request not delivered: a node is down");  // SetDown failed the call already
    return;
  }
  if (IsBlocked(from, call->to)) {  // cut while the request travelled
    if (options_.partition_mode == PartitionMode::kRefused) {
      FailSoon(call, Status::Aborted("connection to " + call->to + " lost: No route to host"), &stats_.lost);
    } else {
      stats_.dropped++;
      Trace(*call, "request lost in a black hole");
    }
    return;
  }
  FakeEndpoint* callee = endpoints_.at(call->to).get();
  callee->received_[call->opcode]++;
  stats_.delivered++;
  Trace(*call, "delivered");
  if (!callee->handler_) {
    SendReply(call, Status::NotSupported("unknown opcode " + OpcodeText(call->opcode)), {});
    return;
  }
  callee->handler_(call->opcode, call->body,
                   [this, call](const Status& status, std::string_view payload) { SendReply(call, status, payload); });
}

void FakeNetwork::SendReply(const std::shared_ptr<PendingCall>& call, const Status& status,
                            std::string_view payload) {
  if (call->replied) {
    stats_.duplicate_replies++;
    Trace(*call, "second reply ignored");
    return;
  }
  call->replied = true;
  const std::string& to = call->caller->address();
  if (IsDown(call->to) || IsDown(to)) {
    stats_.dropped++;  // the connection died with the node (SetDown failed the call)
    Trace(*call, "reply dropped: a node is down");
    return;
  }
  if (IsBlocked(call->to, to)) {
    if (options_.partition_mode == PartitionMode::kRefused) {
      FailSoon(call, Status::Aborted("connection to " + call->to + " lost: No route to host"), &stats_.lost);
    } else {
      stats_.dropped++;
      Trace(*call, "reply lost in a black hole");
    }
    return;
  }
  uint64_t delay = 0;
  if (!DrawFate(call->to, to, &delay)) {
    stats_.dropped++;
    Trace(*call, "reply dropped");
    return;
  }
  Schedule(now() + delay, [this, call, status, data = std::string(payload)] { ArriveReply(call, status, data); });
}

void FakeNetwork::ArriveReply(const std::shared_ptr<PendingCall>& call, const Status& status,
                              const std::string& payload) {
  if (call->finished) {
    stats_.late_replies++;
    Trace(*call, "late reply dropped");
    return;
  }
  stats_.replies++;
  Trace(*call, status.ok() ? "reply OK" : "reply " + status.ToString());
  ReportAnswered(*call);
  Finish(call, status, payload, /*answered=*/true);
}

bool FakeNetwork::Finish(const std::shared_ptr<PendingCall>& call, const Status& status, std::string_view payload,
                         bool answered) {
  if (call->finished) return false;
  call->finished = true;
  *call->deadline_cancelled = true;
  in_flight_.erase(call->id);
  repl::Transport::AnsweredCallback done = std::move(call->done);
  done(status, payload, answered);
  return true;
}

void FakeNetwork::FailSoon(const std::shared_ptr<PendingCall>& call, Status status, uint64_t* counter) {
  Schedule(now(), [this, call, status = std::move(status), counter] {
    if (call->finished) return;
    (*counter)++;
    Trace(*call, status.ToString());
    ReportUnreachable(*call, status);
    Finish(call, status, {});
  });
}

void FakeNetwork::ReportAnswered(const PendingCall& call) {
  if (call.caller->detector_ != nullptr) call.caller->detector_->ReportAnswered(call.to);
}

void FakeNetwork::ReportUnreachable(const PendingCall& call, const Status& status) {
  if (call.caller->detector_ != nullptr) call.caller->detector_->ReportUnreachable(call.to, status.message());
}

void FakeNetwork::Trace(const PendingCall& call, std::string_view what) {
  if (!options_.trace) return;
  trace_.push_back("t=" + std::to_string(now()) + " #" + std::to_string(call.id) + " " + call.caller->address() +
                   " -> " + call.to + " " + OpcodeText(call.opcode) + " " + std::string(what));
}

// --- FakeNetwork: the event queue ----------------------------------------------------

void FakeNetwork::Schedule(uint64_t at_micros, std::function<void()> fn, std::shared_ptr<const bool> cancelled) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace(EventKey{at_micros, next_seq_++}, Event{std::move(fn), std::move(cancelled)});
  }
  posted_.notify_all();
}

bool FakeNetwork::PopEvent(uint64_t limit, uint64_t* at, Event* event) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!queue_.empty()) {
    auto it = queue_.begin();
    if (it->second.cancelled != nullptr && *it->second.cancelled) {
      queue_.erase(it);
      continue;
    }
    if (it->first.first > limit) return false;
    *at = it->first.first;
    *event = std::move(it->second);
    queue_.erase(it);
    return true;
  }
  return false;
}

void FakeNetwork::AdvanceTo(uint64_t micros) {
  const uint64_t current = clock_.NowMicros();
  if (micros > current) clock_.Advance(micros - current);
}

size_t FakeNetwork::RunUntilIdle() {
  size_t ran = 0;
  uint64_t at = 0;
  Event event;
  while (PopEvent(std::numeric_limits<uint64_t>::max(), &at, &event)) {
    AdvanceTo(at);
    event.fn();
    ++ran;
  }
  return ran;
}

size_t FakeNetwork::RunFor(uint64_t micros) {
  const uint64_t until = now() + micros;
  size_t ran = 0;
  uint64_t at = 0;
  Event event;
  while (PopEvent(until, &at, &event)) {
    AdvanceTo(at);
    event.fn();
    ++ran;
  }
  AdvanceTo(until);
  return ran;
}

bool FakeNetwork::RunUntil(const std::function<bool()>& done, uint64_t max_micros) {
  const uint64_t limit = now() + max_micros;
  uint64_t at = 0;
  Event event;
  while (!done()) {
    if (PopEvent(limit, &at, &event)) {
      AdvanceTo(at);
      event.fn();
      continue;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (!queue_.empty()) return false;  // the next event is past the budget
    // Nothing queued: only another thread (an I/O pool) can still post work.
    if (!posted_.wait_for(lock, kExternalPostWait, [this] { return !queue_.empty(); })) return done();
  }
  return true;
}

bool FakeNetwork::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, event] : queue_) {
    if (event.cancelled == nullptr || !*event.cancelled) return false;
  }
  return true;
}

FakeNetworkStats FakeNetwork::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace kvring::test
