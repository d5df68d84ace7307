// repl/reconcile.h — read repair's arithmetic: merge the sibling sets several
// replicas returned for one key, and say which replicas lack something the merge
// has and must be sent it. The coordinator answers the client from the merge and
// writes it back to those replicas (each replica merges it into what it holds, so
// a repair never undoes a write that raced with it).
// Thread safety: pure functions.
#pragma once

#include <span>
#include <vector>

#include "repl/sibling_set.h"

namespace kvring::repl {

struct Reconciliation {
  SiblingSet merged;
  // needs_repair[i]: reply i lacks a sibling or some history the merge has (or
  // holds a sibling the merge has superseded). Same order as the replies.
  std::vector<bool> needs_repair;
};

// replies[i] == nullptr means replica i answered "not found" (it holds nothing for
// the key). Replicas that did not answer at all are left out by the caller.
Reconciliation Reconcile(std::span<const SiblingSet* const> replies);

// Whether a replica holding `replica` (nullptr: nothing) must be sent `merged`.
// REQUIRES: merged is the merge of replica with other sets.
bool NeedsRepair(const SiblingSet* replica, const SiblingSet& merged);

}  // namespace kvring::repl
