#include "ring/transition.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <map>
#include <utility>

namespace kvring::ring {

namespace {

using base::Status;

std::string Quoted(std::string_view id) { return "\"" + std::string(id) + "\""; }

std::string FormatWeight(double weight) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", weight);
  return buf;
}

const char* KindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kJoin: return "join";
    case ChangeKind::kDecommission: return "decommission";
    case ChangeKind::kRemoveNode: return "removenode";
    case ChangeKind::kReplace: return "replace";
    case ChangeKind::kSetWeight: return "set-weight";
  }
  return "?";
}

// Index of member `id` in `members`, or members.size().
size_t FindMember(const std::vector<NodeInfo>& members, std::string_view id) {
  size_t i = 0;
  while (i < members.size() && members[i].id != id) ++i;
  return i;
}

Status NotAMember(const MembershipChange& change) {
  return Status::NotFound(change.ToString() + ": " + Quoted(change.target) + " is not a member of the ring in force");
}

base::Result<std::vector<NodeInfo>> ApplyJoin(std::vector<NodeInfo> members, const MembershipChange& change) {
  if (FindMember(members, change.node.id) < members.size()) {
    return Status::InvalidArgument(change.ToString() + ": " + Quoted(change.node.id) + " is already a member");
  }
  members.push_back(change.node);
  return members;
}

base::Result<std::vector<NodeInfo>> ApplyRemoval(std::vector<NodeInfo> members, const MembershipChange& change) {
  const size_t i = FindMember(members, change.target);
  if (i == members.size()) return NotAMember(change);
  if (members.size() == 1) {
    return Status::InvalidArgument(change.ToString() + ": it is the only member; the ring would be empty");
  }
  members.erase(members.begin() + static_cast<std::ptrdiff_t>(i));
  return members;
}

base::Result<std::vector<NodeInfo>> ApplyReplace(std::vector<NodeInfo> members, const MembershipChange& change) {
  const size_t i = FindMember(members, change.target);
  if (i == members.size()) return NotAMember(change);
  const NodeInfo& dead = members[i];
  const NodeInfo& next = change.node;
  if (next.id == dead.id) {
    // A node's id names the dots of its writes, which must stay unique for ever
    // (docs/versioning.md); an empty node reusing it could mint old dots again.
    return Status::InvalidArgument(change.ToString() + ": the replacement needs an id of its own, not " +
                                   Quoted(dead.id));
  }
  if (FindMember(members, next.id) < members.size()) {
    return Status::InvalidArgument(change.ToString() + ": " + Quoted(next.id) + " is already a member");
  }
  if (next.dc != dead.dc || next.rack != dead.rack) {
    // Same tokens in another rack or DC would re-place other ranges too.
    return Status::InvalidArgument(change.ToString() + ": " + next.id + " is in " + next.dc + "/" + next.rack +
                                   " but " + dead.id + " was in " + dead.dc + "/" + dead.rack +
                                   "; a replacement takes the dead node's place (same dc and rack)");
  }
  NodeInfo replacement = next;
  replacement.token_id = dead.TokenId();  // a replacement of a replacement keeps the first tokens
  replacement.weight = dead.weight;
  members[i] = std::move(replacement);
  return members;
}

base::Result<std::vector<NodeInfo>> ApplySetWeight(std::vector<NodeInfo> members, const MembershipChange& change) {
  const size_t i = FindMember(members, change.target);
  if (i == members.size()) return NotAMember(change);
  if (members[i].weight == change.weight) {
    return Status::InvalidArgument(change.ToString() + ": " + change.target + " already has weight " +
                                   FormatWeight(change.weight));
  }
  members[i].weight = change.weight;
  return members;
}

}  // namespace

// --- MembershipChange ---------------------------------------------------------

MembershipChange MembershipChange::Join(NodeInfo node) {
  return MembershipChange{ChangeKind::kJoin, std::move(node), "", 0};
}

MembershipChange MembershipChange::Decommission(std::string id) {
  return MembershipChange{ChangeKind::kDecommission, NodeInfo{}, std::move(id), 0};
}

MembershipChange MembershipChange::RemoveNode(std::string id) {
  return MembershipChange{ChangeKind::kRemoveNode, NodeInfo{}, std::move(id), 0};
}

MembershipChange MembershipChange::Replace(std::string dead_id, NodeInfo replacement) {
  return MembershipChange{ChangeKind::kReplace, std::move(replacement), std::move(dead_id), 0};
}

