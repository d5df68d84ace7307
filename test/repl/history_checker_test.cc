// Tests of the history checker (test/util/history_checker.h) against kvring's
// versioning model (docs/versioning.md, docs/history.md):
//   - hand-made histories: a legal one (concurrent writes kept as siblings, a
//     resolving put, a delete with a context, timed-out writes whose values do or
//     do not appear) is clean; each violation kind is detected on a small history
//     made to show it, and near misses that are legal are not reported;
//   - random legal histories from a small model store in this file (replicas
//     holding sibling sets with dots and contexts, quorum writes and reads, read
//     repair, anti-entropy, timeouts, final reads after a full merge) are clean,
//     and each random single mutation of one (a value dropped from a final read, a
//     read context lowered, a phantom value added) is detected with the right kind.
// The model is written here, apart from repl/, so the checker is not tested
// against the code it is meant to check.
#include "test/util/history_checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "test/repl/repl_test_util.h"
#include "test/util/history.h"
#include "test/util/json.h"
#include "test/util/test_util.h"

namespace kvring::test {
namespace {

using repl::testing::D;

// Moves 10 us every time it is read, so every recorded event has its own time.
class SteppingClock final : public base::Clock {
 public:
  uint64_t NowMicros() const override { return now_.fetch_add(10) + 10; }
  uint64_t WallMicros() const override { return NowMicros(); }
  void SleepMicros(uint64_t micros) override { now_.fetch_add(micros); }

 private:
  mutable std::atomic<uint64_t> now_{1'000'000};
};

const WriteParams kQuorumWrite{.w = 2, .strict = true};
const WriteParams kBlindWrite{.overwrite = true, .w = 2, .strict = true};  // kvring's put without a context
const ReadParams kQuorumRead{.r = 2, .strict = true};
// Not strict, so a final read that misses a write shows as lost alone (a strict
// one is also stale: StrictFinalReadMissingAWriteIsLostAndStale).
const ReadParams kFinalRead{.r = ConsistencyLevel::All(), .final_read = true};

ReadValue RV(std::string value, std::string_view dot) { return ReadValue{std::move(value), D(dot)}; }

// Records hand-made histories through the real writer, one completed op at a time.
class Recorder {
 public:
  explicit Recorder(HistoryHeader header = {.n = 3, .max_siblings = 64})
      : writer_(HistoryWriter::InMemory(header, &clock_)) {}

  HistoryWriter& writer() { return *writer_; }

  void Put(int64_t p, std::string_view key, std::string_view value, const std::optional<HistoryContext>& ctx,
           std::string_view dot, const WriteParams& params = kQuorumWrite) {
    writer_->Ok(writer_->InvokePut(p, key, value, ctx, params), D(dot));
  }
  void Delete(int64_t p, std::string_view key, const std::optional<HistoryContext>& ctx, std::string_view dot,
              const WriteParams& params = kQuorumWrite) {
    writer_->Ok(writer_->InvokeDelete(p, key, ctx, params), D(dot));
  }
  void TimedOutPut(int64_t p, std::string_view key, std::string_view value, const std::optional<HistoryContext>& ctx,
                   const WriteParams& params = kQuorumWrite) {
    writer_->Info(writer_->InvokePut(p, key, value, ctx, params), "TimedOut: 1 of 2 write acks within 1000ms");
  }
  void FailedPut(int64_t p, std::string_view key, std::string_view value, const std::optional<HistoryContext>& ctx,
                 const WriteParams& params = kQuorumWrite) {
    writer_->Fail(writer_->InvokePut(p, key, value, ctx, params), "Unavailable: quorum not reached");
  }
  void Get(int64_t p, std::string_view key, const std::vector<ReadValue>& values,
           const std::optional<HistoryContext>& ctx, const ReadParams& params = kQuorumRead) {
    writer_->Ok(writer_->InvokeGet(p, key, params), values, ctx);
  }

  History history() const {
    EXPECT_TRUE(writer_->status().ok()) << writer_->status().ToString();
    return writer_->Snapshot();
  }
  CheckReport Check() const { return CheckHistory(history()); }

