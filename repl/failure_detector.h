// repl/failure_detector.h — the node's one view of which members are alive, and
// the rules that decide it. Every coordinator (error wording, forwarding, sloppy
// quorums), the gossip and `kvctl status` read the same view: "is n3 down?" has one
// answer per node.
//
// Evidence that a member lives: any reply from it (the transports report every
// answer, whatever its status), a direct probe answered, a helper that reached it
// for us, gossip it sent us, or gossip relaying that its heartbeat moved (this
// last keeps an up member up, but never brings a suspect or down one back: a
// relayed heartbeat can be a second old, raised just before the member stopped,
// and would make a stopped member flap suspect -> up -> suspect). The rules (docs/replication.md,
// "Failure detection"):
//   1. up -> suspect: no evidence for suspect_after_ms, or its connection was
//      refused or lost (a dead process, at once).
//   2. Every member is probed directly every probe_interval_ms it has given no
//      evidence; one whose direct probe went unanswered (and every suspect) is
//      also probed through up to `indirect_probes` other members (SWIM's
//      indirect ping), so a member is never judged on relayed state alone.
//   3. suspect -> down: a direct probe sent after its last evidence went
//      unanswered, AND a second member agrees: a helper could not reach it either,
//      or gossip says another live member suspects it (Dynamo's "at least two
//      members"). A cluster with no other member to ask needs the first alone.
//   4. -> up: as soon as any first-hand evidence arrives.
//   5. Lifeguard's local health: a Tick that runs much later than scheduled means
//      this node itself stalled (CPU starvation, SIGSTOP): the silence of the
//      stall is not held against anyone (evidence times move forward by the
//      stall), probes sent before it are forgotten, and no one is suspected for
//      suspect_after_ms after it.
// Peers are watched by member id; transports report by address.
// Thread safety: thread-safe (one mutex). Tick and the probe results come from the
// executor that runs the probing; reports and queries from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/random.h"
#include "base/thread_annotations.h"
#include "ring/node_info.h"

namespace kvring::repl {

struct DetectorOptions {
  uint64_t probe_interval_ms = 500;  // a member silent this long is probed directly
  uint64_t suspect_after_ms = 1000;  // a member silent this long is suspected
  uint64_t probe_timeout_ms = 500;   // deadline of a direct or indirect probe
  size_t indirect_probes = 2;        // helpers asked to probe a suspect
  uint64_t stall_ms = 250;           // a Tick this much later than scheduled is a local stall
};

enum class Liveness : uint8_t { kUp = 0, kSuspect = 1, kDown = 2 };
const char* LivenessName(Liveness l);  // "up", "suspect", "down"

struct PeerLiveness {
  ring::NodeInfo node;
  Liveness state = Liveness::kUp;
  std::string reason;                     // why suspected or down; empty when up
  uint64_t since_us = 0;                  // monotonic time of the last change of state
  uint64_t evidence_us = 0;               // monotonic time of the last sign of life
  std::vector<std::string> suspected_by;  // other members whose gossip says they suspect it
};

// The probes a Tick asks for. `epoch` goes back with each result: results of
// probes sent before a local stall are ignored.
struct ProbePlan {
  std::vector<ring::NodeInfo> direct;
  std::vector<std::pair<ring::NodeInfo, std::vector<ring::NodeInfo>>> indirect;  // target, helpers
  uint64_t sent_us = 0;
  uint64_t epoch = 0;
};

class FailureDetector {
 public:
  // *clock must outlive the detector. self_id: this node (never watched).
  FailureDetector(base::Clock* clock, DetectorOptions options = {}, std::string self_id = "", uint64_t seed = 1);
  FailureDetector(const FailureDetector&) = delete;
  FailureDetector& operator=(const FailureDetector&) = delete;

  // The members to watch (gossip calls it whenever the member list changes).
  // New members start up with fresh evidence; members no longer listed are dropped.
  void SetMembers(const std::vector<ring::NodeInfo>& members);

