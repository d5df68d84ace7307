#include "test/util/history_checker.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "test/util/json.h"

namespace kvring::test {

const char* ViolationKindName(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::kLost: return "lost";
    case ViolationKind::kStale: return "stale";
    case ViolationKind::kPhantom: return "phantom";
    case ViolationKind::kResurrected: return "resurrected";
    case ViolationKind::kSiblings: return "siblings";
    case ViolationKind::kReadYourWrites: return "ryw";
    case ViolationKind::kReadContext: return "read-context";
    case ViolationKind::kDotReuse: return "dot-reuse";
    case ViolationKind::kDotMismatch: return "dot-mismatch";
    case ViolationKind::kDuplicateValue: return "duplicate-value";
    case ViolationKind::kUnmatchedCompletion: return "unmatched-completion";
    case ViolationKind::kOverlappingOps: return "overlapping-ops";
    case ViolationKind::kTimeOrder: return "time-order";
  }
  return "?";
}

size_t CheckReport::Count(ViolationKind kind) const {
  return static_cast<size_t>(
      std::count_if(violations.begin(), violations.end(), [kind](const Violation& v) { return v.kind == kind; }));
}

namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
constexpr size_t kListedAtMost = 5;  // writes named in one stale/ryw explanation

// One operation: an invoke and, when the history has it, its completion.
struct Op {
  const HistoryEvent* invoke = nullptr;
  const HistoryEvent* completion = nullptr;  // null: never completed
  int invoke_line = 0;
  int completion_line = 0;
  size_t invoke_index = 0;

  OpKind kind() const { return invoke->op; }
  bool is_write() const { return invoke->is_write(); }
  bool ok() const { return completion != nullptr && completion->type == EventType::kOk; }
  uint64_t invoke_time() const { return invoke->time_us; }
  // When the op's effect could still happen: its completion for an ok op, never
  // for an indeterminate one (a failed or timed-out write may land later).
  uint64_t settled_time() const { return ok() ? completion->time_us : kNever; }
  const repl::Dot& acked_dot() const { return completion->dot; }  // REQUIRES: ok() && is_write()
};

std::string Quoted(std::string_view s) {
  std::string out;
  if (s.size() > 48) {
    AppendJsonString(&out, s.substr(0, 45));
    out.insert(out.size() - 1, "...");
  } else {
    AppendJsonString(&out, s);
  }
  return out;
}

std::string DotStr(const repl::Dot& dot) { return dot.node + ":" + std::to_string(dot.counter); }

std::string LineStr(int line) { return "line " + std::to_string(line); }

// `put "v" (line L)` or `delete (line L)`.
std::string WriteName(const Op& w) {
  std::string s = w.kind() == OpKind::kPut ? "put " + Quoted(w.invoke->value) : std::string("delete");
  return s + " (" + LineStr(w.invoke_line) + ")";
}

std::string ReadContextStr(const HistoryEvent& ok) {
  return ok.context.has_value() ? ContextText(*ok.context) : std::string("none");
}

bool ReturnsValue(const HistoryEvent& read_ok, const std::string& value) {
  return std::any_of(read_ok.values.begin(), read_ok.values.end(),
                     [&](const ReadValue& v) { return v.value == value; });
}

// The largest value per group and the op it came from, plus the second largest:
// "is there an op other than W with a value >= x" in O(1).
struct TopTwo {
  uint64_t best = 0;
  size_t best_op = SIZE_MAX;
  uint64_t second = 0;  // the largest of the other ops' values
  size_t count = 0;

  void Add(uint64_t value, size_t op) {
    if (count == 0 || value > best) {
      if (count > 0) second = std::max(second, best);
      best = value;
      best_op = op;
    } else {
      second = std::max(second, value);
    }
    ++count;
  }
  // Some op other than except_op added a value >= x. (Each op adds at most once.)
  bool SomeOtherAtLeast(uint64_t x, size_t except_op) const {
    if (count == 0) return false;
    if (best_op != except_op) return best >= x;
    return count > 1 && second >= x;
  }
};

// Acknowledged writes by the node of their dot, counters descending: the writes a
// context with counter c for that node misses are a prefix.
using DotIndex = std::map<std::string, std::vector<std::pair<uint64_t, size_t>>>;