 private:
  SteppingClock clock_;
  std::unique_ptr<HistoryWriter> writer_;
};

// The kinds reported, in report order without repeats: "lost,stale".
std::string Kinds(const CheckReport& report) {
  std::string s;
  std::set<ViolationKind> seen;
  for (const Violation& v : report.violations) {
    if (!seen.insert(v.kind).second) continue;
    if (!s.empty()) s += ",";
    s += ViolationKindName(v.kind);
  }
  return s;
}

// --- Legal histories ------------------------------------------------------------------

TEST(HistoryChecker, LegalHistoryWithSiblingsAResolvingPutADeleteAndTimeoutsIsClean) {
  Recorder h;
  // docs/versioning.md's cart: a blind put, two racing puts with the same context
  // kept as siblings, a put with the get's context resolving both.
  h.Put(1, "cart", "milk", std::nullopt, "n1:1", kBlindWrite);
  h.Get(2, "cart", {RV("milk", "n1:1")}, HistoryContext{{"n1", 1}});
  h.Get(3, "cart", {RV("milk", "n1:1")}, HistoryContext{{"n1", 1}});
  PendingWrite eggs = h.writer().InvokePut(2, "cart", "milk,eggs", HistoryContext{{"n1", 1}}, kQuorumWrite);
  PendingWrite bread = h.writer().InvokePut(3, "cart", "milk,bread", HistoryContext{{"n1", 1}}, kQuorumWrite);
  h.writer().Ok(std::move(eggs), D("n1:2"));
  h.writer().Ok(std::move(bread), D("n2:1"));
  h.Get(4, "cart", {RV("milk,eggs", "n1:2"), RV("milk,bread", "n2:1")}, HistoryContext{{"n1", 2}, {"n2", 1}});
  h.Put(4, "cart", "milk,eggs,bread", HistoryContext{{"n1", 2}, {"n2", 1}}, "n3:1");
  h.TimedOutPut(1, "cart", "butter", HistoryContext{{"n1", 2}, {"n2", 1}, {"n3", 1}});  // never landed
  h.Get(1, "cart", {RV("milk,eggs,bread", "n3:1")}, HistoryContext{{"n1", 2}, {"n2", 1}, {"n3", 1}}, kFinalRead);

  // A delete with the context of a get; kvring's not-found carries no context.
  h.Put(1, "tmp", "a", std::nullopt, "n1:1", kBlindWrite);
  h.Get(2, "tmp", {RV("a", "n1:1")}, HistoryContext{{"n1", 1}});
  h.Delete(2, "tmp", HistoryContext{{"n1", 1}}, "n1:2");
  h.Get(2, "tmp", {}, std::nullopt, ReadParams{.r = 2, .strict = true, .session = true});
  h.Get(3, "tmp", {}, std::nullopt, kFinalRead);
  h.Get(4, "tmp", {}, HistoryContext{{"n1", 2}}, kFinalRead);

  // A timed-out put that landed (its value is read, so its dot is learned), and a
  // failed one that did not.
  h.TimedOutPut(1, "late", "x", std::nullopt, kBlindWrite);
  h.Get(2, "late", {RV("x", "n2:1")}, HistoryContext{{"n2", 1}}, ReadParams{.r = 1});
  h.FailedPut(3, "late", "y", HistoryContext{});
  h.Get(4, "late", {RV("x", "n2:1")}, HistoryContext{{"n2", 1}}, kFinalRead);

  const CheckReport report = h.Check();
  EXPECT_TRUE(report.clean()) << ReportText(report);
  EXPECT_EQ(3u, report.counts.keys);
  EXPECT_EQ(19u, report.counts.ops);
  EXPECT_EQ(9u, report.counts.writes);
  EXPECT_EQ(6u, report.counts.writes_acknowledged);
  EXPECT_EQ(3u, report.counts.writes_indeterminate);
  EXPECT_EQ(10u, report.counts.reads);
  EXPECT_EQ(4u, report.counts.final_reads);
  EXPECT_EQ(0u, report.counts.keys_without_final_reads);
  EXPECT_EQ(0u, report.counts.writes_not_checked_for_loss);
  EXPECT_NE(std::string::npos, ReportText(report).find("result: clean"));
}

TEST(HistoryChecker, AWriteSupersededByATimedOutWriteIsNotLost) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Get(2, "k", {RV("a", "n1:1")}, HistoryContext{{"n1", 1}});
  h.TimedOutPut(2, "k", "b", HistoryContext{{"n1", 1}});  // landed: the final read shows it
  h.Get(3, "k", {RV("b", "n1:2")}, HistoryContext{{"n1", 2}}, kFinalRead);
  const CheckReport report = h.Check();
  EXPECT_TRUE(report.clean()) << ReportText(report);
}

TEST(HistoryChecker, ABlindOverwriteThatMayHaveFollowedAWriteMaySupersedeIt) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Put(2, "k", "b", std::nullopt, "n1:2", kBlindWrite);
  h.Get(3, "k", {RV("b", "n1:2")}, HistoryContext{{"n1", 2}}, kFinalRead);
  const CheckReport report = h.Check();
  EXPECT_TRUE(report.clean()) << ReportText(report);
}

TEST(HistoryChecker, KeysWithoutFinalReadsAreWarnedAboutNotGuessedLost) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Put(1, "j", "b", HistoryContext{}, "n1:1");
  h.Get(2, "j", {}, HistoryContext{{"n1", 1}}, kFinalRead);  // covers b's dot but lacks b
  h.Put(1, "j", "c", HistoryContext{}, "n1:2");              // after the final read: not checked
  const CheckReport report = h.Check();
  EXPECT_EQ("lost", Kinds(report)) << ReportText(report);
  EXPECT_EQ(1u, report.Count(ViolationKind::kLost));  // b, not a (no final read) nor c (too late)
  EXPECT_EQ(1u, report.counts.keys_without_final_reads);
  EXPECT_EQ(std::vector<std::string>{"k"}, report.keys_without_final_reads);
  EXPECT_EQ(2u, report.counts.writes_not_checked_for_loss);
  EXPECT_NE(std::string::npos, ReportText(report).find("warning: 1 key has no final read (its writes were not checked for loss): \"k\"")) << ReportText(report);
}

// --- Each violation kind ----------------------------------------------------------------

TEST(HistoryChecker, DroppedAcknowledgedWriteIsReportedLost) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");  // an empty context supersedes nothing
  h.Put(2, "k", "b", HistoryContext{}, "n2:1");
  h.Get(3, "k", {RV("b", "n2:1")}, HistoryContext{{"n2", 1}}, kFinalRead);
  const CheckReport report = h.Check();
  ASSERT_EQ("lost", Kinds(report)) << ReportText(report);
  ASSERT_EQ(1u, report.violations.size());
  const Violation& v = report.violations[0];
  EXPECT_EQ("k", v.key);
  EXPECT_EQ((std::vector<int>{2, 3, 6, 7}), v.lines);  // a's invoke and ok, the final read
  EXPECT_NE(std::string::npos, v.explanation.find("n1:1")) << v.explanation;
}

TEST(HistoryChecker, StrictFinalReadMissingAWriteIsLostAndStale) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Get(3, "k", {}, HistoryContext{}, ReadParams{.r = ConsistencyLevel::All(), .strict = true, .final_read = true});
  const CheckReport report = h.Check();
  EXPECT_EQ("lost,stale", Kinds(report)) << ReportText(report);
}

