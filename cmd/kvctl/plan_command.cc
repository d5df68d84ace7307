#include "cmd/kvctl/plan_command.h"

#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "cmd/common/text.h"
#include "repl/member_state.h"

namespace kvring::cmd::kvctl {

using base::Status;

namespace {

constexpr char kPlanUsage[] =
    "usage: plan join --id ID --address HOST:PORT [--dc DC] [--rack RACK] [--weight W] | plan decommission [ID] | "
    "plan removenode ID | plan replace DEAD_ID --id ID --address HOST:PORT [--dc DC] [--rack RACK] | "
    "plan set-weight ID W";

Status Usage(std::string_view why) { return Status::InvalidArgument(std::string(why) + " (" + kPlanUsage + ")"); }

bool ParseWeight(const std::string& text, double* weight) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *weight = std::strtod(text.c_str(), &end);
  return errno == 0 && *end == '\0' && std::isfinite(*weight);
}

// The ring the node described, rebuilt here. The vnode count per weight is not in
// the RING reply; it is the one (near vnodes / weight) whose ring has the node's
// fingerprint.
base::Result<std::shared_ptr<const ring::Ring>> RebuildRing(const repl::RingDescription& desc,
                                                            ring::RingOptions* options) {
  if (desc.members.empty()) return Status::InvalidArgument("the ring has no members yet");
  auto spec = ring::ReplicationSpec::Parse(desc.replication);
  if (!spec.ok()) return spec.status().WithContext("the node's replication spec");
  options->replication = *spec;
  std::vector<ring::NodeInfo> members;
  const repl::RingMember* widest = &desc.members.front();
  for (const repl::RingMember& m : desc.members) {
    members.push_back(m.node);
    if (m.vnodes > widest->vnodes) widest = &m;
  }
  const auto guess = static_cast<int64_t>(std::llround(widest->vnodes / widest->node.weight));
  for (int64_t vpw : {guess, guess - 1, guess + 1}) {
    if (vpw < 1 || vpw > ring::kMaxVnodesPerWeight) continue;
    options->vnodes_per_weight = static_cast<uint32_t>(vpw);
    auto built = ring::Ring::Build(members, *options, desc.version);
    if (built.ok() && (*built)->Fingerprint() == desc.fingerprint) return built;
  }
  char buf[160];
  std::snprintf(buf, sizeof(buf),
                "the ring rebuilt from the node's member list does not match its fingerprint %016llx "
                "(members changing right now, or a kvctl of another version)",
                static_cast<unsigned long long>(desc.fingerprint));
  return Status::Aborted(buf);
}

// A member joining or leaving: a change already running.
bool RunningChange(const std::vector<repl::MemberReport>& members, ring::MembershipChange* change) {
  for (const repl::MemberReport& m : members) {
    if (m.state.status == repl::MemberStatus::kJoining) {
      *change = ring::MembershipChange::Join(m.state.node);
      return true;
    }
    if (m.state.status == repl::MemberStatus::kLeaving) {
      *change = ring::MembershipChange::Decommission(m.state.node.id);
      return true;
    }
  }
  return false;
}

// Notes on members the answering node holds down that the plan counts on.
void NoteDownMembers(const std::vector<repl::MemberReport>& members, PlanReport* report) {
  std::string self;
  for (const repl::MemberReport& m : members) self = m.self ? m.state.node.id : self;
  for (const repl::MemberReport& m : members) {
    if (m.liveness != repl::Liveness::kDown) continue;
    size_t ranges = 0;
    for (const ring::PairTransfer& pair : report->plan.transfers.pairs) {
      if (pair.source == m.state.node.id) ranges += pair.ranges;
    }
    if (ranges == 0) continue;
    std::string note = m.state.node.id + " is down (as " + self + " sees it) but is the planned source of " +
                       std::to_string(ranges) + " range(s)";
    if (report->plan.change.kind == ring::ChangeKind::kDecommission && report->plan.change.target == m.state.node.id) {
      note += "; for a node gone for good, plan removenode " + m.state.node.id;
    }
    report->notes.push_back(note);
  }
}

}  // namespace

base::Result<ring::MembershipChange> ParsePlanChange(const std::vector<std::string>& args, const ring::NodeInfo& node,
                                                     std::string_view self) {
  if (args.empty()) return Usage("plan: which change?");
  const std::string& kind = args[0];
  const size_t n = args.size();
  if (kind == "join" && n == 1) {
    if (node.id.empty() || node.address.empty()) return Usage("plan join: --id and --address name the new node");
    return ring::MembershipChange::Join(node);
  }
  if (kind == "decommission" && n <= 2) {
    return ring::MembershipChange::Decommission(n == 2 ? args[1] : std::string(self));
  }
  if (kind == "removenode" && n == 2) return ring::MembershipChange::RemoveNode(args[1]);
  if (kind == "replace" && n == 2) {
    if (node.id.empty() || node.address.empty()) return Usage("plan replace: --id and --address name the new node");
    return ring::MembershipChange::Replace(args[1], node);
  }
  if (kind == "set-weight" && n == 3) {
    double weight = 0;
    if (!ParseWeight(args[2], &weight)) return Usage("plan set-weight: '" + args[2] + "' is not a number");
    return ring::MembershipChange::SetWeight(args[1], weight);
  }
  return Usage("plan: wrong arguments for '" + kind + "'");
}