void SortIndex(DotIndex* index) {
  for (auto& [node, list] : *index) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  }
}

// The checks of one key.
class KeyCheck {
 public:
  KeyCheck(const History& history, const std::vector<Op>& ops, const std::string& key,
           std::vector<size_t> op_indexes, CheckReport* report)
      : header_(history.header), ops_(ops), key_(key), mine_(std::move(op_indexes)), report_(report) {}

  void Run() {
    Classify();
    IndexValuesAndDots();
    CheckReads();
    BuildSupersederIndexes();
    CheckResurrections();
    CheckLost();
    CheckStale();
    CheckReadYourWrites();
  }

 private:
  void Add(ViolationKind kind, std::vector<int> lines, std::string explanation) {
    report_->violations.push_back(Violation{kind, key_, std::move(lines), std::move(explanation)});
  }

  const Op& op(size_t i) const { return ops_[i]; }

  void Classify() {
    for (size_t i : mine_) {
      const Op& o = op(i);
      if (o.is_write()) {
        writes_.push_back(i);
        if (o.ok()) acked_.push_back(i);
      } else if (o.ok()) {
        reads_.push_back(i);
        if (o.invoke->final_read) finals_.push_back(i);
      }
    }
    CheckCounts& c = report_->counts;
    c.writes += writes_.size();
    c.writes_acknowledged += acked_.size();
    c.writes_indeterminate += writes_.size() - acked_.size();
    c.reads += reads_.size();
    c.reads_without_result += mine_.size() - writes_.size() - reads_.size();
    c.final_reads += finals_.size();
    if (finals_.empty()) {
      ++c.keys_without_final_reads;
      report_->keys_without_final_reads.push_back(key_);
    }
  }

  // Ties `dot` to write `w` (from its ack, or from a read of its value): a write
  // has one dot, and a dot names one write.
  void Associate(size_t w, const repl::Dot& dot, int line, const char* how) {
    auto [wit, new_write] = dot_of_.emplace(w, std::make_pair(dot, line));
    if (!new_write && wit->second.first != dot && reported_.insert({w, DotStr(dot)}).second) {
      Add(ViolationKind::kDotMismatch, {op(w).invoke_line, wit->second.second, line},
          WriteName(op(w)) + " has dot " + DotStr(wit->second.first) + " (" + LineStr(wit->second.second) +
              ") but " + LineStr(line) + " " + how + " it with dot " + DotStr(dot));
    }
    auto [dit, new_dot] = owner_.emplace(dot, std::make_pair(w, line));
    if (!new_dot && dit->second.first != w && reported_.insert({dit->second.first, "reuse " + DotStr(dot)}).second) {
      const Op& first = op(dit->second.first);
      Add(ViolationKind::kDotReuse, {first.invoke_line, dit->second.second, op(w).invoke_line, line},
          "dot " + DotStr(dot) + " names two writes: " + WriteName(first) + " (" + LineStr(dit->second.second) +
              ") and " + WriteName(op(w)) + " (" + LineStr(line) + " " + how + " it)");
    }
  }

  void IndexValuesAndDots() {
    for (size_t w : writes_) {
      const Op& o = op(w);
      if (o.kind() != OpKind::kPut) continue;
      auto [it, inserted] = put_of_.emplace(o.invoke->value, w);
      if (!inserted) {
        Add(ViolationKind::kDuplicateValue, {op(it->second).invoke_line, o.invoke_line},
            "two puts wrote the value " + Quoted(o.invoke->value) +
                "; values must be unique per write, so the checks of this key are unreliable");
      }
    }
    for (size_t w : acked_) Associate(w, op(w).acked_dot(), op(w).completion_line, "acknowledged");
  }

  void CheckReads() {
    for (size_t r : reads_) {
      const Op& read = op(r);
      const HistoryEvent& ok = *read.completion;
      if (header_.max_siblings > 0 && ok.values.size() > static_cast<size_t>(header_.max_siblings)) {
        Add(ViolationKind::kSiblings, {read.invoke_line, read.completion_line},
            "read returned " + std::to_string(ok.values.size()) + " values, more than max_siblings " +
                std::to_string(header_.max_siblings));
      }
      for (const ReadValue& v : ok.values) CheckReadValue(read, v);
    }
  }