TEST(HistoryChecker, AcknowledgedPutMissingFromAFinalReadWhoseContextCoversItIsLost) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Put(2, "k", "b", HistoryContext{}, "n2:1");
  h.Get(3, "k", {RV("b", "n2:1")}, HistoryContext{{"n1", 1}, {"n2", 1}}, kFinalRead);
  const CheckReport report = h.Check();
  EXPECT_EQ("lost", Kinds(report)) << ReportText(report);
  EXPECT_EQ(1u, report.Count(ViolationKind::kLost));
}

TEST(HistoryChecker, AnOverwriteAcknowledgedBeforeAWriteWasInvokedCannotHaveSupersededIt) {
  Recorder h;
  h.Put(2, "k", "b", std::nullopt, "n1:1", kBlindWrite);
  h.Put(1, "k", "a", HistoryContext{}, "n2:1");
  h.Get(3, "k", {RV("b", "n1:1")}, HistoryContext{{"n1", 1}, {"n2", 1}}, kFinalRead);
  const CheckReport report = h.Check();
  EXPECT_EQ("lost", Kinds(report)) << ReportText(report);
}

TEST(HistoryChecker, StaleStrictQuorumReadIsReported) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  h.Get(2, "k", {}, HistoryContext{}, kQuorumRead);                // r=2 + w=2 > 3, after the ok
  h.Get(2, "k", {}, HistoryContext{}, ReadParams{.r = 1, .strict = true});   // r + w = 3: may be stale
  h.Get(2, "k", {}, HistoryContext{}, ReadParams{.r = 2, .strict = false});  // sloppy: may be stale
  const CheckReport report = h.Check();
  ASSERT_EQ("stale", Kinds(report)) << ReportText(report);
  ASSERT_EQ(1u, report.violations.size());
  EXPECT_EQ((std::vector<int>{4, 5, 2, 3}), report.violations[0].lines);
}

TEST(HistoryChecker, QuorumAndAllAsNamedLevelsMakeAStrictQuorum) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", WriteParams{.overwrite = true, .w = ConsistencyLevel::Quorum(), .strict = true});
  h.Get(2, "k", {}, HistoryContext{}, ReadParams{.r = ConsistencyLevel::Quorum(), .strict = true});
  h.Get(2, "k", {}, HistoryContext{}, ReadParams{.r = ConsistencyLevel::One(), .strict = true});  // 1 + 2 = 3
  const CheckReport report = h.Check();
  EXPECT_EQ("stale", Kinds(report)) << ReportText(report);
  EXPECT_EQ(1u, report.Count(ViolationKind::kStale));
}

TEST(HistoryChecker, AReadOverlappingAWriteMayMissIt) {
  Recorder h;
  PendingRead get = h.writer().InvokeGet(2, "k", kQuorumRead);
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  h.writer().Ok(std::move(get), {}, HistoryContext{});
  const CheckReport report = h.Check();
  EXPECT_TRUE(report.clean()) << ReportText(report);
}

TEST(HistoryChecker, NotFoundWithoutContextAfterAPutIsStaleButAfterADeleteIsNot) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  h.Get(2, "k", {}, std::nullopt);  // kvring's not-found: no context, and "a" is missing
  h.Put(1, "j", "b", std::nullopt, "n1:1", kBlindWrite);
  h.Delete(1, "j", HistoryContext{{"n1", 1}}, "n1:2");
  h.Get(2, "j", {}, std::nullopt);  // "b" was superseded by the delete
  const CheckReport report = h.Check();
  ASSERT_EQ("stale", Kinds(report)) << ReportText(report);
  ASSERT_EQ(1u, report.violations.size());
  EXPECT_EQ("k", report.violations[0].key);
}

TEST(HistoryChecker, AValueNoPutWroteIsAPhantom) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  h.Put(1, "other", "ghost", std::nullopt, "n1:1", kBlindWrite);  // another key's value
  h.Get(2, "k", {RV("a", "n1:1"), RV("ghost", "n2:1")}, HistoryContext{{"n1", 1}, {"n2", 1}});
  const CheckReport report = h.Check();
  ASSERT_EQ("phantom", Kinds(report)) << ReportText(report);
  EXPECT_EQ(1u, report.violations.size());
  EXPECT_NE(std::string::npos, report.violations[0].explanation.find("\"ghost\""));
}

TEST(HistoryChecker, AValueOfAFailedOrTimedOutPutIsNotAPhantom) {
  Recorder h;
  h.FailedPut(1, "k", "a", std::nullopt, kBlindWrite);
  h.TimedOutPut(1, "k", "b", HistoryContext{});
  h.Get(2, "k", {RV("a", "n1:1"), RV("b", "n2:1")}, HistoryContext{{"n1", 1}, {"n2", 1}});
  const CheckReport report = h.Check();
  EXPECT_TRUE(report.clean()) << ReportText(report);
}

TEST(HistoryChecker, AValueReadBeforeItsPutWasInvokedIsAPhantom) {
  Recorder h;
  h.Get(2, "k", {RV("a", "n1:1")}, HistoryContext{{"n1", 1}});
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  const CheckReport report = h.Check();
  EXPECT_EQ("phantom", Kinds(report)) << ReportText(report);
}

