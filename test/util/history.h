// test/util/history.h — histories of client operations against a kvring cluster:
// the events, a writer that records them as JSON lines, and a reader. The format,
// with a worked example, is docs/history.md; test/util/history_checker.h checks a
// history for consistency violations (and build/kvcheck does from the shell).
//
// A harness records each operation as an invoke before it sends the request and a
// completion (ok, fail or info) after the reply, through a handle:
//
//   auto writer = test::HistoryWriter::Create(path, {.n = 3, .max_siblings = 64});
//   ASSERT_TRUE(writer.ok()) << writer.status().ToString();
//   test::PendingWrite put = (*writer)->InvokePut(/*process=*/1, "k", "v1", ctx,
//                                                  {.w = 2, .strict = true});
//   ... send the put ...
//   if (ok)       (*writer)->Ok(std::move(put), dot, acks);
//   else          (*writer)->Info(std::move(put), status.ToString());   // or Fail
//   test::PendingRead get = (*writer)->InvokeGet(2, "k", {.r = 2, .strict = true});
//   (*writer)->Ok(std::move(get), values, context);
//   ASSERT_TRUE((*writer)->Close().ok());
//
// What makes it hard to misuse: the writer stamps every event's time itself (one
// clock for every process, never going backwards), a write's completion needs a
// PendingWrite and a read's a PendingRead, a handle completes once (it is consumed),
// a handle dropped without a completion records an `info` ("abandoned"), and any
// misuse (a second invoke while the process has one outstanding, a completed or
// foreign handle, a malformed dot) makes status() non-OK. A second invoke is still
// recorded, so the history tells the truth and the checker reports it.
//
// Thread safety: HistoryWriter is thread-safe (one mutex; each event is stamped,
// numbered and written as one line under it, and flushed to the OS). A pending
// handle is a value for one thread at a time; it may outlive its writer (after
// Close its completion or abandonment is dropped). ReadHistory and ParseHistory
// are pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/status.h"
#include "repl/version_vector.h"

namespace kvring::test {

// The format version this code writes and reads (the header's "version").
constexpr int kHistoryVersion = 1;

// A context as a history records it: node → counter ("what the writer or reader
// had seen"). An absent node means counter 0.
using HistoryContext = std::map<std::string, uint64_t>;

// True when the write event `dot` is part of `context` (context[dot.node] >= counter).
bool Covers(const HistoryContext& context, const repl::Dot& dot);
// A version vector's counters as a history context (entry times dropped).
HistoryContext ContextOf(const repl::VersionVector& vv);
// {"n1":3,"n2":1}
std::string ContextText(const HistoryContext& context);

// A client context (repl/client_context.h, sealed with repl::ContextKey::Default():
// a cluster named "kvring" without a secret) as a history records it; nullopt
// when empty (none sent or returned) or not decodable (the node refuses it: it
// supersedes nothing).
std::optional<HistoryContext> HistoryContextOfClientContext(std::string_view key, std::string_view context);

enum class EventType { kInvoke, kOk, kFail, kInfo };
enum class OpKind { kPut, kDelete, kGet };
const char* EventTypeName(EventType type);  // "invoke", "ok", "fail", "info"
const char* OpKindName(OpKind op);          // "put", "delete", "get"

// An R or W as a request gave it: a number, or one/quorum/all. Unset when the
// history does not say (then the checker cannot claim a strict quorum).
class ConsistencyLevel {
 public:
  enum class Kind { kUnset, kNumber, kOne, kQuorum, kAll };

  ConsistencyLevel() = default;
  ConsistencyLevel(int number) : kind_(Kind::kNumber), number_(number) {}  // NOLINT: {.w = 2}
  static ConsistencyLevel One() { return ConsistencyLevel(Kind::kOne); }
  static ConsistencyLevel Quorum() { return ConsistencyLevel(Kind::kQuorum); }
  static ConsistencyLevel All() { return ConsistencyLevel(Kind::kAll); }

  Kind kind() const { return kind_; }
  bool unset() const { return kind_ == Kind::kUnset; }
  int number() const { return number_; }
  // How many replicas it stands for with n replicas: one → 1, quorum → n/2+1,
  // all → n; nullopt when unset, or named and n is unknown (0).
  std::optional<int> Resolve(int n) const;
  // "2", "one", "quorum", "all", "unset".
  std::string ToString() const;