  void CheckReadValue(const Op& read, const ReadValue& v) {
    const HistoryEvent& ok = *read.completion;
    if (ok.context.has_value() && !Covers(*ok.context, v.dot)) {
      Add(ViolationKind::kReadContext, {read.invoke_line, read.completion_line},
          "read returned " + Quoted(v.value) + " with dot " + DotStr(v.dot) + " but its own context " +
              ContextText(*ok.context) + " does not cover that dot");
    }
    auto it = put_of_.find(v.value);
    if (it == put_of_.end()) {
      Add(ViolationKind::kPhantom, {read.invoke_line, read.completion_line},
          "read returned " + Quoted(v.value) + " (dot " + DotStr(v.dot) + "), which no put to this key wrote");
      return;
    }
    const Op& put = op(it->second);
    if (put.invoke_time() > ok.time_us) {
      Add(ViolationKind::kPhantom, {read.invoke_line, read.completion_line, put.invoke_line},
          "read completed at " + std::to_string(ok.time_us) + " us with " + Quoted(v.value) + ", but " +
              WriteName(put) + " was invoked only at " + std::to_string(put.invoke_time()) + " us");
      return;
    }
    Associate(it->second, v.dot, read.completion_line, "read");
  }

  void BuildSupersederIndexes() {
    for (size_t w : writes_) {
      const Op& o = op(w);
      if (o.invoke->context.has_value()) {
        for (const auto& [node, counter] : *o.invoke->context) {
          context_top_[node].Add(counter, w);
          if (o.ok()) acked_by_context_[node].push_back({counter, w});
        }
      }
      if (o.invoke->overwrite) overwrite_top_.Add(o.settled_time(), w);
    }
    SortIndex(&acked_by_context_);
  }

  // Some write other than w (acknowledged or not) sent a context covering its dot,
  // or is an overwrite that could have reached a replica after w was invoked.
  bool PossiblySuperseded(size_t w, const repl::Dot& dot) const {
    auto it = context_top_.find(dot.node);
    if (it != context_top_.end() && it->second.SomeOtherAtLeast(dot.counter, w)) return true;
    return overwrite_top_.SomeOtherAtLeast(op(w).invoke_time(), w);
  }

  // The dot a read returned with value `v` was superseded by an acknowledged write
  // the read must have seen: a final read invoked after that write's ok, or any
  // read whose context covers that write's dot.
  void CheckResurrections() {
    for (size_t r : reads_) {
      const Op& read = op(r);
      for (const ReadValue& v : read.completion->values) {
        auto put = put_of_.find(v.value);
        if (put == put_of_.end()) continue;
        auto list = acked_by_context_.find(v.dot.node);
        if (list == acked_by_context_.end()) continue;
        for (const auto& [counter, x] : list->second) {
          if (counter < v.dot.counter) break;
          if (x == put->second) continue;
          if (!SawSupersession(read, op(x))) continue;
          Add(ViolationKind::kResurrected,
              {read.invoke_line, read.completion_line, op(x).invoke_line, op(x).completion_line},
              "read returned " + Quoted(v.value) + " (dot " + DotStr(v.dot) + "), but acknowledged " +
                  WriteName(op(x)) + " sent context " + ContextText(*op(x).invoke->context) +
                  " covering that dot" +
                  (read.invoke->final_read ? std::string(" before this final read")
                                           : ", and the read's context " + ReadContextStr(*read.completion) +
                                                 " covers that write's dot " + DotStr(op(x).acked_dot())));
          break;
        }
      }
    }
  }

  static bool SawSupersession(const Op& read, const Op& x) {
    if (read.invoke->final_read && x.completion->time_us <= read.invoke_time()) return true;
    const std::optional<HistoryContext>& ctx = read.completion->context;
    return ctx.has_value() && Covers(*ctx, x.acked_dot());
  }