TEST(HistoryChecker, AValueADeleteSupersededComingBackIsResurrected) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  h.Get(2, "k", {RV("a", "n1:1")}, HistoryContext{{"n1", 1}});
  h.Delete(2, "k", HistoryContext{{"n1", 1}}, "n1:2");
  h.Get(3, "k", {RV("a", "n1:1")}, HistoryContext{{"n1", 1}}, ReadParams{.r = 1});  // a stale replica: fine
  h.Get(3, "k", {RV("a", "n1:1")}, HistoryContext{{"n1", 2}}, kFinalRead);
  const CheckReport report = h.Check();
  ASSERT_EQ("resurrected", Kinds(report)) << ReportText(report);
  ASSERT_EQ(1u, report.violations.size());
  EXPECT_EQ((std::vector<int>{10, 11, 6, 7}), report.violations[0].lines);
}

TEST(HistoryChecker, ANonFinalReadWhoseContextCoversTheSupersedingWriteCannotReturnTheOldValue) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  h.Put(2, "k", "b", HistoryContext{{"n1", 1}}, "n2:1");
  h.Get(3, "k", {RV("a", "n1:1"), RV("b", "n2:1")}, HistoryContext{{"n1", 1}, {"n2", 1}}, ReadParams{.r = 1});
  const CheckReport report = h.Check();
  EXPECT_EQ("resurrected", Kinds(report)) << ReportText(report);
}

TEST(HistoryChecker, MoreValuesThanMaxSiblingsAreReported) {
  Recorder h({.n = 3, .max_siblings = 2});
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Put(2, "k", "b", HistoryContext{}, "n2:1");
  h.Put(3, "k", "c", HistoryContext{}, "n3:1");
  const HistoryContext all{{"n1", 1}, {"n2", 1}, {"n3", 1}};
  h.Get(4, "k", {RV("a", "n1:1"), RV("b", "n2:1"), RV("c", "n3:1")}, all, kFinalRead);
  const CheckReport report = h.Check();
  ASSERT_EQ("siblings", Kinds(report)) << ReportText(report);
  EXPECT_NE(std::string::npos, report.violations[0].explanation.find("3 values")) << report.violations[0].explanation;
}

TEST(HistoryChecker, ASessionReadMissingItsOwnAcknowledgedWriteBreaksReadYourWrites) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", WriteParams{.overwrite = true, .w = 1});
  h.Get(1, "k", {}, HistoryContext{}, ReadParams{.r = 1, .session = true});
  h.Get(1, "k", {}, HistoryContext{}, ReadParams{.r = 1});                    // no session asked for
  h.Get(2, "k", {}, HistoryContext{}, ReadParams{.r = 1, .session = true});  // not its write
  const CheckReport report = h.Check();
  ASSERT_EQ("ryw", Kinds(report)) << ReportText(report);
  ASSERT_EQ(1u, report.violations.size());
  EXPECT_EQ((std::vector<int>{4, 5, 2, 3}), report.violations[0].lines);
}

TEST(HistoryChecker, OneDotForTwoAcknowledgedWritesIsDotReuse) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Put(2, "k", "b", HistoryContext{}, "n1:1");
  h.Put(2, "j", "c", HistoryContext{}, "n1:1");  // dots are per key: fine
  const CheckReport report = h.Check();
  ASSERT_EQ("dot-reuse", Kinds(report)) << ReportText(report);
  EXPECT_EQ(1u, report.violations.size());
}

TEST(HistoryChecker, AValueReadWithAnotherDotThanItsWriteWasAcknowledgedWithIsADotMismatch) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:1", kBlindWrite);
  h.Get(2, "k", {RV("a", "n1:7")}, HistoryContext{{"n1", 7}});
  h.Get(2, "k", {RV("a", "n1:7")}, HistoryContext{{"n1", 7}});  // reported once
  const CheckReport report = h.Check();
  ASSERT_EQ("dot-mismatch", Kinds(report)) << ReportText(report);
  EXPECT_EQ(1u, report.violations.size());
}

TEST(HistoryChecker, AReadContextNotCoveringAReturnedValueIsReported) {
  Recorder h;
  h.Put(1, "k", "a", std::nullopt, "n1:2", kBlindWrite);
  h.Get(2, "k", {RV("a", "n1:2")}, HistoryContext{{"n1", 1}}, ReadParams{.r = 1});
  const CheckReport report = h.Check();
  EXPECT_EQ("read-context", Kinds(report)) << ReportText(report);
}

TEST(HistoryChecker, TwoPutsOfOneValueMakeTheHistoryUnusable) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Put(2, "k", "a", HistoryContext{}, "n2:1");
  const CheckReport report = h.Check();
  EXPECT_EQ("duplicate-value", Kinds(report)) << ReportText(report);
}

TEST(HistoryChecker, UnpairedAndOverlappingEventsAreReported) {
  History h;
  h.header = {.n = 3, .max_siblings = 64};
  HistoryEvent invoke{.type = EventType::kInvoke, .process = 1, .op = OpKind::kGet, .key = "k", .time_us = 10};
  HistoryEvent ok{.type = EventType::kOk, .process = 1, .op = OpKind::kGet, .key = "k", .time_us = 20};
  HistoryEvent stray = ok;
  stray.process = 9;
  HistoryEvent other_op = ok;
  other_op.op = OpKind::kPut;
  other_op.dot = D("n1:1");
  HistoryEvent early = ok;
  early.time_us = 5;
  h.events = {invoke, stray, invoke, other_op, ok, invoke, early};
  const CheckReport report = CheckHistory(h);
  EXPECT_EQ("unmatched-completion,overlapping-ops,time-order", Kinds(report)) << ReportText(report);
  EXPECT_EQ(2u, report.Count(ViolationKind::kUnmatchedCompletion));
  ASSERT_EQ(1u, report.Count(ViolationKind::kOverlappingOps));
  EXPECT_EQ(1u, report.Count(ViolationKind::kTimeOrder));
  // In-memory events are numbered as in a file: event i on line i + 2.
  const auto overlap = std::find_if(report.violations.begin(), report.violations.end(),
                                    [](const Violation& v) { return v.kind == ViolationKind::kOverlappingOps; });
  EXPECT_EQ((std::vector<int>{2, 4}), overlap->lines);
}

