// repl/prober.h — sends the probes the failure detector asks for, and answers the
// probes other members send: the active half of failure detection
// (repl/failure_detector.h has the rules).
//
//   PROBE      req: from:lp                          reply: id:lp generation:varint64
//   PROBE_REQ  req: target_id:lp target_address:lp   reply: reached:u8
// A PROBE is answered by whichever event loop receives it (its answer is the
// proof of life); a PROBE_REQ asks this node to probe `target` for the sender
// (SWIM's indirect ping): it answers "not reached" at once when it holds the
// target down itself, else it probes the target now and answers with the outcome
// (evidence it had before the request may predate the failure being asked about).
// Thread safety: executor thread only (Tick, OnProbeRequest and every callback).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "repl/failure_detector.h"
#include "repl/transport.h"

namespace kvring::repl {

void EncodeProbe(std::string* dst, std::string_view from);
bool DecodeProbe(std::string_view body, std::string* from);
void EncodeProbeReply(std::string* dst, std::string_view id, uint64_t generation);
bool DecodeProbeReply(std::string_view payload, std::string* id, uint64_t* generation);
void EncodeProbeRequest(std::string* dst, const ring::NodeInfo& target);
bool DecodeProbeRequest(std::string_view body, ring::NodeInfo* target);

struct ProberStats {
  uint64_t direct_sent = 0, direct_failed = 0, indirect_sent = 0, indirect_failed = 0, requests_served = 0;
};

class Prober {
 public:
  // Every pointer must outlive the prober.
  Prober(std::string self_id, FailureDetector* detector, Transport* transport, DetectorOptions options);
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;
  // Replies that arrive later (a transport failing its calls as it is torn down)
  // find the prober gone and are dropped.
  ~Prober() { *alive_ = false; }

  // Runs the detector's rules and sends the probes it asks for. Call it every
  // options.probe_interval_ms.
  void Tick();
  // A PROBE_REQ from another member: `reply` gets the payload (reached:u8).
  void OnProbeRequest(std::string_view body, std::function<void(base::Status, std::string)> reply);
  const ProberStats& stats() const { return stats_; }

 private:
  void ProbeDirect(const ring::NodeInfo& target, uint64_t sent_us, uint64_t epoch);
  void ProbeThrough(const ring::NodeInfo& target, const ring::NodeInfo& helper, uint64_t sent_us, uint64_t epoch);

  const std::string self_id_;
  FailureDetector* const detector_;
  Transport* const transport_;
  const DetectorOptions options_;
  ProberStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kvring::repl
