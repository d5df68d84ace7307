#include "repl/reconcile.h"

namespace kvring::repl {

Reconciliation Reconcile(std::span<const SiblingSet* const> replies) {
  Reconciliation out;
  for (const SiblingSet* reply : replies) {
    if (reply != nullptr) out.merged.MergeFrom(*reply);
  }
  out.needs_repair.reserve(replies.size());
  for (const SiblingSet* reply : replies) out.needs_repair.push_back(NeedsRepair(reply, out.merged));
  return out;
}

bool NeedsRepair(const SiblingSet* replica, const SiblingSet& merged) {
  if (replica == nullptr) return !merged.empty();
  // Siblings are compared whole: a replica holding a different write under the
  // same dot (a reused dot) is repaired to the merge's deterministic choice.
  return !replica->history().Descends(merged.history()) || replica->siblings() != merged.siblings();
}

}  // namespace kvring::repl