  friend bool operator==(const ConsistencyLevel&, const ConsistencyLevel&) = default;

 private:
  explicit ConsistencyLevel(Kind kind) : kind_(kind) {}
  Kind kind_ = Kind::kUnset;
  int number_ = 0;
};

// A request's R or W byte (net/protocol.h: a number, kConsistencyQuorum or
// kConsistencyAll) as a history records it.
ConsistencyLevel LevelOfConsistencyByte(uint8_t level);
// A timed-out or cut-off request (TimedOut, Aborted, Unavailable) has an unknown
// outcome (record it as `info`); any other error is a `fail`.
bool IndeterminateOutcome(const base::Status& status);

// The first line of a history file.
struct HistoryHeader {
  int version = kHistoryVersion;
  int n = 0;             // replicas per key; 0 = unknown (no stale checks)
  int max_siblings = 0;  // the store's sibling cap; 0 = unknown (no siblings check)
  std::string note;      // free text: what produced the history

  friend bool operator==(const HistoryHeader&, const HistoryHeader&) = default;
};

// One value of a get's reply, with the dot of the write that created it.
struct ReadValue {
  std::string value;
  repl::Dot dot;

  friend bool operator==(const ReadValue&, const ReadValue&) = default;
};

// One line of a history after the header. Which fields mean something depends on
// type and op (docs/history.md); the others keep their defaults.
struct HistoryEvent {
  EventType type = EventType::kInvoke;
  int64_t process = 0;
  OpKind op = OpKind::kGet;
  std::string key;
  uint64_t time_us = 0;
  int line = 0;  // 1-based line in the file (the header is line 1); 0 = not numbered

  // invoke of put: the value written.
  std::string value;
  // invoke of put/delete: the context sent (nullopt = none). ok of get: the
  // context returned (nullopt = none returned, as for kvring's not-found).
  std::optional<HistoryContext> context;
  // invoke of put/delete.
  bool overwrite = false;
  ConsistencyLevel w;
  // invoke of get.
  ConsistencyLevel r;
  bool final_read = false;  // "final": made after quiescence
  // every invoke.
  bool strict = false;
  bool session = false;
  // ok of put/delete.
  repl::Dot dot;
  std::vector<std::string> acks;
  // ok of get (empty = not found).
  std::vector<ReadValue> values;
  // fail/info.
  std::string error;

  bool is_write() const { return op != OpKind::kGet; }

  friend bool operator==(const HistoryEvent&, const HistoryEvent&) = default;
};

struct History {
  HistoryHeader header;
  std::vector<HistoryEvent> events;  // in file order
};

// The JSON line (no newline) of a header or an event, as docs/history.md shows.
std::string HeaderJson(const HistoryHeader& header);
std::string EventJson(const HistoryEvent& event);

// Parses a whole history file's contents: a header line, then one event per line
// (a final newline is optional; empty lines are errors). Events get their line
// numbers. InvalidArgument "line N: what is wrong" on a malformed line: bad JSON, a
// missing or mistyped field, an unknown type or op, a bad dot or context. Unknown
// fields are ignored. Pairing and consistency are the checker's business.
[[nodiscard]] base::Result<History> ParseHistory(std::string_view text);
// ParseHistory of a file ("PATH: line N: ..." on errors; IOError when unreadable).
[[nodiscard]] base::Result<History> ReadHistory(const std::string& path, base::Env* env = base::Env::Default());

// --- Recording a history ----------------------------------------------------------

// How a put or delete was sent.
struct WriteParams {
  // The store may replace whatever its coordinating replica holds, whatever the
  // context (kvring's put or delete without a context is such a blind write:
  // record it with overwrite = true).
  bool overwrite = false;
  ConsistencyLevel w;
  bool strict = false;   // a strict quorum: no sloppy stand-ins
  bool session = false;
};

// How a get was sent.
struct ReadParams {
  ConsistencyLevel r;
  bool strict = false;
  bool session = false;     // the reader expects to see its own acknowledged writes
  bool final_read = false;  // after quiescence: faults healed, everything replicated
};

class HistoryWriter;
struct HistoryWriterState;

// An invoked operation waiting for its completion. Move-only; completing it (Ok,
// Fail, Info on the writer) consumes it. Destroyed while still pending, it
// records an `info` completion with error "abandoned: ...".
class PendingOp {
 public:
  PendingOp() = default;  // not pending
  PendingOp(PendingOp&& other) noexcept;
  PendingOp& operator=(PendingOp&& other) noexcept;
  PendingOp(const PendingOp&) = delete;
  PendingOp& operator=(const PendingOp&) = delete;
  ~PendingOp();