TEST(HistoryChecker, TheWriterRecordsASecondOutstandingInvokeAndReportsTheMisuse) {
  Recorder h;
  PendingRead first = h.writer().InvokeGet(1, "k", kQuorumRead);
  PendingRead second = h.writer().InvokeGet(1, "k", kQuorumRead);
  EXPECT_FALSE(h.writer().status().ok());
  h.writer().Ok(std::move(second), {}, HistoryContext{});
  h.writer().Ok(std::move(first), {}, HistoryContext{});
  const CheckReport report = CheckHistory(h.writer().Snapshot());
  EXPECT_EQ("unmatched-completion,overlapping-ops", Kinds(report)) << ReportText(report);
}

TEST(HistoryChecker, ReportsRenderAsTextAndAsJson) {
  Recorder h;
  h.Put(1, "k", "a", HistoryContext{}, "n1:1");
  h.Get(3, "k", {}, HistoryContext{}, kFinalRead);
  const CheckReport report = h.Check();
  ASSERT_EQ("lost", Kinds(report));
  const std::string text = ReportText(report);
  EXPECT_NE(std::string::npos, text.find("lost key \"k\" [lines 2,3,4,5]: ")) << text;
  EXPECT_NE(std::string::npos, text.find("result: 1 violation\n")) << text;
  base::Result<JsonValue> json = ParseJson(ReportJson(report));
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_FALSE(json->Find("clean")->bool_value());
  EXPECT_EQ(1, json->Find("violation_counts")->Find("lost")->int_value());
  const JsonValue& v = json->Find("violations")->array().at(0);
  EXPECT_EQ("lost", v.Find("kind")->string_value());
  EXPECT_EQ("k", v.Find("key")->string_value());
  EXPECT_EQ(4u, v.Find("lines")->array().size());
  EXPECT_EQ(report.violations[0].explanation, v.Find("explanation")->string_value());
  EXPECT_EQ(1, json->Find("counts")->Find("writes_acknowledged")->int_value());
}

// --- Random histories from a model store --------------------------------------------

// One version at a model replica.
struct ModelSibling {
  repl::Dot dot;
  HistoryContext context;
  bool tombstone = false;
  std::string value;
};

// A replica's versions of one key and its causal history there.
struct ModelReplica {
  std::vector<ModelSibling> siblings;
  HistoryContext history;
};

void Join(HistoryContext* into, const HistoryContext& other) {
  for (const auto& [node, counter] : other) {
    uint64_t& mine = (*into)[node];
    mine = std::max(mine, counter);
  }
}

bool Holds(const ModelReplica& r, const repl::Dot& dot) {
  return std::any_of(r.siblings.begin(), r.siblings.end(), [&](const ModelSibling& s) { return s.dot == dot; });
}

// The dotted-version-vector merge: a sibling survives iff both hold it, or the
// other side's history has not seen it.
ModelReplica Merge(const ModelReplica& a, const ModelReplica& b) {
  ModelReplica out;
  for (const ModelSibling& s : a.siblings) {
    if (Holds(b, s.dot) || !Covers(b.history, s.dot)) out.siblings.push_back(s);
  }
  for (const ModelSibling& s : b.siblings) {
    if (!Holds(a, s.dot) && !Covers(a.history, s.dot)) out.siblings.push_back(s);
  }
  out.history = a.history;
  Join(&out.history, b.history);
  return out;
}

// A write at `node` with context `ctx`: a fresh dot, the covered siblings replaced.
repl::Dot ApplyWrite(ModelReplica* r, const std::string& node, const HistoryContext& ctx, bool tombstone,
                     const std::string& value) {
  const auto count = [](const HistoryContext& c, const std::string& n) {
    auto it = c.find(n);
    return it == c.end() ? uint64_t{0} : it->second;
  };
  const repl::Dot dot{node, 1 + std::max(count(r->history, node), count(ctx, node))};
  std::erase_if(r->siblings, [&](const ModelSibling& s) { return Covers(ctx, s.dot); });
  r->siblings.push_back(ModelSibling{dot, ctx, tombstone, value});
  Join(&r->history, ctx);
  r->history[node] = dot.counter;
  return dot;
}

// Generates a legal history: clients (processes) get, put and delete at random
// through random coordinators with fresh, stale, empty or no contexts; W and R
// replicas answer; some writes time out or fail after landing on the coordinator
// or nowhere; replicas exchange state at random; at the end every replica holds
// the full merge and each process reads each key with final = true. Ops overlap in
// time; each takes effect at one moment inside its interval.
class ModelRun {
 public:
  static constexpr int kReplicas = 3;
  static constexpr int kProcesses = 4;

  explicit ModelRun(uint64_t seed) : rnd_(seed) {
    nodes_ = {"n1", "n2#2", "n3"};  // actor ids may carry an epoch after '#'
    keys_ = {"a", "b"};
    for (const std::string& k : keys_) replicas_[k].resize(kReplicas);
  }

  History Generate(int steps) {
    History h;
    h.header = {.n = kReplicas, .max_siblings = 1000, .note = "model run"};
    for (int step = 0; step < steps; ++step) Step();
    FinalReads();
    std::stable_sort(events_.begin(), events_.end(),
                     [](const HistoryEvent& a, const HistoryEvent& b) { return a.time_us < b.time_us; });
    h.events = events_;
    return h;
  }

 private:
  struct ProcessState {
    uint64_t busy_until = 0;
    std::map<std::string, std::optional<HistoryContext>> context;  // per key, from its last get
    std::map<std::string, int> min_acked_w;                        // per key
  };

