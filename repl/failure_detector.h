// repl/failure_detector.h — the node's one view of which peers are alive. Every
// event loop's transport reports what it observes of a peer (it answered; it could
// not be reached), and every coordinator, the membership and `kvctl status` read
// the same view, so "is n3 down?" has one answer per node.
//
// Today's evidence is the transport's: a peer that answers anything (even an error
// status such as "quorum not reached") is up; a peer whose connection was refused,
// lost, or is in reconnect backoff is down until it answers again. A timeout is no
// evidence either way (a slow peer is not a dead one). The gossip failure detector
// (heartbeats, suspicion) feeds the same view.
//
// Peers are keyed by address (what the transport knows); NodeInfo lookups use the
// node's address.
// Thread safety: thread-safe (one mutex; reads and reports are short).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/thread_annotations.h"
#include "ring/node_info.h"

namespace kvring::repl {

struct PeerLiveness {
  bool down = false;
  std::string reason;       // why it is down ("connect: Connection refused"); empty when up
  uint64_t since_us = 0;    // monotonic time of the last change
  uint64_t last_answer_us = 0;  // monotonic time it last answered (0: never)
};

class FailureDetector {
 public:
  // *clock must outlive the detector (monotonic time for the "since" fields).
  explicit FailureDetector(base::Clock* clock) : clock_(clock) {}
  FailureDetector(const FailureDetector&) = delete;
  FailureDetector& operator=(const FailureDetector&) = delete;

  // The peer at `address` answered a request (whatever its status).
  void ReportAnswered(std::string_view address);
  // The peer could not be reached: `reason` names how (refused, lost, backoff).
  void ReportUnreachable(std::string_view address, std::string_view reason);

  bool IsDown(const ring::NodeInfo& node) const { return IsDown(node.address); }
  bool IsDown(std::string_view address) const;
  // What is known of the peer (a default PeerLiveness when nothing was reported).
  PeerLiveness Get(std::string_view address) const;

 private:
  base::Clock* const clock_;
  mutable std::mutex mu_;
  std::map<std::string, PeerLiveness, std::less<>> peers_ GUARDED_BY(mu_);
};

}  // namespace kvring::repl