  bool pending() const { return state_ != nullptr; }
  int64_t process() const { return process_; }
  OpKind op() const { return op_; }
  const std::string& key() const { return key_; }
  int invoke_line() const { return invoke_line_; }

 protected:
  PendingOp(std::shared_ptr<HistoryWriterState> state, int64_t process, OpKind op, std::string key,
            int invoke_line);

 private:
  friend class HistoryWriter;
  void Abandon();

  std::shared_ptr<HistoryWriterState> state_;  // null when not pending
  int64_t process_ = 0;
  OpKind op_ = OpKind::kGet;
  std::string key_;
  int invoke_line_ = 0;
};

// A put or delete waiting for its completion.
class [[nodiscard]] PendingWrite final : public PendingOp {
 public:
  PendingWrite() = default;

 private:
  friend class HistoryWriter;
  using PendingOp::PendingOp;
};

// A get waiting for its completion.
class [[nodiscard]] PendingRead final : public PendingOp {
 public:
  PendingRead() = default;

 private:
  friend class HistoryWriter;
  using PendingOp::PendingOp;
};

class HistoryWriter {
 public:
  // Creates (or truncates) `path` and writes the header line. Times come from
  // clock->NowMicros() (a ManualClock for a simulator).
  [[nodiscard]] static base::Result<std::unique_ptr<HistoryWriter>> Create(
      const std::string& path, const HistoryHeader& header, const base::Clock* clock = base::SystemClock::Get(),
      base::Env* env = base::Env::Default());
  // A writer that keeps the history in memory only (Snapshot()).
  static std::unique_ptr<HistoryWriter> InMemory(const HistoryHeader& header,
                                                 const base::Clock* clock = base::SystemClock::Get());
  ~HistoryWriter();  // Close()
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  PendingWrite InvokePut(int64_t process, std::string_view key, std::string_view value,
                         const std::optional<HistoryContext>& context, const WriteParams& params);
  PendingWrite InvokeDelete(int64_t process, std::string_view key, const std::optional<HistoryContext>& context,
                            const WriteParams& params);
  PendingRead InvokeGet(int64_t process, std::string_view key, const ReadParams& params);

  // The write was acknowledged and named `dot` (node:counter; node non-empty,
  // without ':'; counter >= 1); acks = the replicas that acknowledged.
  void Ok(PendingWrite&& op, const repl::Dot& dot, const std::vector<std::string>& acks = {});
  // The get answered: its live values (empty = not found) and its context
  // (nullopt when the reply carried none).
  void Ok(PendingRead&& op, const std::vector<ReadValue>& values, const std::optional<HistoryContext>& context);
  // Failed. For a write this is indeterminate (it may still have been applied);
  // for a get it means no result.
  void Fail(PendingOp&& op, std::string_view error);
  // Unknown outcome (a timeout, a lost connection).
  void Info(PendingOp&& op, std::string_view error);

  // OK, or the first error: an I/O failure or a misuse (see the file comment).
  base::Status status() const;
  // Every line recorded so far (both kinds of writer keep them).
  History Snapshot() const;
  // Stops recording (later events are dropped) and closes the file; returns status().
  base::Status Close();

 private:
  explicit HistoryWriter(std::shared_ptr<HistoryWriterState> state) : state_(std::move(state)) {}
  // Takes the handle's identity and marks it completed; false (and an error)
  // when it is not a pending handle of this writer.
  bool Consume(PendingOp* op, const char* what, HistoryEvent* event);

  std::shared_ptr<HistoryWriterState> state_;
};

}  // namespace kvring::test