  void CheckLost() {
    for (size_t w : acked_) {
      const Op& write = op(w);
      const repl::Dot& dot = write.acked_dot();
      bool checked = false;
      for (size_t f : finals_) {
        const Op& fin = op(f);
        if (fin.invoke_time() < write.completion->time_us) continue;
        checked = true;
        const HistoryEvent& ok = *fin.completion;
        if (ok.context.has_value() && !Covers(*ok.context, dot)) {
          Add(ViolationKind::kLost, {write.invoke_line, write.completion_line, fin.invoke_line, fin.completion_line},
              "acknowledged " + WriteName(write) + " with dot " + DotStr(dot) + " is not reflected by final read (" +
                  LineStr(fin.completion_line) + "): its context " + ContextText(*ok.context) +
                  " does not cover the dot");
          break;
        }
        if (write.kind() == OpKind::kPut && !ReturnsValue(ok, write.invoke->value) && !PossiblySuperseded(w, dot)) {
          Add(ViolationKind::kLost, {write.invoke_line, write.completion_line, fin.invoke_line, fin.completion_line},
              "acknowledged " + WriteName(write) + " with dot " + DotStr(dot) + " is missing from final read (" +
                  LineStr(fin.completion_line) + "), and no write superseded it (none sent a context covering " +
                  DotStr(dot) + ", no overwrite could have followed it)");
          break;
        }
      }
      if (!checked) ++report_->counts.writes_not_checked_for_loss;
    }
  }

  // A read missed acknowledged write w (dot `dot`): its context does not cover
  // the dot; or, for a read that returned no context, w is a put whose value is
  // absent and that nothing could have superseded.
  bool Missed(const Op& read, size_t w, const repl::Dot& dot) const {
    const HistoryEvent& ok = *read.completion;
    if (ok.context.has_value()) return !Covers(*ok.context, dot);
    const Op& write = op(w);
    return write.kind() == OpKind::kPut && !ReturnsValue(ok, write.invoke->value) && !PossiblySuperseded(w, dot);
  }

  // The writes of `index` that `read` missed and that `applies` says it had to
  // see. With a context only the writes above its counter are looked at.
  template <typename Pred>
  std::vector<size_t> MissedWrites(const Op& read, const DotIndex& index, Pred applies) const {
    std::vector<size_t> missed;
    const std::optional<HistoryContext>& ctx = read.completion->context;
    for (const auto& [node, list] : index) {
      uint64_t seen = 0;
      if (ctx.has_value()) {
        auto c = ctx->find(node);
        seen = c == ctx->end() ? 0 : c->second;
      }
      for (const auto& [counter, w] : list) {
        if (ctx.has_value() && counter <= seen) break;
        if (applies(op(w)) && Missed(read, w, op(w).acked_dot())) missed.push_back(w);
      }
    }
    std::sort(missed.begin(), missed.end(),
              [this](size_t a, size_t b) { return op(a).invoke_line < op(b).invoke_line; });
    return missed;
  }

  // "put "v" (line 3) dot n1:2 acknowledged at line 4, ..." and the lines involved.
  std::string DescribeMissed(const std::vector<size_t>& missed, std::vector<int>* lines) const {
    std::string s;
    for (size_t i = 0; i < missed.size(); ++i) {
      const Op& w = op(missed[i]);
      lines->push_back(w.invoke_line);
      lines->push_back(w.completion_line);
      if (i == kListedAtMost) {
        s += ", and " + std::to_string(missed.size() - kListedAtMost) + " more";
        continue;
      }
      if (i > kListedAtMost) continue;
      if (i > 0) s += ", ";
      s += WriteName(w) + " dot " + DotStr(w.acked_dot()) + " acknowledged at " + LineStr(w.completion_line);
    }
    return s;
  }

  void CheckStale() {
    if (header_.n <= 0) return;
    DotIndex strict;
    for (size_t w : acked_) {
      const Op& o = op(w);
      if (o.invoke->strict && o.invoke->w.Resolve(header_.n).has_value()) {
        strict[o.acked_dot().node].push_back({o.acked_dot().counter, w});
      }
    }
    if (strict.empty()) return;
    SortIndex(&strict);
    for (size_t r : reads_) {
      const Op& read = op(r);
      const std::optional<int> rn = read.invoke->r.Resolve(header_.n);
      if (!read.invoke->strict || !rn.has_value()) continue;
      std::vector<size_t> missed = MissedWrites(read, strict, [&](const Op& w) {
        return *rn + *w.invoke->w.Resolve(header_.n) > header_.n && w.completion->time_us < read.invoke_time();
      });
      if (missed.empty()) continue;
      std::vector<int> lines = {read.invoke_line, read.completion_line};
      const std::string writes = DescribeMissed(missed, &lines);
      Add(ViolationKind::kStale, std::move(lines),
          "strict read (r=" + read.invoke->r.ToString() + ", n=" + std::to_string(header_.n) + ") returned context " +
              ReadContextStr(*read.completion) +
              ", which misses strict writes acknowledged before it was invoked (r + w > n): " + writes);
    }
  }

