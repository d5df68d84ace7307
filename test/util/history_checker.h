// test/util/history_checker.h — checks a recorded history (test/util/history.h)
// against kvring's versioning model (docs/versioning.md) and reports consistency
// violations: acknowledged writes lost, stale strict-quorum reads, phantom and
// resurrected values, sibling overflow, read-your-writes failures, and a history
// that contradicts itself (unpaired events, reused dots). Each violation kind, with
// an example, is in docs/history.md; build/kvcheck runs this from the shell.
//
//   base::Result<test::History> h = test::ReadHistory(path);
//   test::CheckReport report = test::CheckHistory(*h);
//   EXPECT_TRUE(report.clean()) << test::ReportText(report);
//
// The checker is conservative: a write that failed or timed out is indeterminate
// (it may or may not have been applied), so it is never reported lost and its
// value is never a phantom; a write counts as superseded whenever some write could
// have superseded it. A violation is reported only when the history proves it.
// Thread safety: pure functions over values.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "test/util/history.h"

namespace kvring::test {

enum class ViolationKind {
  kLost,                 // an acknowledged write missing from the final reads, not superseded
  kStale,                // a strict-quorum read missed a strict write acknowledged before it
  kPhantom,              // a read returned a value no put wrote (or not yet)
  kResurrected,          // a read returned a value an acknowledged write had superseded
  kSiblings,             // a read returned more values than the header's max_siblings
  kReadYourWrites,       // a session read missed its own process's acknowledged write
  kReadContext,          // a read's context does not cover a value it returned
  kDotReuse,             // one dot named two different writes
  kDotMismatch,          // a value read with a dot other than its write's
  kDuplicateValue,       // two puts of one key wrote the same value (the history is unusable)
  kUnmatchedCompletion,  // a completion with no outstanding invoke, or for another op
  kOverlappingOps,       // a process invoked an op while another was outstanding
  kTimeOrder,            // a completion earlier than its invoke
};
inline constexpr ViolationKind kAllViolationKinds[] = {
    ViolationKind::kLost,          ViolationKind::kStale,           ViolationKind::kPhantom,
    ViolationKind::kResurrected,   ViolationKind::kSiblings,        ViolationKind::kReadYourWrites,
    ViolationKind::kReadContext,   ViolationKind::kDotReuse,        ViolationKind::kDotMismatch,
    ViolationKind::kDuplicateValue, ViolationKind::kUnmatchedCompletion, ViolationKind::kOverlappingOps,
    ViolationKind::kTimeOrder,
};
// "lost", "stale", "phantom", "resurrected", "siblings", "ryw", "read-context",
// "dot-reuse", "dot-mismatch", "duplicate-value", "unmatched-completion",
// "overlapping-ops", "time-order".
const char* ViolationKindName(ViolationKind kind);

struct Violation {
  ViolationKind kind = ViolationKind::kLost;
  std::string key;
  std::vector<int> lines;   // the lines of the events involved, in the order explained
  std::string explanation;  // one line
};

struct CheckCounts {
  size_t ops = 0;                   // invokes
  size_t writes = 0;                // put and delete invokes
  size_t writes_acknowledged = 0;   // ... completed ok
  size_t writes_indeterminate = 0;  // ... failed, timed out (info) or never completed
  size_t reads = 0;                 // gets completed ok
  size_t reads_without_result = 0;  // gets failed, timed out or never completed
  size_t final_reads = 0;           // gets completed ok with final = true
  size_t keys = 0;
  size_t keys_without_final_reads = 0;     // no loss check possible there
  size_t writes_not_checked_for_loss = 0;  // acknowledged, with no final read invoked after their ok
};

struct CheckReport {
  HistoryHeader header;
  CheckCounts counts;
  std::vector<Violation> violations;  // by kind (enum order), then by first line
  std::vector<std::string> keys_without_final_reads;  // sorted
  std::vector<std::string> notes;     // checks skipped and why ("the header has no n: ...")

  bool clean() const { return violations.empty(); }
  size_t Count(ViolationKind kind) const;
};

// Checks one history. Events with line 0 (built in memory) are numbered as they
// would be in a file: the i-th event is line i + 2.
CheckReport CheckHistory(const History& history);

// A report for people: counts, one line per violation, warnings, a verdict.
std::string ReportText(const CheckReport& report);
// The same as one JSON object (docs/history.md, "kvcheck --json").
std::string ReportJson(const CheckReport& report);

}  // namespace kvring::test
