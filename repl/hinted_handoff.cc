#include "repl/hinted_handoff.h"

#include <algorithm>

#include "repl/messages.h"
#include "repl/value_format.h"

namespace kvring::repl {

using base::Status;

struct HintedHandoff::Session {
  ring::NodeInfo owner;
  std::deque<Hint> queue;     // listed, not sent yet
  std::string after_key;      // the last key listed
  size_t in_flight = 0;
  bool listing = false;
  bool exhausted = false;     // the last listing returned less than a batch
  bool ended = false;
};

HintedHandoff::HintedHandoff(HandoffOptions options, HintStore* hints, ReplicaStore* store,
                             const FailureDetector* liveness, ring::MembershipView* view, Transport* transport,
                             Executor* executor, base::ThreadPool* io, base::Clock* clock, base::Logger* logger)
    : options_(options),
      hints_(hints),
      store_(store),
      liveness_(liveness),
      view_(view),
      transport_(transport),
      executor_(executor),
      io_(io),
      clock_(clock),
      logger_(logger),
      throttle_({.max_rate = options.rate_bytes_per_sec,
                 .min_rate = std::min<uint64_t>(options.rate_bytes_per_sec, 1ull << 20),
                 .slow_us = options.slow_rtt_us,
                 .slow_lag_us = options.slow_lag_us},
                clock),
      tick_lag_(options.tick_us),
      clients_(options.min_client_requests),
      alive_(std::make_shared<bool>(true)) {}

HintedHandoff::~HintedHandoff() { *alive_ = false; }

double HintedHandoff::LoopBusy(uint64_t now) {
  if (!idle_micros_) return 0;
  const uint64_t idle = idle_micros_();
  const uint64_t period = now - last_tick_us_, waited = idle - last_idle_us_;
  const bool first = last_tick_us_ == 0;
  last_tick_us_ = now, last_idle_us_ = idle;
  if (first || period == 0) return 0;
  const double busy = waited >= period ? 0 : 1 - static_cast<double>(waited) / static_cast<double>(period);
  loop_busy_pct_ = static_cast<uint64_t>(busy * 100 + 0.5);
  return busy;
}

void HintedHandoff::MeasureClients(bool replaying) {
  const std::optional<uint64_t> mean = clients_.Sample();
  if (!mean) return;
  client_latency_us_ = *mean;
  throttle_.OnClientLatency(client_latency_us_, replaying);
}

void HintedHandoff::Tick() {
  const uint64_t now = clock_->NowMicros();
  const uint64_t lag = tick_lag_.Fired(now);
  const double busy = LoopBusy(now);
  MeasureClients(!sessions_.empty());
  if (!sessions_.empty()) {
    throttle_.OnLoopLag(lag);
    if (idle_micros_) throttle_.OnLoopBusy(busy);
  }
  auto ring = view_->Current();
  auto transition = view_->Transition();  // a joining node is a member of its ring only
  for (const std::string& id : hints_->Owners()) {
    if (sessions_.count(id) != 0 || Paused(id, now)) continue;
    const ring::NodeInfo* owner = ring->FindNode(id);
    if (owner == nullptr && transition != nullptr) owner = transition->to().FindNode(id);
    if (owner == nullptr || liveness_->StateOf(id) != Liveness::kUp) continue;
    Start(*owner);
  }
  // Pump may end a session (erasing it): walk a copy.
  std::vector<std::shared_ptr<Session>> running;
  for (const auto& [id, s] : sessions_) running.push_back(s);
  for (const auto& s : running) Pump(s);
}

bool HintedHandoff::Paused(const std::string& owner, uint64_t now) {
  auto it = paused_until_us_.find(owner);
  if (it == paused_until_us_.end()) return false;
  if (now < it->second) return true;
  paused_until_us_.erase(it);
  return false;
}

void HintedHandoff::Start(const ring::NodeInfo& owner) {
  auto s = std::make_shared<Session>();
  s->owner = owner;
  sessions_[owner.id] = s;
  stats_.sessions++;
  LOG_INFO(logger_, "hinted handoff to %s: replaying %llu hints", owner.id.c_str(),
           static_cast<unsigned long long>(hints_->Stats(owner.id).pending));
  ListNext(s);
}

void HintedHandoff::ListNext(const std::shared_ptr<Session>& s) {
  s->listing = true;
  // The I/O thread touches only what outlives the handoff (the hint store, the
  // executor); the handoff itself only back on the executor, if it still exists.
  io_->Submit([this, s, alive = alive_, hints = hints_, ex = executor_, batch = options_.batch,
               owner = s->owner.id, after = s->after_key] {
    auto listed = std::make_shared<std::vector<Hint>>();
    Status st = hints->List(owner, after, batch, listed.get());
    ex->Post([this, s, alive, st, listed] {
      if (!*alive || s->ended) return;
      s->listing = false;
      if (!st.ok()) return End(s, st.ToString().c_str());
      s->exhausted = listed->size() < options_.batch;
      if (!listed->empty()) s->after_key = listed->back().key;
      for (auto& h : *listed) s->queue.push_back(std::move(h));
      Pump(s);
    });
  });
}

void HintedHandoff::Pump(const std::shared_ptr<Session>& s) {
  if (s->ended) return;
  if (liveness_->StateOf(s->owner.id) != Liveness::kUp) return End(s, "the owner is no longer up");
  while (!s->queue.empty() && s->in_flight < options_.max_in_flight && throttle_.Take(s->queue.front().bytes)) {
    Hint h = std::move(s->queue.front());
    s->queue.pop_front();
    Send(s, std::move(h));
  }
  if (s->queue.empty() && !s->listing) {
    if (!s->exhausted) return ListNext(s);
    if (s->in_flight == 0) End(s, "done");
  }
}

void HintedHandoff::Send(const std::shared_ptr<Session>& s, Hint hint) {
  s->in_flight++;
  store_->Read(executor_, hint.key, [this, s, hint](Status st, std::optional<SiblingSet> set) {
    if (s->ended) return;
    if (!st.ok()) return Done(s, hint, st);
    if (!set) {  // nothing here to hand over
      stats_.missing++;
      return Done(s, hint, Status::OK());
    }
    std::string body;
    EncodeReplicaWrite(&body, hint.key, *set);
    stats_.replayed_bytes += body.size();
    const uint64_t sent_us = clock_->NowMicros();
    transport_->Call(s->owner, Op(ClusterOpcode::kReplicaWrite), std::move(body), options_.timeout_ms,
                     [this, s, hint, sent_us](const Status& sent, std::string_view) {
                       if (sent.ok()) throttle_.OnReply(clock_->NowMicros() - sent_us);
                       Done(s, hint, sent);
                     });
  });
}

void HintedHandoff::Done(const std::shared_ptr<Session>& s, const Hint& hint, const Status& status) {
  s->in_flight--;
  if (status.IsInvalidArgument() || status.IsTooLarge()) {
    // The owner read the set and refused it (repl/peer_set.h, a merge too large):
    // sending it again would get the same answer and hold up every hint behind
    // it. This node keeps its copy of the data; only the hint goes.
    stats_.refused++;
    LOG_WARN(logger_, "hinted handoff to %s: key '%s' refused, hint dropped (this node keeps the data): %s",
             s->owner.id.c_str(), hint.key.c_str(), status.ToString().c_str());
  } else if (!status.ok()) {
    stats_.failures++;
    if (status.IsNoSpace()) paused_until_us_[s->owner.id] = clock_->NowMicros() + options_.no_space_pause_us;
    LOG_INFO(logger_, "hinted handoff to %s stopped: %s", s->owner.id.c_str(), status.ToString().c_str());
    return End(s, "send failed");
  }
  hints_->Remove(executor_, hint, [this, s, alive = alive_](Status st, RemoveOutcome outcome) {
    if (!*alive) return;
    if (st.ok() && outcome == RemoveOutcome::kRemoved) stats_.replayed++;
    if (!s->ended) Pump(s);
  });
}

void HintedHandoff::End(const std::shared_ptr<Session>& s, const char* why) {
  if (s->ended) return;
  s->ended = true;
  sessions_.erase(s->owner.id);
  LOG_INFO(logger_, "hinted handoff to %s ended (%s): %llu hints left", s->owner.id.c_str(), why,
           static_cast<unsigned long long>(hints_->Stats(s->owner.id).pending));
}

}  // namespace kvring::repl