  void CheckReadYourWrites() {
    std::map<int64_t, DotIndex> by_process;
    for (size_t w : acked_) {
      const Op& o = op(w);
      by_process[o.invoke->process][o.acked_dot().node].push_back({o.acked_dot().counter, w});
    }
    for (auto& [process, index] : by_process) SortIndex(&index);
    for (size_t r : reads_) {
      const Op& read = op(r);
      if (!read.invoke->session) continue;
      auto it = by_process.find(read.invoke->process);
      if (it == by_process.end()) continue;
      std::vector<size_t> missed = MissedWrites(read, it->second, [&](const Op& w) {
        return w.completion_line < read.invoke_line;
      });
      if (missed.empty()) continue;
      std::vector<int> lines = {read.invoke_line, read.completion_line};
      const std::string writes = DescribeMissed(missed, &lines);
      Add(ViolationKind::kReadYourWrites, std::move(lines),
          "session read by process " + std::to_string(read.invoke->process) + " returned context " +
              ReadContextStr(*read.completion) + ", which misses the process's own acknowledged writes: " + writes);
    }
  }

  const HistoryHeader& header_;
  const std::vector<Op>& ops_;
  const std::string key_;
  const std::vector<size_t> mine_;  // this key's ops, in invoke order
  CheckReport* report_;

  std::vector<size_t> writes_, acked_, reads_, finals_;
  std::map<std::string, size_t> put_of_;                         // value → put
  std::map<size_t, std::pair<repl::Dot, int>> dot_of_;           // write → its dot, where seen
  std::map<repl::Dot, std::pair<size_t, int>> owner_;            // dot → write, where seen
  std::set<std::pair<size_t, std::string>> reported_;            // dot violations reported once
  std::map<std::string, TopTwo> context_top_;                    // node → largest sent counters
  TopTwo overwrite_top_;                                         // overwrites by settled time
  DotIndex acked_by_context_;                                    // node → (sent counter, acked write)
};

// Pairs invokes with completions per process; reports what does not pair.
class Pairing {
 public:
  Pairing(const History& history, CheckReport* report) : history_(history), report_(report) {}

  std::vector<Op> Run() {
    const std::vector<HistoryEvent>& events = history_.events;
    for (size_t i = 0; i < events.size(); ++i) {
      const HistoryEvent& e = events[i];
      const int line = e.line > 0 ? e.line : static_cast<int>(i) + 2;
      if (e.type == EventType::kInvoke) {
        Invoke(e, i, line);
      } else {
        Complete(e, line);
      }
    }
    return std::move(ops_);
  }

 private:
  void Add(ViolationKind kind, const std::string& key, std::vector<int> lines, std::string explanation) {
    report_->violations.push_back(Violation{kind, key, std::move(lines), std::move(explanation)});
  }

  void Invoke(const HistoryEvent& e, size_t index, int line) {
    ++report_->counts.ops;
    auto it = outstanding_.find(e.process);
    if (it != outstanding_.end()) {
      const Op& prev = ops_[it->second];
      Add(ViolationKind::kOverlappingOps, e.key, {prev.invoke_line, line},
          "process " + std::to_string(e.process) + " invoked a " + OpKindName(e.op) + " while its " +
              OpKindName(prev.kind()) + " of " + LineStr(prev.invoke_line) +
              " was outstanding (that op is treated as never completed)");
    }
    Op op;
    op.invoke = &e;
    op.invoke_line = line;
    op.invoke_index = index;
    outstanding_[e.process] = ops_.size();
    ops_.push_back(op);
  }

