#include "repl/failure_detector.h"

#include <algorithm>

namespace kvring::repl {

const char* LivenessName(Liveness l) {
  switch (l) {
    case Liveness::kUp: return "up";
    case Liveness::kSuspect: return "suspect";
    case Liveness::kDown: return "down";
  }
  return "unknown";
}

FailureDetector::FailureDetector(base::Clock* clock, DetectorOptions options, std::string self_id, uint64_t seed)
    : clock_(clock), options_(options), self_id_(std::move(self_id)), rnd_(seed) {}

void FailureDetector::SetMembers(const std::vector<ring::NodeInfo>& members) {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  std::map<std::string, Peer, std::less<>> next;
  for (const auto& n : members) {
    if (n.id == self_id_) continue;
    auto it = peers_.find(n.id);
    Peer p;
    if (it != peers_.end()) {
      p = std::move(it->second);
    } else {
      p.evidence_us = now;  // a new member gets a full suspicion period
      p.since_us = now;
    }
    p.node = n;
    next.emplace(n.id, std::move(p));
  }
  peers_ = std::move(next);
}

FailureDetector::Peer* FailureDetector::FindByAddress(std::string_view address) {
  for (auto& [id, p] : peers_) {
    if (p.node.address == address) return &p;
  }
  return nullptr;
}

FailureDetector::Peer* FailureDetector::FindById(std::string_view id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

void FailureDetector::SetStateLocked(Peer* p, Liveness state, std::string reason, uint64_t now) {
  if (p->state != state) p->since_us = now;
  p->state = state;
  p->reason = std::move(reason);
}

void FailureDetector::EvidenceLocked(Peer* p, uint64_t now) {
  p->evidence_us = std::max(p->evidence_us, now);
  p->refused = false;
  p->direct_failed = false;
  p->helper_failed = false;
  SetStateLocked(p, Liveness::kUp, "", now);
}

void FailureDetector::ReportAnswered(std::string_view address) {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  if (Peer* p = FindByAddress(address)) EvidenceLocked(p, now);
}

void FailureDetector::ReportUnreachable(std::string_view address, std::string_view reason) {
  base::MutexLock lock(&mu_);
  Peer* p = FindByAddress(address);
  if (p == nullptr) return;
  p->refused = true;
  if (p->state != Liveness::kUp) return;  // keep the first reason
  p->reason.assign(reason);
}

void FailureDetector::ReportHeartbeat(std::string_view id) {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  if (Peer* p = FindById(id)) EvidenceLocked(p, now);
}

void FailureDetector::ReportRelayedHeartbeat(std::string_view id) {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  Peer* p = FindById(id);
  if (p != nullptr && p->state == Liveness::kUp) p->evidence_us = std::max(p->evidence_us, now);
}

void FailureDetector::ReportSuspicions(std::string_view from, const std::vector<std::string>& suspects) {
  base::MutexLock lock(&mu_);
  for (auto& [id, p] : peers_) {
    if (std::binary_search(suspects.begin(), suspects.end(), id)) {
      p.suspected_by.emplace(from);
    } else {
      p.suspected_by.erase(std::string(from));
    }
  }
}

void FailureDetector::DiscountStallLocked(uint64_t now) {
  const uint64_t scheduled = last_tick_us_ + options_.probe_interval_ms * 1000;
  if (last_tick_us_ == 0 || now <= scheduled + options_.stall_ms * 1000) return;
  // We were not running: the silence we saw was ours. Forget probes sent before
  // the stall and give every member a fresh suspicion period.
  const uint64_t stall = now - scheduled;
  ++stalls_;
  ++epoch_;
  grace_until_us_ = now + options_.suspect_after_ms * 1000;
  for (auto& [id, p] : peers_) {
    p.evidence_us = std::min(now, p.evidence_us + stall);
    p.direct_in_flight = false;
    p.indirect_in_flight = false;
    p.direct_failed = false;
    p.helper_failed = false;
  }
}

bool FailureDetector::SecondOpinionLocked(const Peer& p) const {
  if (p.helper_failed) return true;
  for (const auto& who : p.suspected_by) {
    auto it = peers_.find(who);
    if (it != peers_.end() && it->second.state == Liveness::kUp) return true;
  }
  // Nobody else to ask: the first opinion is all there is.
  for (const auto& [id, other] : peers_) {
    if (&other != &p && other.state == Liveness::kUp) return false;
  }
  return true;
}

std::vector<ring::NodeInfo> FailureDetector::HelpersLocked(const Peer& target) {
  std::vector<const Peer*> up;
  for (const auto& [id, p] : peers_) {
    if (&p != &target && p.state == Liveness::kUp) up.push_back(&p);
  }
  std::vector<ring::NodeInfo> helpers;
  while (!up.empty() && helpers.size() < options_.indirect_probes) {
    const size_t i = rnd_.Uniform(up.size());
    helpers.push_back(up[i]->node);
    up.erase(up.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return helpers;
}

void FailureDetector::StepLocked(Peer* p, uint64_t now, ProbePlan* plan) {
  const uint64_t silent_us = now - std::min(now, p->evidence_us);
  if (p->state == Liveness::kUp && now >= grace_until_us_ &&
      (p->refused || silent_us > options_.suspect_after_ms * 1000)) {
    SetStateLocked(p, Liveness::kSuspect,
                   p->refused && !p->reason.empty()
                       ? p->reason
                       : "no heartbeat or probe reply for " + std::to_string(silent_us / 1000) + "ms",
                   now);
  }
  if (!p->direct_in_flight && (p->state != Liveness::kUp || silent_us >= options_.probe_interval_ms * 1000)) {
    p->direct_in_flight = true;
    plan->direct.push_back(p->node);
  }
  // Ask others as soon as our own probe went unanswered, so their verdict is in
  // when the suspicion period ends.
  if ((p->state != Liveness::kUp || p->direct_failed) && !p->indirect_in_flight) {
    std::vector<ring::NodeInfo> helpers = HelpersLocked(*p);
    if (!helpers.empty()) {
      p->indirect_in_flight = true;
      plan->indirect.emplace_back(p->node, std::move(helpers));
    }
  }
  MaybeConvictLocked(p, now);
}

void FailureDetector::MaybeConvictLocked(Peer* p, uint64_t now) {
  if (p->state == Liveness::kSuspect && p->direct_failed && SecondOpinionLocked(*p)) {
    SetStateLocked(p, Liveness::kDown, p->reason, now);
  }
}

ProbePlan FailureDetector::Tick() {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  DiscountStallLocked(now);
  last_tick_us_ = now;
  ProbePlan plan;
  plan.sent_us = now;
  plan.epoch = epoch_;
  for (auto& [id, p] : peers_) StepLocked(&p, now, &plan);
  return plan;
}

void FailureDetector::OnDirectProbe(std::string_view id, bool reached, uint64_t sent_us, uint64_t epoch) {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  Peer* p = FindById(id);
  if (p == nullptr || epoch != epoch_) return;
  p->direct_in_flight = false;
  if (reached) {
    EvidenceLocked(p, now);
  } else if (sent_us >= p->evidence_us) {
    p->direct_failed = true;
    MaybeConvictLocked(p, now);
  }
}

void FailureDetector::OnIndirectProbe(std::string_view id, bool reached, uint64_t sent_us, uint64_t epoch) {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  Peer* p = FindById(id);
  if (p == nullptr || epoch != epoch_) return;
  p->indirect_in_flight = false;
  if (reached) {
    EvidenceLocked(p, now);
  } else if (sent_us >= p->evidence_us) {
    p->helper_failed = true;
    MaybeConvictLocked(p, now);
  }
}

void FailureDetector::OnHelperSilent(std::string_view id, uint64_t epoch) {
  base::MutexLock lock(&mu_);
  Peer* p = FindById(id);
  if (p != nullptr && epoch == epoch_) p->indirect_in_flight = false;
}

bool FailureDetector::IsDown(const ring::NodeInfo& node) const { return StateOf(node.id) == Liveness::kDown; }

bool FailureDetector::IsDown(std::string_view address) const {
  base::MutexLock lock(&mu_);
  for (const auto& [id, p] : peers_) {
    if (p.node.address == address) return p.state == Liveness::kDown;
  }
  return false;
}

uint64_t FailureDetector::EvidenceUs(std::string_view address) const {
  base::MutexLock lock(&mu_);
  for (const auto& [id, p] : peers_) {
    if (p.node.address == address) return p.evidence_us;
  }
  return 0;
}

Liveness FailureDetector::StateOf(std::string_view id) const {
  base::MutexLock lock(&mu_);
  auto it = peers_.find(id);
  return it == peers_.end() ? Liveness::kUp : it->second.state;
}

PeerLiveness FailureDetector::Get(std::string_view id) const {
  base::MutexLock lock(&mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return PeerLiveness();
  const Peer& p = it->second;
  return PeerLiveness{p.node, p.state, p.reason, p.since_us, p.evidence_us,
                      std::vector<std::string>(p.suspected_by.begin(), p.suspected_by.end())};
}

std::vector<std::string> FailureDetector::Suspected() const {
  base::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_) {
    if (p.state != Liveness::kUp) out.push_back(id);
  }
  return out;  // the map is sorted by id
}

bool FailureDetector::Fresh(std::string_view id) const {
  const uint64_t now = clock_->NowMicros();
  base::MutexLock lock(&mu_);
  auto it = peers_.find(id);
  return it != peers_.end() && it->second.state == Liveness::kUp &&
         now - std::min(now, it->second.evidence_us) < options_.probe_interval_ms * 1000;
}

uint64_t FailureDetector::stalls() const {
  base::MutexLock lock(&mu_);
  return stalls_;
}

}  // namespace kvring::repl