  void Step() {
    now_ += 1 + rnd_.Uniform(20);
    const uint64_t op = rnd_.Uniform(100);
    if (op < 10) return AntiEntropy();
    const int p = static_cast<int>(rnd_.Uniform(kProcesses));
    if (processes_[p].busy_until >= now_) return;
    const std::string& key = keys_[rnd_.Uniform(keys_.size())];
    if (op < 45) return Get(p, key);
    return Write(p, key, /*tombstone=*/op >= 90);
  }

  void AntiEntropy() {
    std::vector<ModelReplica>& rs = replicas_[keys_[rnd_.Uniform(keys_.size())]];
    const size_t a = rnd_.Uniform(kReplicas);
    const size_t b = rnd_.Uniform(kReplicas);
    rs[a] = rs[b] = Merge(rs[a], rs[b]);
  }

  // `count` distinct replicas, the first one `first` when given.
  std::vector<size_t> PickReplicas(int count) {
    std::vector<size_t> all = {0, 1, 2};
    for (size_t i = 0; i < all.size(); ++i) std::swap(all[i], all[i + rnd_.Uniform(all.size() - i)]);
    all.resize(static_cast<size_t>(count));
    return all;
  }

  HistoryEvent Event(EventType type, int p, OpKind op, const std::string& key, uint64_t time) {
    HistoryEvent e;
    e.type = type;
    e.process = p;
    e.op = op;
    e.key = key;
    e.time_us = time;
    return e;
  }

  // Invoke now, complete a little later; the process is busy until then.
  uint64_t Finish(int p) {
    const uint64_t done = now_ + 1 + rnd_.Uniform(60);
    processes_[p].busy_until = done;
    return done;
  }

  void Write(int p, const std::string& key, bool tombstone) {
    ProcessState& ps = processes_[p];
    std::vector<ModelReplica>& rs = replicas_[key];
    const int w = 1 + static_cast<int>(rnd_.Uniform(kReplicas));
    const std::vector<size_t> targets = PickReplicas(w);
    const size_t coordinator = targets[0];
    HistoryEvent invoke = Event(EventType::kInvoke, p, tombstone ? OpKind::kDelete : OpKind::kPut, key, now_);
    if (!tombstone) invoke.value = "v" + std::to_string(next_value_++);
    invoke.w = w;
    invoke.strict = !rnd_.OneIn(4);
    HistoryContext applied;  // the context the coordinator uses
    const uint64_t choice = rnd_.Uniform(10);
    if (choice < 6 && ps.context[key].has_value()) {
      invoke.context = ps.context[key];  // maybe stale
      applied = *invoke.context;
    } else if (choice < 8) {
      invoke.context = HistoryContext{};  // supersedes nothing
    } else {
      invoke.overwrite = true;  // kvring's blind write: the coordinator's own history
      applied = rs[coordinator].history;
    }
    events_.push_back(invoke);
    const uint64_t done = Finish(p);
    const uint64_t outcome = rnd_.Uniform(10);
    if (outcome < 8) {
      const repl::Dot dot = ApplyWrite(&rs[coordinator], nodes_[coordinator], applied, tombstone, invoke.value);
      for (size_t t = 1; t < targets.size(); ++t) rs[targets[t]] = Merge(rs[targets[t]], rs[coordinator]);
      HistoryEvent ok = Event(EventType::kOk, p, invoke.op, key, done);
      ok.dot = dot;
      events_.push_back(ok);
      auto [it, inserted] = ps.min_acked_w.emplace(key, w);
      if (!inserted) it->second = std::min(it->second, w);
      return;
    }
    // Indeterminate: landed on the coordinator only, or nowhere.
    if (rnd_.OneIn(2)) ApplyWrite(&rs[coordinator], nodes_[coordinator], applied, tombstone, invoke.value);
    HistoryEvent e = Event(outcome == 8 ? EventType::kInfo : EventType::kFail, p, invoke.op, key, done);
    e.error = outcome == 8 ? "TimedOut" : "Unavailable";
    events_.push_back(e);
  }

  void Get(int p, const std::string& key) {
    ProcessState& ps = processes_[p];
    std::vector<ModelReplica>& rs = replicas_[key];
    const int r = 1 + static_cast<int>(rnd_.Uniform(kReplicas));
    HistoryEvent invoke = Event(EventType::kInvoke, p, OpKind::kGet, key, now_);
    invoke.r = r;
    invoke.strict = !rnd_.OneIn(4);
    auto min_w = ps.min_acked_w.find(key);
    invoke.session = rnd_.OneIn(3) && (min_w == ps.min_acked_w.end() || r + min_w->second > kReplicas);
    events_.push_back(invoke);
    const uint64_t done = Finish(p);
    if (rnd_.OneIn(10)) {
      HistoryEvent e = Event(EventType::kInfo, p, OpKind::kGet, key, done);
      e.error = "TimedOut";
      events_.push_back(e);
      return;
    }
    const std::vector<size_t> asked = PickReplicas(r);
    ModelReplica merged;
    for (size_t i : asked) merged = Merge(merged, rs[i]);
    if (rnd_.OneIn(3)) {
      for (size_t i : asked) rs[i] = Merge(rs[i], merged);  // read repair
    }
    events_.push_back(ReadOk(p, key, merged, done));
    ps.context[key] = events_.back().context;
  }

  HistoryEvent ReadOk(int p, const std::string& key, const ModelReplica& merged, uint64_t done) {
    HistoryEvent ok = Event(EventType::kOk, p, OpKind::kGet, key, done);
    for (const ModelSibling& s : merged.siblings) {
      if (!s.tombstone) ok.values.push_back(ReadValue{s.value, s.dot});
    }
    // kvring's not-found carries no context; other stores (or a simulator) may send one.
    if (!ok.values.empty() || rnd_.OneIn(2)) ok.context = merged.history;
    return ok;
  }