  void Complete(const HistoryEvent& e, int line) {
    auto it = outstanding_.find(e.process);
    if (it == outstanding_.end()) {
      Add(ViolationKind::kUnmatchedCompletion, e.key, {line},
          std::string(EventTypeName(e.type)) + " of a " + OpKindName(e.op) + " by process " +
              std::to_string(e.process) + ", which has no outstanding invoke");
      return;
    }
    Op& op = ops_[it->second];
    if (op.kind() != e.op || op.invoke->key != e.key) {
      Add(ViolationKind::kUnmatchedCompletion, e.key, {op.invoke_line, line},
          std::string(EventTypeName(e.type)) + " of a " + OpKindName(e.op) + " of key " + Quoted(e.key) +
              ", but process " + std::to_string(e.process) + "'s outstanding op (" + LineStr(op.invoke_line) +
              ") is a " + OpKindName(op.kind()) + " of key " + Quoted(op.invoke->key));
      return;
    }
    if (e.time_us < op.invoke_time()) {
      Add(ViolationKind::kTimeOrder, e.key, {op.invoke_line, line},
          "completion at " + std::to_string(e.time_us) + " us is earlier than its invoke at " +
              std::to_string(op.invoke_time()) + " us");
    }
    op.completion = &e;
    op.completion_line = line;
    outstanding_.erase(it);
  }

  const History& history_;
  CheckReport* report_;
  std::vector<Op> ops_;
  std::map<int64_t, size_t> outstanding_;  // process → op
};

void AddNotes(const HistoryHeader& header, CheckReport* report) {
  if (header.n <= 0) {
    report->notes.push_back("the header has no n: stale checks skipped (a strict quorum needs r + w > n)");
  }
  if (header.max_siblings <= 0) {
    report->notes.push_back("the header has no max_siblings: the siblings check skipped");
  }
}

}  // namespace

CheckReport CheckHistory(const History& history) {
  CheckReport report;
  report.header = history.header;
  AddNotes(history.header, &report);
  std::vector<Op> ops = Pairing(history, &report).Run();
  std::map<std::string, std::vector<size_t>> by_key;
  for (size_t i = 0; i < ops.size(); ++i) by_key[ops[i].invoke->key].push_back(i);
  report.counts.keys = by_key.size();
  for (auto& [key, indexes] : by_key) KeyCheck(history, ops, key, std::move(indexes), &report).Run();
  std::stable_sort(report.violations.begin(), report.violations.end(), [](const Violation& a, const Violation& b) {
    const int la = a.lines.empty() ? 0 : a.lines.front();
    const int lb = b.lines.empty() ? 0 : b.lines.front();
    return std::tie(a.kind, la) < std::tie(b.kind, lb);
  });
  return report;
}

// --- Rendering ----------------------------------------------------------------------

