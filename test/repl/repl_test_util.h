// test/repl/repl_test_util.h — small helpers for the versioning tests: vectors and
// dots from their text forms, and sets built by a few replicas' writes; the
// golden-byte tests' check that a decoder refuses every cut and an extra byte;
// the set of docs/protocol.md's examples; and an executor the test's thread
// drains, like an event loop.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "repl/sibling_set.h"
#include "repl/transport.h"
#include "repl/version_text.h"
#include "repl/version_vector.h"

namespace kvring::repl::testing {

// "[n1:2 n2:5]" → a vector (entry times 0). Aborts the test on a typo.
inline VersionVector VV(std::string_view text) {
  base::Result<VersionVector> vv = ParseVersionVectorText(text);
  EXPECT_TRUE(vv.ok()) << vv.status().ToString();
  return vv.ok() ? *vv : VersionVector();
}

inline Dot D(std::string_view text) {
  base::Result<Dot> dot = ParseDotText(text);
  EXPECT_TRUE(dot.ok()) << dot.status().ToString();
  return dot.ok() ? *dot : Dot();
}

// `decode` accepts the pinned bytes and answers Corruption for every truncation
// of them and for them with a trailing byte.
inline void ExpectCorruptWhenCutOrExtended(const std::string& bytes,
                                           const std::function<base::Status(std::string_view)>& decode) {
  base::Status whole = decode(bytes);
  EXPECT_TRUE(whole.ok()) << "the pinned bytes must decode: " << whole.ToString();
  for (size_t n = 0; n < bytes.size(); ++n) {
    base::Status s = decode(std::string_view(bytes).substr(0, n));
    EXPECT_TRUE(s.IsCorruption()) << "truncated to " << n << " bytes: " << s.ToString();
  }
  base::Status extended = decode(bytes + std::string(1, '\0'));
  EXPECT_TRUE(extended.IsCorruption()) << "with a trailing byte: " << extended.ToString();
}

// A wall time well past 1970 so entry ages are meaningful (2023-11-14 22:13:20
// UTC, the write time of docs/protocol.md's examples).
constexpr uint64_t kT0 = 1'700'000'000'000'000ull;

// Key `apple` as n1 stores it after `put apple red` from nothing at kT0: the set
// of docs/protocol.md's examples (messages_test.cc, aae_messages_test.cc).
inline SiblingSet RedSet() {
  SiblingSet set;
  base::Result<WriteOutcome> out = set.Put("n1", VersionVector(), "red", kT0, VersioningOptions());
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return set;
}
// Its stored value (docs/formats/value.md), 27 bytes.
constexpr char kRedSet[] = "01 01 02 6e 31 01 80 e2 cf aa 06 01 00 00 00 00 40 1e 18 24 0a 06 00 03 72 65 64";

// The live values of a set, in dot order, as one string "a,b".
inline std::string Values(const SiblingSet& set) {
  std::string out;
  for (const Sibling* s : set.LiveSiblings()) {
    if (!out.empty()) out += ",";
    out += s->value;
  }
  return out;
}

// The dots of a set's siblings, "n1:1 n2:3".
inline std::string Dots(const SiblingSet& set) {
  std::string out;
  for (const Sibling& s : set.siblings()) {
    if (!out.empty()) out += " ";
    out += DotText(s.dot);
  }
  return out;
}

// Put that must succeed.
inline Dot MustPut(SiblingSet* set, std::string_view actor, const VersionVector& context,
                   std::string_view value, uint64_t now = kT0, const VersioningOptions& options = {}) {
  base::Result<WriteOutcome> r = set->Put(actor, context, value, now, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->dot : Dot();
}

// A blind put: the coordinator passes its own history as the context.
inline Dot BlindPut(SiblingSet* set, std::string_view actor, std::string_view value, uint64_t now = kT0) {
  const VersionVector context = set->history();
  return MustPut(set, actor, context, value, now);
}

// Runs posted work on the thread that drains it, like an event loop.
class QueueExecutor final : public Executor {
 public:
  void Post(std::function<void()> fn) override {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(fn));
    cv_.notify_all();
  }
  // Runs posted work until pred() holds; false after 20 s without it.
  bool RunUntil(const std::function<bool()>& pred) {
    while (!pred()) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> l(mu_);
        if (!cv_.wait_for(l, std::chrono::seconds(20), [this] { return !queue_.empty(); })) return false;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
    return true;
  }
  // Runs what is queued now, without waiting.
  void RunQueued() {
    std::deque<std::function<void()>> batch;
    {
      std::lock_guard<std::mutex> l(mu_);
      batch.swap(queue_);
    }
    for (auto& fn : batch) fn();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace kvring::repl::testing
