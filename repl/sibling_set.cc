#include "repl/sibling_set.h"

#include <algorithm>
#include <limits>
#include <tuple>

namespace kvring::repl {

namespace {

std::string DotName(const Dot& dot) { return dot.node + ":" + std::to_string(dot.counter); }

base::Status Corrupt(const std::string& what) { return base::Status::Corruption("sibling set: " + what); }

// The structural invariants FromParts enforces (see sibling_set.h).
base::Status CheckStructure(const VersionVector& history, const std::vector<Sibling>& siblings) {
  for (size_t i = 0; i < siblings.size(); ++i) {
    const Sibling& s = siblings[i];
    if (s.dot.node.empty() || s.dot.counter == 0) return Corrupt("sibling " + std::to_string(i + 1) + " has no dot");
    if (i > 0 && !(siblings[i - 1].dot < s.dot)) {
      return Corrupt("siblings unsorted or repeated at dot " + DotName(s.dot));
    }
    if (!history.Covers(s.dot)) return Corrupt("history does not cover dot " + DotName(s.dot));
    if (!history.Descends(s.context)) {
      return Corrupt("context of dot " + DotName(s.dot) + " is not within the history");
    }
    if (s.tombstone && !s.value.empty()) return Corrupt("tombstone " + DotName(s.dot) + " has a value");
  }
  return base::Status::OK();
}

// The entries both contexts have, at the smaller counter. Two replicas can hold
// the same sibling with different contexts when one of them has pruned it.
VersionVector CommonContext(const VersionVector& a, const VersionVector& b) {
  if (a == b) return a;
  VersionVector out;
  for (const VersionVector::Entry& e : a.entries()) {
    const uint64_t other = b.Get(e.node);
    if (other != 0) out.Witness(e.node, std::min(e.counter, other), 0);
  }
  return out;
}

// Two replicas hold the same dot. Normally that is the same write, perhaps with a
// pruned context on one side: keep the common part of the contexts. If a dot was
// minted twice (an actor that lost its store and reused counters: see
// docs/versioning.md) keep a deterministic one, so merging stays commutative and
// associative.
Sibling PickSameDot(const Sibling& a, const Sibling& b) {
  if (a == b) return a;
  const auto payload = [](const Sibling& s) { return std::tie(s.timestamp_micros, s.tombstone, s.value); };
  Sibling out = payload(a) >= payload(b) ? a : b;
  out.context = CommonContext(a.context, b.context);
  return out;
}

}  // namespace

base::Result<SiblingSet> SiblingSet::FromParts(VersionVector history, std::vector<Sibling> siblings) {
  KV_RETURN_IF_ERROR(CheckStructure(history, siblings));
  SiblingSet set;
  set.history_ = std::move(history);
  set.siblings_ = std::move(siblings);
  return set;
}

bool SiblingSet::IsDeleted() const {
  return std::all_of(siblings_.begin(), siblings_.end(), [](const Sibling& s) { return s.tombstone; });
}

std::vector<const Sibling*> SiblingSet::LiveSiblings() const {
  std::vector<const Sibling*> live;
  for (const Sibling& s : siblings_) {
    if (!s.tombstone) live.push_back(&s);
  }
  return live;
}

base::Result<WriteOutcome> SiblingSet::Put(std::string_view actor, const VersionVector& context,
                                           std::string_view value, uint64_t now_micros,
                                           const VersioningOptions& options) {
  return Write(actor, context, value, /*tombstone=*/false, now_micros, options);
}

base::Result<WriteOutcome> SiblingSet::Delete(std::string_view actor, const VersionVector& context,
                                              uint64_t now_micros, const VersioningOptions& options) {
  return Write(actor, context, {}, /*tombstone=*/true, now_micros, options);
}

base::Result<WriteOutcome> SiblingSet::Write(std::string_view actor, const VersionVector& context,
                                             std::string_view value, bool tombstone, uint64_t now_micros,
                                             const VersioningOptions& options) {
  assert(!actor.empty());
  const auto covered = [&context](const Sibling& s) { return context.Covers(s.dot); };
  const size_t superseded = static_cast<size_t>(std::count_if(siblings_.begin(), siblings_.end(), covered));
  const size_t after = siblings_.size() - superseded + 1;
  if (after > options.max_siblings) {
    return base::Status::TooLarge("key has " + std::to_string(siblings_.size()) + " siblings (limit " +
                                  std::to_string(options.max_siblings) +
                                  "); resolve them with a put that carries the context from a get");
  }
  // Counting from the context too keeps dots unique even when this replica has
  // forgotten some of its own writes that the client has seen.
  const uint64_t last = std::max(history_.Get(actor), context.Get(actor));
  if (last == std::numeric_limits<uint64_t>::max()) {
    return base::Status::InvalidArgument("context: counter of node \"" + std::string(actor) +
                                         "\" is at its maximum");
  }
  Sibling fresh;
  fresh.dot = Dot{std::string(actor), last + 1};
  fresh.context = context;
  fresh.context.ClearTimes();
  fresh.timestamp_micros = now_micros;
  fresh.tombstone = tombstone;
  fresh.value = std::string(value);

  std::erase_if(siblings_, covered);
  history_.Merge(context);
  history_.Witness(actor, fresh.dot.counter, WallSeconds(now_micros));
  WriteOutcome outcome;
  outcome.dot = fresh.dot;
  auto at = std::upper_bound(siblings_.begin(), siblings_.end(), fresh.dot,
                             [](const Dot& d, const Sibling& s) { return d < s.dot; });
  siblings_.insert(at, std::move(fresh));
  Prune(options.prune, now_micros, actor);

  outcome.superseded = superseded;
  outcome.siblings = siblings_.size();
  outcome.over_warning = options.warn_siblings > 0 && outcome.siblings >= options.warn_siblings;
  return outcome;
}

SiblingSet SiblingSet::Merge(const SiblingSet& a, const SiblingSet& b) {
  SiblingSet out;
  out.history_ = a.history_;
  out.history_.Merge(b.history_);
  const std::vector<Sibling>& x = a.siblings_;
  const std::vector<Sibling>& y = b.siblings_;
  out.siblings_.reserve(std::max(x.size(), y.size()));
  size_t i = 0, j = 0;
  while (i < x.size() || j < y.size()) {
    if (j == y.size() || (i < x.size() && x[i].dot < y[j].dot)) {
      if (!b.history_.Covers(x[i].dot)) out.siblings_.push_back(x[i]);
      ++i;
    } else if (i == x.size() || y[j].dot < x[i].dot) {
      if (!a.history_.Covers(y[j].dot)) out.siblings_.push_back(y[j]);
      ++j;
    } else {
      out.siblings_.push_back(PickSameDot(x[i++], y[j++]));
    }
  }
  return out;
}

void SiblingSet::MergeFrom(const SiblingSet& other) { *this = Merge(*this, other); }

std::vector<std::string> SiblingSet::Prune(const PruneOptions& options, uint64_t now_micros,
                                           std::string_view self) {
  if (history_.size() <= options.max_entries) return {};
  const auto is_protected = [this, self](std::string_view node) {
    if (node == self) return true;
    return std::any_of(siblings_.begin(), siblings_.end(),
                       [node](const Sibling& s) { return s.dot.node == node; });
  };
  std::vector<std::string> dropped = history_.Prune(options, now_micros, is_protected);
  // Invariant: contexts stay within the history (the format relies on it).
  for (Sibling& s : siblings_) {
    for (const std::string& node : dropped) s.context.Erase(node);
  }
  return dropped;
}

base::Status SiblingSet::CheckInvariants() const {
  KV_RETURN_IF_ERROR(CheckStructure(history_, siblings_));
  for (const Sibling& newer : siblings_) {
    for (const Sibling& older : siblings_) {
      if (&newer != &older && Obsoletes(newer, older)) {
        return Corrupt("sibling " + DotName(older.dot) + " is obsoleted by sibling " + DotName(newer.dot));
      }
    }
  }
  return base::Status::OK();
}

}  // namespace kvring::repl