namespace {

std::string LinesText(const std::vector<int>& lines) {
  std::string s;
  for (int l : lines) {
    if (!s.empty()) s += ",";
    s += std::to_string(l);
  }
  return s;
}

std::string KindCounts(const CheckReport& report) {
  std::string s;
  for (ViolationKind kind : kAllViolationKinds) {
    const size_t n = report.Count(kind);
    if (n == 0) continue;
    if (!s.empty()) s += ", ";
    s += std::string(ViolationKindName(kind)) + " " + std::to_string(n);
  }
  return s;
}

std::string KeyList(const std::vector<std::string>& keys) {
  std::string s;
  for (size_t i = 0; i < keys.size() && i < 10; ++i) s += (i ? ", " : "") + Quoted(keys[i]);
  if (keys.size() > 10) s += ", ... (" + std::to_string(keys.size() - 10) + " more)";
  return s;
}

JsonValue Num(size_t n) { return JsonValue::Int(static_cast<int64_t>(n)); }

// "1 key", "2 keys".
std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

std::string ReportText(const CheckReport& report) {
  const CheckCounts& c = report.counts;
  std::string s;
  s += Plural(c.ops, "op", "ops") + " on " + Plural(c.keys, "key", "keys") + " (n=" + std::to_string(report.header.n) +
       ", max_siblings=" + std::to_string(report.header.max_siblings) + ")\n";
  s += "  writes: " + std::to_string(c.writes) + " (" + std::to_string(c.writes_acknowledged) + " acknowledged, " +
       std::to_string(c.writes_indeterminate) + " indeterminate)\n";
  s += "  reads: " + std::to_string(c.reads) + " ok (" + std::to_string(c.final_reads) + " final), " +
       std::to_string(c.reads_without_result) + " without a result\n";
  if (!report.violations.empty()) {
    s += "violations: " + std::to_string(report.violations.size()) + " (" + KindCounts(report) + ")\n";
    for (const Violation& v : report.violations) {
      s += "  " + std::string(ViolationKindName(v.kind)) + " key " + Quoted(v.key) + " [lines " +
           LinesText(v.lines) + "]: " + v.explanation + "\n";
    }
  }
  if (c.keys_without_final_reads > 0) {
    s += "warning: " + Plural(c.keys_without_final_reads, "key has", "keys have") + " no final read (" +
         (c.keys_without_final_reads == 1 ? "its" : "their") +
         " writes were not checked for loss): " + KeyList(report.keys_without_final_reads) + "\n";
  }
  if (c.writes_not_checked_for_loss > 0) {
    s += "warning: " + Plural(c.writes_not_checked_for_loss, "acknowledged write has", "acknowledged writes have") +
         " no final read invoked after it (not checked for loss)\n";
  }
  for (const std::string& note : report.notes) s += "note: " + note + "\n";
  s += report.clean() ? std::string("result: clean\n")
                      : "result: " + Plural(report.violations.size(), "violation", "violations") + "\n";
  return s;
}

std::string ReportJson(const CheckReport& report) {
  const CheckCounts& c = report.counts;
  JsonValue obj = JsonValue::EmptyObject();
  obj.Set("clean", JsonValue::Bool(report.clean()));
  JsonValue header = JsonValue::EmptyObject();
  header.Set("n", JsonValue::Int(report.header.n));
  header.Set("max_siblings", JsonValue::Int(report.header.max_siblings));
  header.Set("note", JsonValue::String(report.header.note));
  obj.Set("header", std::move(header));
  JsonValue counts = JsonValue::EmptyObject();
  counts.Set("ops", Num(c.ops));
  counts.Set("writes", Num(c.writes));
  counts.Set("writes_acknowledged", Num(c.writes_acknowledged));
  counts.Set("writes_indeterminate", Num(c.writes_indeterminate));
  counts.Set("reads", Num(c.reads));
  counts.Set("reads_without_result", Num(c.reads_without_result));
  counts.Set("final_reads", Num(c.final_reads));
  counts.Set("keys", Num(c.keys));
  counts.Set("keys_without_final_reads", Num(c.keys_without_final_reads));
  counts.Set("writes_not_checked_for_loss", Num(c.writes_not_checked_for_loss));
  obj.Set("counts", std::move(counts));
  JsonValue by_kind = JsonValue::EmptyObject();
  for (ViolationKind kind : kAllViolationKinds) {
    if (report.Count(kind) > 0) by_kind.Set(ViolationKindName(kind), Num(report.Count(kind)));
  }
  obj.Set("violation_counts", std::move(by_kind));
  JsonValue violations = JsonValue::EmptyArray();
  for (const Violation& v : report.violations) {
    JsonValue item = JsonValue::EmptyObject();
    item.Set("kind", JsonValue::String(ViolationKindName(v.kind)));
    item.Set("key", JsonValue::String(v.key));
    JsonValue lines = JsonValue::EmptyArray();
    for (int l : v.lines) lines.Append(JsonValue::Int(l));
    item.Set("lines", std::move(lines));
    item.Set("explanation", JsonValue::String(v.explanation));
    violations.Append(std::move(item));
  }
  obj.Set("violations", std::move(violations));
  JsonValue keys = JsonValue::EmptyArray();
  for (const std::string& k : report.keys_without_final_reads) keys.Append(JsonValue::String(k));
  obj.Set("keys_without_final_reads", std::move(keys));
  JsonValue notes = JsonValue::EmptyArray();
  for (const std::string& n : report.notes) notes.Append(JsonValue::String(n));
  obj.Set("notes", std::move(notes));
  return JsonText(obj) + "\n";
}

}  // namespace kvring::test