  // Evidence. The peer at `address` answered something (a transport saw a reply).
  void ReportAnswered(std::string_view address);
  // Its connection was refused or lost: `reason` names how.
  void ReportUnreachable(std::string_view address, std::string_view reason);
  // Member `id` sent us gossip itself.
  void ReportHeartbeat(std::string_view id);
  // Gossip from another member showed `id`'s heartbeat move: evidence for an up
  // member only (a suspect must answer a probe, ours or a helper's, or speak).
  void ReportRelayedHeartbeat(std::string_view id);
  // Gossip: member `from` suspects (or holds down) exactly `suspects`.
  void ReportSuspicions(std::string_view from, const std::vector<std::string>& suspects);

  // Advances the rules at the clock's time and says which probes to send now.
  ProbePlan Tick();
  // A direct probe of `id` (from the plan of `epoch`, sent at sent_us) came back.
  void OnDirectProbe(std::string_view id, bool reached, uint64_t sent_us, uint64_t epoch);
  // A helper's probe of `id` came back: reached means the helper got an answer.
  void OnIndirectProbe(std::string_view id, bool reached, uint64_t sent_us, uint64_t epoch);
  // The helper itself did not answer: no opinion on `id`, but the next Tick may ask again.
  void OnHelperSilent(std::string_view id, uint64_t epoch);

  bool IsDown(const ring::NodeInfo& node) const;
  bool IsDown(std::string_view address) const;
  // Monotonic time of the last evidence of the member at `address` (0: unknown).
  uint64_t EvidenceUs(std::string_view address) const;
  Liveness StateOf(std::string_view id) const;
  // What is known of member `id` (a default PeerLiveness for an unknown id).
  PeerLiveness Get(std::string_view id) const;
  // Members this node suspects or holds down, sorted (what its gossip publishes).
  std::vector<std::string> Suspected() const;
  // True when member `id` gave evidence within the last probe interval (a helper
  // answers an indirect probe at once then).
  bool Fresh(std::string_view id) const;
  uint64_t stalls() const;  // local stalls seen so far

 private:
  struct Peer {
    ring::NodeInfo node;
    Liveness state = Liveness::kUp;
    std::string reason;
    uint64_t since_us = 0;
    uint64_t evidence_us = 0;
    bool refused = false;           // its connection was refused or lost since its last evidence
    bool direct_failed = false;     // a direct probe sent after the last evidence failed
    bool helper_failed = false;     // a helper's probe sent after the last evidence failed
    bool direct_in_flight = false;
    bool indirect_in_flight = false;
    std::set<std::string> suspected_by;
  };

  Peer* FindByAddress(std::string_view address) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Peer* FindById(std::string_view id) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvidenceLocked(Peer* p, uint64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetStateLocked(Peer* p, Liveness state, std::string reason, uint64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DiscountStallLocked(uint64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StepLocked(Peer* p, uint64_t now, ProbePlan* plan) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool SecondOpinionLocked(const Peer& p) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // suspect -> down when rule 3 holds.
  void MaybeConvictLocked(Peer* p, uint64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<ring::NodeInfo> HelpersLocked(const Peer& target) EXCLUSIVE_LOCKS_REQUIRED(mu_);

  base::Clock* const clock_;
  const DetectorOptions options_;
  const std::string self_id_;
  mutable base::Mutex mu_;
  std::map<std::string, Peer, std::less<>> peers_ GUARDED_BY(mu_);  // by id
  base::Random rnd_ GUARDED_BY(mu_);
  uint64_t last_tick_us_ GUARDED_BY(mu_) = 0;
  uint64_t grace_until_us_ GUARDED_BY(mu_) = 0;
  uint64_t epoch_ GUARDED_BY(mu_) = 1;
  uint64_t stalls_ GUARDED_BY(mu_) = 0;
};

}  // namespace kvring::repl
