#include "repl/prober.h"

#include "base/coding.h"
#include "repl/messages.h"

namespace kvring::repl {

using base::Status;

void EncodeProbe(std::string* dst, std::string_view from) { base::PutLengthPrefixed(dst, from); }

bool DecodeProbe(std::string_view body, std::string* from) {
  std::string_view v;
  if (!base::GetLengthPrefixed(&body, &v) || !body.empty()) return false;
  from->assign(v);
  return true;
}

void EncodeProbeReply(std::string* dst, std::string_view id, uint64_t generation) {
  base::PutLengthPrefixed(dst, id);
  base::PutVarint64(dst, generation);
}

bool DecodeProbeReply(std::string_view payload, std::string* id, uint64_t* generation) {
  std::string_view v;
  if (!base::GetLengthPrefixed(&payload, &v) || !base::GetVarint64(&payload, generation) || !payload.empty()) {
    return false;
  }
  id->assign(v);
  return true;
}

void EncodeProbeRequest(std::string* dst, const ring::NodeInfo& target) {
  base::PutLengthPrefixed(dst, target.id);
  base::PutLengthPrefixed(dst, target.address);
}

bool DecodeProbeRequest(std::string_view body, ring::NodeInfo* target) {
  std::string_view id, address;
  if (!base::GetLengthPrefixed(&body, &id) || !base::GetLengthPrefixed(&body, &address) || !body.empty()) {
    return false;
  }
  target->id.assign(id);
  target->address.assign(address);
  return true;
}

Prober::Prober(std::string self_id, FailureDetector* detector, Transport* transport, DetectorOptions options)
    : self_id_(std::move(self_id)), detector_(detector), transport_(transport), options_(options) {}

void Prober::Tick() {
  ProbePlan plan = detector_->Tick();
  for (const auto& target : plan.direct) ProbeDirect(target, plan.sent_us, plan.epoch);
  for (const auto& [target, helpers] : plan.indirect) {
    for (const auto& helper : helpers) ProbeThrough(target, helper, plan.sent_us, plan.epoch);
  }
}

void Prober::ProbeDirect(const ring::NodeInfo& target, uint64_t sent_us, uint64_t epoch) {
  stats_.direct_sent++;
  std::string body;
  EncodeProbe(&body, self_id_);
  transport_->Call(target, Op(ClusterOpcode::kProbe), std::move(body), options_.probe_timeout_ms,
                   [this, alive = alive_, id = target.id, sent_us, epoch](const Status& s, std::string_view) {
                     if (!*alive) return;
                     if (!s.ok()) stats_.direct_failed++;
                     detector_->OnDirectProbe(id, s.ok(), sent_us, epoch);
                   });
}

void Prober::ProbeThrough(const ring::NodeInfo& target, const ring::NodeInfo& helper, uint64_t sent_us,
                          uint64_t epoch) {
  stats_.indirect_sent++;
  std::string body;
  EncodeProbeRequest(&body, target);
  // The helper probes with the same deadline: give it time to answer "not reached".
  const uint64_t timeout_ms = 2 * options_.probe_timeout_ms;
  transport_->Call(helper, Op(ClusterOpcode::kProbeRequest), std::move(body), timeout_ms,
                   [this, alive = alive_, id = target.id, sent_us, epoch](const Status& s,
                                                                           std::string_view payload) {
                     if (!*alive) return;
                     if (!s.ok()) return detector_->OnHelperSilent(id, epoch);  // no opinion on the target
                     const bool reached = payload.size() == 1 && payload[0] == 1;
                     if (!reached) stats_.indirect_failed++;
                     detector_->OnIndirectProbe(id, reached, sent_us, epoch);
                   });
}

void Prober::OnProbeRequest(std::string_view body, std::function<void(Status, std::string)> reply) {
  ring::NodeInfo target;
  if (!DecodeProbeRequest(body, &target)) return reply(Status::InvalidArgument("malformed PROBE_REQ body"), "");
  stats_.requests_served++;
  // Only an answer to a probe sent now counts: earlier evidence may predate the
  // failure the requester is asking about.
  if (detector_->StateOf(target.id) == Liveness::kDown) return reply(Status::OK(), std::string(1, '\x00'));
  std::string probe;
  EncodeProbe(&probe, self_id_);
  transport_->Call(target, Op(ClusterOpcode::kProbe), std::move(probe), options_.probe_timeout_ms,
                   [reply = std::move(reply)](const Status& s, std::string_view) {
                     reply(Status::OK(), std::string(1, s.ok() ? '\x01' : '\x00'));
                   });
}

}  // namespace kvring::repl