base::Result<PlanReport> PlanFromCluster(const repl::RingDescription& ring_desc,
                                         const std::vector<repl::MemberReport>& members,
                                         const ring::MembershipChange& change, double stream_rate) {
  ring::RingOptions options;
  auto in_force = RebuildRing(ring_desc, &options);
  if (!in_force.ok()) return in_force.status();
  ring::MembershipChange running;
  const bool busy = RunningChange(members, &running);
  auto transition =
      ring::StartChange((*in_force)->nodes(), options, change, busy ? &running : nullptr, ring_desc.version);
  if (!transition.ok()) return transition.status();
  std::map<std::string, ring::RangeSize> loads;
  for (const repl::MemberReport& m : members) {
    loads[m.state.node.id] = ring::RangeSize{m.state.load_bytes, m.state.load_keys};
  }
  const ring::LoadModel model(transition->from(), std::move(loads));
  PlanReport report;
  report.plan = ring::PlanChange(change, *transition, model.AsFunction(), stream_rate);
  report.ring_version = ring_desc.version;
  report.replication = ring_desc.replication;
  report.nodes = (*in_force)->node_count();
  report.vnodes = (*in_force)->vnode_count();
  report.notes.push_back(
      "sizes are estimates: each node's load (kvctl status) split over the ranges it replicates in proportion to "
      "their token span");
  NoteDownMembers(members, &report);
  return report;
}

// --- Text ---------------------------------------------------------------------