MembershipChange MembershipChange::SetWeight(std::string id, double weight) {
  return MembershipChange{ChangeKind::kSetWeight, NodeInfo{}, std::move(id), weight};
}

std::string MembershipChange::ToString() const {
  const std::string name = KindName(kind);
  switch (kind) {
    case ChangeKind::kJoin: return name + " of " + node.id;
    case ChangeKind::kReplace: return name + " of " + target + " by " + node.id;
    case ChangeKind::kSetWeight: return name + " of " + target + " to " + FormatWeight(weight);
    default: return name + " of " + target;
  }
}

std::string_view MembershipChange::unavailable() const {
  return kind == ChangeKind::kRemoveNode || kind == ChangeKind::kReplace ? std::string_view(target)
                                                                         : std::string_view();
}

base::Result<std::vector<NodeInfo>> ApplyChange(const std::vector<NodeInfo>& members, const MembershipChange& change) {
  base::Result<std::vector<NodeInfo>> next = Status::InvalidArgument("unknown change");
  switch (change.kind) {
    case ChangeKind::kJoin: next = ApplyJoin(members, change); break;
    case ChangeKind::kDecommission:
    case ChangeKind::kRemoveNode: next = ApplyRemoval(members, change); break;
    case ChangeKind::kReplace: next = ApplyReplace(members, change); break;
    case ChangeKind::kSetWeight: next = ApplySetWeight(members, change); break;
  }
  if (!next.ok()) return next;
  // Catches a bad new node (address taken, bad labels, weight out of range) here,
  // with the change named, rather than in Ring::Build.
  KV_RETURN_IF_ERROR(ValidateMembers(*next).WithContext(change.ToString()));
  return next;
}

// --- WriteSet -----------------------------------------------------------------

size_t WriteSet::counted() const {
  size_t n = 0;
  for (size_t i = 0; i < size_; ++i) n += counts_[i] ? 1 : 0;
  return n;
}

bool WriteSet::ContainsId(std::string_view id) const {
  for (size_t i = 0; i < size_; ++i) {
    if (nodes_[i]->id == id) return true;
  }
  return false;
}

void WriteSet::PushBack(const NodeInfo* node, bool counts) {
  assert(size_ < nodes_.size() && !ContainsId(node->id));
  counts_[size_] = counts;
  nodes_[size_++] = node;
}

std::string WriteSet::ToString() const {
  std::string out = "[";
  for (size_t i = 0; i < size_; ++i) {
    if (i > 0) out += ", ";
    out += (counts_[i] ? "" : "+") + nodes_[i]->id;
  }
  return out + "]";
}

// --- TransitionRange, RangeMove -------------------------------------------------

bool TransitionRange::changes() const {
  if (!pending.empty()) return true;
  for (const NodeInfo* node : old_replicas) {
    if (!new_replicas.ContainsId(node->id)) return true;
  }
  return false;
}

const std::string& RangeMove::source() const {
  static const std::string kNone;
  return sources.empty() ? kNone : sources.front();
}

// --- RingTransition -------------------------------------------------------------

RingTransition RingTransition::Compute(std::shared_ptr<const Ring> from, std::shared_ptr<const Ring> to,
                                       std::string unavailable) {
  assert(from != nullptr && to != nullptr);
  RingTransition t;
  t.from_ = std::move(from);
  t.to_ = std::move(to);
  t.unavailable_ = std::move(unavailable);
  t.ComputeArcs();
  t.ComputeMoves();
  t.ComputeStreams();
  return t;
}

void RingTransition::ComputeArcs() {
  for (size_t i = 0; i < from_->vnode_count(); ++i) ends_.push_back(from_->vnode_token(i));
  for (size_t i = 0; i < to_->vnode_count(); ++i) ends_.push_back(to_->vnode_token(i));
  std::sort(ends_.begin(), ends_.end());
  ends_.erase(std::unique(ends_.begin(), ends_.end()), ends_.end());
  for (size_t i = 0; i < ends_.size(); ++i) {
    TransitionRange arc;
    arc.range = TokenRange{ends_[i == 0 ? ends_.size() - 1 : i - 1], ends_[i]};
    // No token of either ring lies inside the arc, so its end speaks for all of it.
    arc.old_replicas = from_->PreferenceListFor(arc.range.end);
    arc.new_replicas = to_->PreferenceListFor(arc.range.end);
    for (const NodeInfo* node : arc.new_replicas) {
      if (!arc.old_replicas.ContainsId(node->id)) arc.pending.PushBack(node);
    }
    const bool changes = arc.changes();
    to_hand_over_ += changes ? 1 : 0;
    handed_over_.push_back(!changes);
    ranges_.push_back(arc);
  }
}