  void FinalReads() {
    for (const ProcessState& ps : processes_) now_ = std::max(now_, ps.busy_until);
    for (const std::string& key : keys_) {
      std::vector<ModelReplica>& rs = replicas_[key];
      ModelReplica all;
      for (const ModelReplica& r : rs) all = Merge(all, r);
      for (ModelReplica& r : rs) r = all;
      for (int p = 0; p < kProcesses; ++p) {
        now_ = std::max(now_, processes_[p].busy_until) + 1 + rnd_.Uniform(5);
        HistoryEvent invoke = Event(EventType::kInvoke, p, OpKind::kGet, key, now_);
        invoke.r = ConsistencyLevel::All();
        invoke.strict = true;
        invoke.final_read = true;
        events_.push_back(invoke);
        events_.push_back(ReadOk(p, key, all, Finish(p)));
      }
    }
  }

  base::Random rnd_;
  std::vector<std::string> nodes_;
  std::vector<std::string> keys_;
  std::map<std::string, std::vector<ModelReplica>> replicas_;
  ProcessState processes_[kProcesses];
  std::vector<HistoryEvent> events_;
  uint64_t now_ = 1'000;
  int next_value_ = 0;
};

constexpr int kRuns = 300;
constexpr int kSteps = 120;

TEST(HistoryChecker, RandomLegalHistoriesFromAModelStoreAreClean) {
  const uint64_t seed = TestSeed("HistoryChecker.RandomLegalHistoriesFromAModelStoreAreClean");
  size_t acked = 0;
  size_t indeterminate = 0;
  size_t siblings = 0;
  for (int run = 0; run < kRuns; ++run) {
    const History h = ModelRun(seed + static_cast<uint64_t>(run)).Generate(kSteps);
    const CheckReport report = CheckHistory(h);
    ASSERT_TRUE(report.clean()) << "run " << run << " (KV_SEED=" << seed << ")\n" << ReportText(report);
    EXPECT_EQ(0u, report.counts.keys_without_final_reads);
    acked += report.counts.writes_acknowledged;
    indeterminate += report.counts.writes_indeterminate;
    for (const HistoryEvent& e : h.events) siblings += e.type == EventType::kOk && e.values.size() > 1;
  }
  // The runs exercise what they claim to: acknowledged and indeterminate writes,
  // and reads returning siblings.
  EXPECT_GT(acked, static_cast<size_t>(kRuns) * 10);
  EXPECT_GT(indeterminate, static_cast<size_t>(kRuns));
  EXPECT_GT(siblings, static_cast<size_t>(kRuns));
}

// The mutations, each on a copy of a legal history. Each returns false when the
// history offers no place where the mutation must be detectable.
class Mutator {
 public:
  Mutator(const History& h, uint64_t seed) : h_(h), rnd_(seed) {}

  // Drops from a final read the value of an acknowledged put that no write could
  // have superseded: none sent a context covering its dot, and every overwrite was
  // acknowledged before the put was invoked.
  bool DropValueFromFinalRead(History* out) {
    std::vector<std::pair<size_t, size_t>> candidates;  // (event, value)
    for (size_t i = 0; i < h_.events.size(); ++i) {
      const HistoryEvent& e = h_.events[i];
      if (e.type != EventType::kOk || e.op != OpKind::kGet || !IsFinal(i)) continue;
      for (size_t v = 0; v < e.values.size(); ++v) {
        if (Unsupersedable(e.key, e.values[v].value)) candidates.push_back({i, v});
      }
    }
    if (candidates.empty()) return false;
    const auto [i, v] = candidates[rnd_.Uniform(candidates.size())];
    *out = h_;
    auto& values = out->events[i].values;
    values.erase(values.begin() + static_cast<std::ptrdiff_t>(v));
    return true;
  }

  // Lowers, in a final read's context, the counter that covers the dot of an
  // acknowledged write exactly: the read no longer reflects that write.
  bool LowerFinalReadContext(History* out) {
    std::vector<std::pair<size_t, std::string>> candidates;  // (event, node)
    for (size_t i = 0; i < h_.events.size(); ++i) {
      const HistoryEvent& e = h_.events[i];
      if (e.type != EventType::kOk || e.op != OpKind::kGet || !IsFinal(i) || !e.context.has_value()) continue;
      for (const auto& [node, counter] : *e.context) {
        if (AckedDot(e.key, repl::Dot{node, counter})) candidates.push_back({i, node});
      }
    }
    if (candidates.empty()) return false;
    const auto& [i, node] = candidates[rnd_.Uniform(candidates.size())];
    *out = h_;
    LowerCounter(&*out->events[i].context, node);
    return true;
  }

  // Lowers, in a strict read's context, the counter that exactly covers a strict
  // write acknowledged before the read was invoked with r + w > n.
  bool LowerStrictReadContext(History* out) {
    std::vector<std::pair<size_t, std::string>> candidates;
    for (size_t i = 0; i < h_.events.size(); ++i) {
      const HistoryEvent& e = h_.events[i];
      if (e.type != EventType::kOk || e.op != OpKind::kGet || !e.context.has_value()) continue;
      const HistoryEvent& invoke = h_.events[InvokeOf(i)];
      if (!invoke.strict) continue;
      for (const auto& [node, counter] : *e.context) {
        if (StrictAckBefore(e.key, repl::Dot{node, counter}, invoke)) candidates.push_back({i, node});
      }
    }
    if (candidates.empty()) return false;
    const auto& [i, node] = candidates[rnd_.Uniform(candidates.size())];
    *out = h_;
    LowerCounter(&*out->events[i].context, node);
    return true;
  }