namespace {

std::string Line(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Line(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  return buf;
}

std::string IdList(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + ids[i];
  return out + "]";
}

const char* CaseNoun(ring::FailureScope scope) {
  switch (scope) {
    case ring::FailureScope::kNode: return "nodes";
    case ring::FailureScope::kRack: return "racks";
    case ring::FailureScope::kDc: return "datacenters";
    default: return "cases";
  }
}

// What the first loss of a failing row says.
std::string LossText(const ring::SurvivalCheck& check) {
  const ring::QuorumLoss& loss = check.first;
  const std::string what = loss.failed.empty() ? "with every node up" : "with " + loss.failed + " down";
  const std::string arc = loss.range.ToString() + " " + IdList(loss.replicas);
  if (check.level == ring::QuorumLevel::kLocalQuorum && loss.dc.empty()) {
    return what + ", no datacenter with a live node holds a replica of " + arc;
  }
  const std::string where = loss.dc.empty() ? "" : " in " + loss.dc;
  return what + ", " + arc + " keeps " + std::to_string(loss.alive) + " replica(s)" + where + ", quorum " +
         std::to_string(loss.needed);
}

std::string SurvivalText(const ring::SurvivalCheck& check) {
  std::string verdict;
  if (check.survives()) {
    verdict = check.scope == ring::FailureScope::kNone
                  ? "yes"
                  : "yes (" + std::to_string(check.cases) + " " + CaseNoun(check.scope) + " tried)";
  } else {
    verdict = "NO";
    if (check.scope != ring::FailureScope::kNone) {
      verdict += " (" + std::to_string(check.failing) + " of " + std::to_string(check.cases) + " " +
                 CaseNoun(check.scope) + ")";
    }
    verdict += ": " + LossText(check);
  }
  return Line("  %-20s %-13s %s\n", ring::FailureScopeName(check.scope), ring::QuorumLevelName(check.level),
              verdict.c_str());
}

std::string TransfersText(const ring::TransferPlan& t, size_t arcs_changing) {
  if (t.pairs.empty() && t.lost.empty()) {
    return arcs_changing == 0 ? "  nothing moves\n"
                              : "  nothing to stream: the ranges that change only lose replicas\n";
  }
  std::string out = Line("  %-14s %-14s %8s %12s %12s\n", "source", "destination", "ranges", "keys", "bytes");
  for (const ring::PairTransfer& p : t.pairs) {
    out += Line("  %-14s %-14s %8zu %12llu %12s\n", p.source.c_str(), p.destination.c_str(), p.ranges,
                static_cast<unsigned long long>(p.keys), FormatBytes(static_cast<double>(p.bytes)).c_str());
  }
  out += Line("  %-29s %8zu %12llu %12s\n", "total", t.ranges, static_cast<unsigned long long>(t.keys),
              FormatBytes(static_cast<double>(t.bytes)).c_str());
  if (!t.pairs.empty()) {
    out += "  ETA " + FormatSeconds(t.seconds) + " at " + FormatBytes(t.stream_rate) + "/s per node: " + t.busiest +
           " streams the most (" + FormatBytes(static_cast<double>(t.busiest_bytes)) + ")\n";
  }
  if (!t.lost.empty()) {
    out += "  WARNING: " + std::to_string(t.lost.size()) +
           " range(s) have no live copy left and would be lost; the first: " + t.lost.front().ToString() + "\n";
  }
  return out;
}

}  // namespace

std::string PlanText(const PlanReport& r) {
  const ring::ChangePlan& plan = r.plan;
  std::string out = "plan: " + plan.change.ToString() + " on ring version " + std::to_string(r.ring_version) +
                    " (replication " + r.replication + ", " + std::to_string(r.nodes) + " nodes, " +
                    std::to_string(r.vnodes) + " virtual nodes)\n";
  out += "what moves (" + std::to_string(plan.arcs_changing) + " arcs change replicas):\n";
  out += TransfersText(plan.transfers, plan.arcs_changing);
  out += "failures the resulting ring survives (a quorum of every range's own replicas left):\n";
  for (const ring::SurvivalCheck& check : plan.survival) out += SurvivalText(check);
  for (const std::string& note : r.notes) out += "note: " + note + "\n";
  return out;
}

// --- JSON ---------------------------------------------------------------------

namespace {

const char* ScopeKey(ring::FailureScope scope) {
  switch (scope) {
    case ring::FailureScope::kNone: return "none";
    case ring::FailureScope::kNode: return "node";
    case ring::FailureScope::kRack: return "rack";
    case ring::FailureScope::kDc: return "dc";
  }
  return "?";
}

std::string Strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + JsonString(items[i]);
  return out + "]";
}

std::string Uint(uint64_t v) { return std::to_string(v); }

std::string PairJson(const ring::PairTransfer& p) {
  return "{\"source\": " + JsonString(p.source) + ", \"destination\": " + JsonString(p.destination) +
         ", \"ranges\": " + Uint(p.ranges) + ", \"keys\": " + Uint(p.keys) + ", \"bytes\": " + Uint(p.bytes) + "}";
}

std::string TransfersJson(const ring::TransferPlan& t) {
  std::string pairs;
  for (const ring::PairTransfer& p : t.pairs) pairs += (pairs.empty() ? "" : ", ") + PairJson(p);
  std::vector<std::string> lost_ranges;
  for (const ring::TokenRange& range : t.lost) lost_ranges.push_back(range.ToString());
  return "{\"pairs\": [" + pairs + "], \"ranges\": " + Uint(t.ranges) + ", \"keys\": " + Uint(t.keys) +
         ", \"bytes\": " + Uint(t.bytes) + ", \"lost_ranges\": " + Strings(lost_ranges) +
         ", \"stream_rate\": " + Line("%.0f", t.stream_rate) + ", \"busiest\": " + JsonString(t.busiest) +
         ", \"busiest_bytes\": " + Uint(t.busiest_bytes) + ", \"eta_seconds\": " + Line("%.3f", t.seconds) + "}";
}

std::string SurvivalJson(const ring::SurvivalCheck& c) {
  std::string out = "{\"failure\": " + JsonString(ScopeKey(c.scope)) +
                    ", \"level\": " + JsonString(ring::QuorumLevelName(c.level)) +
                    ", \"survives\": " + (c.survives() ? "true" : "false") + ", \"cases\": " + Uint(c.cases) +
                    ", \"failing\": " + Uint(c.failing);
  if (!c.survives()) {
    const ring::QuorumLoss& l = c.first;
    out += ", \"first\": {\"failed\": " + JsonString(l.failed) + ", \"range\": " + JsonString(l.range.ToString()) +
           ", \"replicas\": " + Strings(l.replicas) + ", \"dc\": " + JsonString(l.dc) +
           ", \"alive\": " + Uint(l.alive) + ", \"needed\": " + Uint(l.needed) + "}";
  }
  return out + "}";
}

}  // namespace

std::string PlanJson(const PlanReport& r) {
  std::string survival;
  for (const ring::SurvivalCheck& c : r.plan.survival) survival += (survival.empty() ? "" : ", ") + SurvivalJson(c);
  return "{\"change\": " + JsonString(r.plan.change.ToString()) + ", \"ring_version\": " + Uint(r.ring_version) +
         ", \"replication\": " + JsonString(r.replication) + ", \"nodes\": " + Uint(r.nodes) +
         ", \"vnodes\": " + Uint(r.vnodes) + ", \"arcs_changing\": " + Uint(r.plan.arcs_changing) +
         ", \"transfers\": " + TransfersJson(r.plan.transfers) + ", \"survival\": [" + survival +
         "], \"notes\": " + Strings(r.notes) + "}\n";
}

}  // namespace kvring::cmd::kvctl