void RingTransition::ComputeMoves() {
  for (const TransitionRange& arc : ranges_) {
    if (arc.pending.empty()) continue;
    // Sources: old replicas losing the arc first, then those keeping it.
    std::vector<std::string> sources;
    for (int keeping = 0; keeping < 2; ++keeping) {
      for (const NodeInfo* node : arc.old_replicas) {
        if (node->id == unavailable_ || arc.new_replicas.ContainsId(node->id) != (keeping == 1)) continue;
        sources.push_back(node->id);
      }
    }
    for (const NodeInfo* node : arc.pending) moves_.push_back(RangeMove{arc.range, sources, node->id});
  }
}

void RingTransition::ComputeStreams() {
  std::map<std::pair<std::string, std::string>, std::vector<TokenRange>> pairs;
  for (const RangeMove& move : moves_) {
    if (move.sources.empty()) continue;
    AppendMergedRange(&pairs[{move.source(), move.destination}], move.range);
  }
  for (auto& [ids, ranges] : pairs) {
    CloseWrap(&ranges);
    streams_.push_back(NodeStreams{ids.first, ids.second, std::move(ranges)});
  }
}

size_t RingTransition::ArcOf(Token t) const {
  assert(!ends_.empty());
  const auto it = std::lower_bound(ends_.begin(), ends_.end(), t);
  return it == ends_.end() ? 0 : static_cast<size_t>(it - ends_.begin());
}

size_t RingTransition::ArcEndingAt(Token t) const {
  const auto it = std::lower_bound(ends_.begin(), ends_.end(), t);
  return it != ends_.end() && *it == t ? static_cast<size_t>(it - ends_.begin()) : ranges_.size();
}

PreferenceList RingTransition::ReadReplicas(Token t) const {
  if (ranges_.empty()) return PreferenceList();
  const TransitionRange& arc = ranges_[ArcOf(t)];
  return handed_over_[ArcOf(t)] ? arc.new_replicas : arc.old_replicas;
}

WriteSet RingTransition::WriteReplicas(Token t) const {
  WriteSet set;
  if (ranges_.empty()) return set;
  const size_t i = ArcOf(t);
  const TransitionRange& arc = ranges_[i];
  const bool handed = handed_over_[i];
  for (const NodeInfo* node : arc.old_replicas) set.PushBack(node, !handed || arc.new_replicas.ContainsId(node->id));
  for (const NodeInfo* node : arc.pending) set.PushBack(node, handed);
  return set;
}

Status RingTransition::MarkHandedOver(const TokenRange& range) {
  const size_t first = ArcEndingAt(range.start);
  const size_t last = ArcEndingAt(range.end);
  if (first == ranges_.size() || last == ranges_.size()) {
    return Status::InvalidArgument("hand over " + range.ToString() +
                                   ": the range does not start and end on arc boundaries of the transition");
  }
  // Arcs first+1 .. last, wrapping; a full() range (first == last) is every arc.
  size_t i = first;
  do {
    i = i + 1 == ranges_.size() ? 0 : i + 1;
    if (!handed_over_[i]) {
      handed_over_[i] = true;
      ++handed_over_count_;
    }
  } while (i != last);
  return Status::OK();
}

base::Result<RingTransition> StartChange(const std::vector<NodeInfo>& in_force, const RingOptions& options,
                                         const MembershipChange& change, const MembershipChange* running,
                                         uint64_t version) {
  if (running != nullptr) {
    return Status::Busy(change.ToString() + " refused: " + running->ToString() +
                        " is still running; one membership change at a time (wait until it completes)");
  }
  base::Result<std::vector<NodeInfo>> next = ApplyChange(in_force, change);
  if (!next.ok()) return next.status();
  auto from = Ring::Build(in_force, options, version);
  if (!from.ok()) return from.status().WithContext("the ring in force");
  auto to = Ring::Build(std::move(next).value(), options, version + 1);
  if (!to.ok()) return to.status().WithContext(change.ToString());
  return RingTransition::Compute(std::move(from).value(), std::move(to).value(), std::string(change.unavailable()));
}

}  // namespace kvring::ring