  // Adds a value nobody wrote to a random answered read.
  bool AddPhantom(History* out) {
    std::vector<size_t> reads;
    for (size_t i = 0; i < h_.events.size(); ++i) {
      if (h_.events[i].type == EventType::kOk && h_.events[i].op == OpKind::kGet) reads.push_back(i);
    }
    if (reads.empty()) return false;
    *out = h_;
    HistoryEvent& e = out->events[reads[rnd_.Uniform(reads.size())]];
    const repl::Dot dot{"n1", 1 + rnd_.Uniform(9)};
    e.values.push_back(ReadValue{"phantom", dot});
    if (e.context.has_value()) (*e.context)["n1"] = std::max((*e.context)["n1"], dot.counter);
    return true;
  }

 private:
  static void LowerCounter(HistoryContext* ctx, const std::string& node) {
    if (--(*ctx)[node] == 0) ctx->erase(node);
  }

  // The invoke of the completion at event i (the process's last invoke before it).
  size_t InvokeOf(size_t i) const {
    for (size_t j = i; j-- > 0;) {
      if (h_.events[j].process == h_.events[i].process && h_.events[j].type == EventType::kInvoke) return j;
    }
    ADD_FAILURE() << "no invoke for event " << i;
    return 0;
  }
  // The completion of the invoke at event i, or SIZE_MAX.
  size_t CompletionOf(size_t i) const {
    for (size_t j = i + 1; j < h_.events.size(); ++j) {
      if (h_.events[j].process == h_.events[i].process) return j;
    }
    return SIZE_MAX;
  }
  bool IsFinal(size_t ok) const { return h_.events[InvokeOf(ok)].final_read; }
  bool Acked(size_t invoke) const {
    const size_t c = CompletionOf(invoke);
    return c != SIZE_MAX && h_.events[c].type == EventType::kOk;
  }

  bool AckedDot(const std::string& key, const repl::Dot& dot) const {
    for (const HistoryEvent& e : h_.events) {
      if (e.type == EventType::kOk && e.is_write() && e.key == key && e.dot == dot) return true;
    }
    return false;
  }

  bool StrictAckBefore(const std::string& key, const repl::Dot& dot, const HistoryEvent& read) const {
    for (size_t i = 0; i < h_.events.size(); ++i) {
      const HistoryEvent& e = h_.events[i];
      if (e.type != EventType::kOk || !e.is_write() || e.key != key || e.dot != dot) continue;
      const HistoryEvent& invoke = h_.events[InvokeOf(i)];
      return invoke.strict && e.time_us < read.time_us && invoke.w.number() + read.r.number() > h_.header.n;
    }
    return false;
  }

  bool Unsupersedable(const std::string& key, const std::string& value) const {
    size_t put = SIZE_MAX;
    for (size_t i = 0; i < h_.events.size(); ++i) {
      const HistoryEvent& e = h_.events[i];
      if (e.type == EventType::kInvoke && e.op == OpKind::kPut && e.key == key && e.value == value) put = i;
    }
    if (put == SIZE_MAX || !Acked(put)) return false;
    const repl::Dot dot = h_.events[CompletionOf(put)].dot;
    for (size_t i = 0; i < h_.events.size(); ++i) {
      const HistoryEvent& e = h_.events[i];
      if (i == put || e.type != EventType::kInvoke || !e.is_write() || e.key != key) continue;
      if (e.context.has_value() && Covers(*e.context, dot)) return false;
      if (e.overwrite && !(Acked(i) && h_.events[CompletionOf(i)].time_us < h_.events[put].time_us)) return false;
    }
    return true;
  }

  const History& h_;
  base::Random rnd_;
};

TEST(HistoryChecker, RandomSingleMutationsOfLegalHistoriesAreDetected) {
  const uint64_t seed = TestSeed("HistoryChecker.RandomSingleMutationsOfLegalHistoriesAreDetected");
  struct Mutation {
    const char* name;
    bool (Mutator::*apply)(History*);
    ViolationKind expect;
    int applied = 0;
  };
  Mutation mutations[] = {
      {"drop a value from a final read", &Mutator::DropValueFromFinalRead, ViolationKind::kLost},
      {"lower a final read's context", &Mutator::LowerFinalReadContext, ViolationKind::kLost},
      {"lower a strict read's context", &Mutator::LowerStrictReadContext, ViolationKind::kStale},
      {"add a phantom value", &Mutator::AddPhantom, ViolationKind::kPhantom},
  };
  for (int run = 0; run < kRuns; ++run) {
    const uint64_t run_seed = seed + static_cast<uint64_t>(run);
    const History legal = ModelRun(run_seed).Generate(kSteps);
    ASSERT_TRUE(CheckHistory(legal).clean()) << "run " << run << " (KV_SEED=" << seed << ")";
    Mutator mutator(legal, run_seed * 31 + 7);
    for (Mutation& m : mutations) {
      History mutated;
      if (!(mutator.*m.apply)(&mutated)) continue;
      ++m.applied;
      const CheckReport report = CheckHistory(mutated);
      ASSERT_GT(report.Count(m.expect), 0u) << m.name << ": not reported as " << ViolationKindName(m.expect)
                                            << " in run " << run << " (KV_SEED=" << seed << ")\n"
                                            << ReportText(report);
    }
  }
  for (const Mutation& m : mutations) {
    EXPECT_GT(m.applied, kRuns / 4) << m.name << " found a place in too few runs";
    std::fprintf(stderr, "  %s: applied and detected in %d of %d runs\n", m.name, m.applied, kRuns);
  }
}

}  // namespace
}  // namespace kvring::test
