// cmd/kvctl/plan_command.h — `kvctl plan join|decommission|removenode|replace|
// set-weight ...`: from a node's RING and CLUSTER_STATUS replies to a
// ring::ChangePlan (the logic is ring/transition.h and ring/plan.h), and the
// plan's text and JSON. docs/operations.md ("kvctl plan") shows the output.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "repl/messages.h"
#include "ring/plan.h"

namespace kvring::cmd::kvctl {

// The default of --stream-rate: 32 MiB/s per node.
inline constexpr double kDefaultStreamRate = 32.0 * 1024 * 1024;

// The change `args` names: {"join"} (the new node in `node`), {"decommission"} or
// {"decommission", ID} (default: `self`, the node kvctl talks to),
// {"removenode", ID}, {"replace", DEAD_ID} (the replacement in `node`),
// {"set-weight", ID, W}. InvalidArgument with a usage line otherwise.
[[nodiscard]] base::Result<ring::MembershipChange> ParsePlanChange(const std::vector<std::string>& args,
                                                                   const ring::NodeInfo& node, std::string_view self);

struct PlanReport {
  ring::ChangePlan plan;
  uint64_t ring_version = 0;
  std::string replication;
  size_t nodes = 0;
  size_t vnodes = 0;
  std::vector<std::string> notes;  // how sizes were estimated, and warnings
};

// The plan of `change` on the ring the node described: members and replication
// from `ring` (checked by rebuilding it: the fingerprints must agree), loads and
// statuses from `members` (a joining or leaving member is a change already
// running, and refuses this one). REQUIRES: stream_rate > 0.
[[nodiscard]] base::Result<PlanReport> PlanFromCluster(const repl::RingDescription& ring,
                                                       const std::vector<repl::MemberReport>& members,
                                                       const ring::MembershipChange& change, double stream_rate);

// The table for a terminal: the change, what moves per node pair, total, ETA,
// then one line per failure scope and level.
std::string PlanText(const PlanReport& report);
// {"change": ..., "transfers": {...}, "survival": [...], "notes": [...]}
std::string PlanJson(const PlanReport& report);

}  // namespace kvring::cmd::kvctl
