// Property tests on random histories: clients get and put (with a fresh or stale
// context from a get or a put's receipt, with no context, or in overwrite mode)
// through random coordinators, replicas replicate and read-repair each other at
// random, and the versioning rules must hold throughout:
//   - a write that is not an overwrite removes, at its coordinator, exactly the
//     siblings its context covers (none without a context);
//   - no write is lost without a descendant: every acknowledged write is still a
//     sibling, or some write whose context covered it superseded it;
//   - no obsolete sibling survives: without pruning, each replica holds exactly
//     the writes it has seen that no write it has seen superseded;
//   - merge is commutative, associative and idempotent on real replica states;
//   - every state survives the stored value format unchanged.
// With aggressive pruning only the first property is promised (pruning may bring
// back an old version as a false conflict).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/random.h"
#include "repl/reconcile.h"
#include "repl/sibling_set.h"
#include "repl/value_format.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using testing::kT0;

struct WriteRecord {
  Dot dot;
  VersionVector context;  // as the coordinator used it (an overwrite's: the client's plus the history)
  bool tombstone = false;
  std::string value;
};

// How a client writes (docs/versioning.md).
enum class WriteMode { kContext, kNoContext, kOverwrite };

struct SimConfig {
  int replicas = 3;
  int clients = 4;
  int steps = 150;
  bool prune = false;
};

class Simulation {
 public:
  Simulation(uint64_t seed, const SimConfig& config) : rnd_(seed), config_(config) {
    for (int i = 0; i < config.replicas; ++i) nodes_.push_back("n" + std::to_string(i + 1));
    replicas_.resize(nodes_.size());
    client_context_.resize(static_cast<size_t>(config.clients));
    if (config.prune) {
      options_.prune = PruneOptions{.max_entries = 2, .min_age_micros = 1'000'000};
    }
    options_.max_siblings = 8;  // small, so the cap is hit now and then
    options_.warn_siblings = 4;
  }

  void Run() {
    for (int step = 0; step < config_.steps; ++step) {
      now_ += rnd_.Uniform(2'000'000);
      const uint64_t op = rnd_.Uniform(100);
      if (op < 25) {
        ClientGet();
      } else if (op < 65) {
        ClientWrite();
      } else if (op < 90) {
        Replicate();
      } else {
        ReadRepair();
      }
      if (::testing::Test::HasFatalFailure()) return;
      if (rnd_.OneIn(10)) CheckMergeLaws();
      if (rnd_.OneIn(10)) CheckFormatRoundTrip(replicas_[rnd_.Uniform(replicas_.size())]);
      if (rnd_.OneIn(20)) {
        for (const SiblingSet& r : replicas_) {
          CheckNoWriteLost(r, /*seen_only=*/true);
          if (!config_.prune) CheckExactlyTheUnsupersededWrites(r);
        }
      }
    }
  }

  // Merges every replica (the state after full anti-entropy) and checks it.
  void CheckFinal() {
    SiblingSet all;
    for (const SiblingSet& r : replicas_) all.MergeFrom(r);
    ASSERT_TRUE(all.CheckInvariants().ok()) << all.CheckInvariants().ToString();
    CheckNoWriteLost(all);
    if (!config_.prune) CheckExactlyTheUnsupersededWrites(all);
    for (const Sibling& s : all.siblings()) {
      for (const WriteRecord& w : writes_) {
        if (w.dot == s.dot && Superseded(w, nullptr)) ++false_conflicts_;
      }
    }
    CheckFormatRoundTrip(all);
  }

  size_t acked() const { return writes_.size(); }
  size_t rejected() const { return rejected_; }
  size_t pruned() const { return pruned_; }
  // Superseded writes still siblings after the final merge (pruning's cost).
  size_t false_conflicts() const { return false_conflicts_; }

 private:
  size_t PickReplica() { return rnd_.Uniform(replicas_.size()); }

  void ClientGet() {
    const size_t r = PickReplica();
    client_context_[rnd_.Uniform(client_context_.size())] = replicas_[r].history();
  }

  WriteMode PickMode() {
    const uint64_t x = rnd_.Uniform(8);
    return x == 0 ? WriteMode::kOverwrite : x == 1 ? WriteMode::kNoContext : WriteMode::kContext;
  }

  // The context the coordinator applies: the client's (possibly stale) one from
  // its last get or receipt; nothing; or, to overwrite, that plus everything the
  // coordinator holds (what ReplicaStore::Coordinate does).
  VersionVector EffectiveContext(WriteMode mode, size_t c, const SiblingSet& set) const {
    if (mode == WriteMode::kNoContext) return {};
    VersionVector context = client_context_[c];
    if (mode == WriteMode::kOverwrite) context.Merge(set.history());
    return context;
  }

  // A write that is not an overwrite removed exactly the siblings its context
  // covers: every sibling it did not cover is still there.
  static void CheckRemovedOnlyWhatTheContextCovered(const SiblingSet& before, const SiblingSet& after,
                                                    const VersionVector& context) {
    for (const Sibling& s : before.siblings()) {
      const bool kept = FindDot(after, s.dot) != nullptr;
      EXPECT_EQ(!context.Covers(s.dot), kept) << DotText(s.dot) << " under context " << VersionVectorText(context);
    }
  }

  void ClientWrite() {
    const size_t r = PickReplica();
    const size_t c = rnd_.Uniform(client_context_.size());
    SiblingSet& set = replicas_[r];
    const WriteMode mode = PickMode();
    const VersionVector context = EffectiveContext(mode, c, set);
    const SiblingSet before = set;
    const bool tombstone = rnd_.OneIn(8);
    const std::string value = tombstone ? "" : "w" + std::to_string(next_value_++);
    base::Result<WriteOutcome> out = tombstone ? set.Delete(nodes_[r], context, now_, options_)
                                               : set.Put(nodes_[r], context, value, now_, options_);
    if (!out.ok()) {
      ASSERT_TRUE(out.status().IsTooLarge()) << out.status().ToString();
      ++rejected_;
      return;
    }
    EXPECT_LE(out->siblings, options_.max_siblings);
    EXPECT_EQ(out->siblings >= options_.warn_siblings, out->over_warning);
    for (const WriteRecord& w : writes_) ASSERT_NE(w.dot, out->dot) << "dot minted twice";
    writes_.push_back(WriteRecord{out->dot, context, tombstone, value});
    CheckReplica(r);
    if (mode != WriteMode::kOverwrite) CheckRemovedOnlyWhatTheContextCovered(before, set, context);
    if (rnd_.OneIn(2)) {
      // The receipt's context: what the write's context covered, plus its own
      // dot when that follows on (repl/coordinator.cc, DescribeNewVersion).
      VersionVector receipt = context;
      if (context.Get(out->dot.node) + 1 == out->dot.counter) {
        receipt.Witness(out->dot.node, out->dot.counter, WallSeconds(now_));
      }
      client_context_[c] = receipt;
    }
    // W > 1: the coordinator sends the result to some other replicas right away.
    for (size_t other = 0; other < replicas_.size(); ++other) {
      if (other != r && rnd_.OneIn(2)) StoreMerge(other, set);
    }
  }

  void Replicate() {
    const size_t from = PickReplica();
    const size_t to = PickReplica();
    StoreMerge(to, SiblingSet(replicas_[from]));
  }

  void ReadRepair() {
    std::vector<size_t> asked;
    std::vector<const SiblingSet*> replies;
    for (size_t r = 0; r < replicas_.size(); ++r) {
      if (rnd_.OneIn(3)) continue;  // did not answer in time
      asked.push_back(r);
      replies.push_back(replicas_[r].empty() && rnd_.OneIn(2) ? nullptr : &replicas_[r]);
    }
    const Reconciliation rec = Reconcile(replies);
    ASSERT_EQ(replies.size(), rec.needs_repair.size());
    for (size_t i = 0; i < asked.size(); ++i) {
      if (!rec.needs_repair[i]) {
        // Nothing to send: the replica already holds everything the merge has.
        EXPECT_EQ(replicas_[asked[i]], SiblingSet::Merge(replicas_[asked[i]], rec.merged));
        continue;
      }
      StoreMerge(asked[i], rec.merged);
      if (!config_.prune) {
        EXPECT_EQ(rec.merged, replicas_[asked[i]]);
        EXPECT_FALSE(NeedsRepair(&replicas_[asked[i]], rec.merged));
      }
    }
  }

  // What a replica does when a set arrives: merge, prune, store.
  void StoreMerge(size_t r, const SiblingSet& incoming) {
    replicas_[r].MergeFrom(incoming);
    pruned_ += replicas_[r].Prune(options_.prune, now_, nodes_[r]).size();
    CheckReplica(r);
  }

  void CheckReplica(size_t r) {
    base::Status s = replicas_[r].CheckInvariants();
    ASSERT_TRUE(s.ok()) << nodes_[r] << ": " << s.ToString();
    CheckPruned(r);
  }

  // After a write or a stored merge the history is within the size threshold, or
  // every entry left over it is protected: the replica itself, a sibling's dot
  // node, or younger than the age threshold.
  void CheckPruned(size_t r) const {
    const SiblingSet& set = replicas_[r];
    if (set.history().size() <= options_.prune.max_entries) return;
    for (const VersionVector::Entry& e : set.history().entries()) {
      const bool young = (WallSeconds(now_) - e.updated_secs) * 1'000'000 < options_.prune.min_age_micros;
      const bool dot_node = std::any_of(set.siblings().begin(), set.siblings().end(),
                                        [&e](const Sibling& s) { return s.dot.node == e.node; });
      EXPECT_TRUE(young || dot_node || e.node == nodes_[r])
          << nodes_[r] << " kept " << e.node << " in " << VersionVectorText(set.history());
    }
  }

  bool Superseded(const WriteRecord& w, const VersionVector* seen_by) const {
    for (const WriteRecord& other : writes_) {
      if (other.dot != w.dot && other.context.Covers(w.dot) &&
          (seen_by == nullptr || seen_by->Covers(other.dot))) {
        return true;
      }
    }
    return false;
  }

  static const Sibling* FindDot(const SiblingSet& set, const Dot& dot) {
    for (const Sibling& s : set.siblings()) {
      if (s.dot == dot) return &s;
    }
    return nullptr;
  }

  // Every write (or, with seen_only, every write `set` has seen) is a sibling of
  // `set` with its value, or was superseded by another write.
  void CheckNoWriteLost(const SiblingSet& set, bool seen_only = false) const {
    for (const WriteRecord& w : writes_) {
      if (seen_only && !set.history().Covers(w.dot)) continue;
      const Sibling* s = FindDot(set, w.dot);
      if (s != nullptr) {
        EXPECT_EQ(w.value, s->value) << DotText(w.dot);
        EXPECT_EQ(w.tombstone, s->tombstone) << DotText(w.dot);
        continue;
      }
      EXPECT_TRUE(Superseded(w, nullptr)) << "write " << DotText(w.dot) << " (" << w.value
                                          << ") lost without a descendant";
    }
  }

  // Without pruning a replica holds exactly the writes it has seen (its history
  // covers them) that no write it has seen superseded.
  void CheckExactlyTheUnsupersededWrites(const SiblingSet& set) const {
    std::vector<Dot> want;
    for (const WriteRecord& w : writes_) {
      if (set.history().Covers(w.dot) && !Superseded(w, &set.history())) want.push_back(w.dot);
    }
    std::sort(want.begin(), want.end());
    std::vector<Dot> have;
    for (const Sibling& s : set.siblings()) have.push_back(s.dot);
    EXPECT_EQ(want.size(), have.size());
    for (size_t i = 0; i < std::min(want.size(), have.size()); ++i) EXPECT_EQ(want[i], have[i]);
  }

  void CheckMergeLaws() {
    const SiblingSet& a = replicas_[PickReplica()];
    const SiblingSet& b = replicas_[PickReplica()];
    const SiblingSet& c = replicas_[PickReplica()];
    using S = SiblingSet;
    EXPECT_EQ(S::Merge(a, b), S::Merge(b, a));
    EXPECT_EQ(S::Merge(S::Merge(a, b), c), S::Merge(a, S::Merge(b, c)));
    EXPECT_EQ(a, S::Merge(a, a));
    EXPECT_EQ(a, S::Merge(a, SiblingSet()));
  }

  static void CheckFormatRoundTrip(const SiblingSet& set) {
    base::Result<SiblingSet> back = DecodeSiblingSet(EncodeSiblingSet(set));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(set, *back);
  }

  base::Random rnd_;
  SimConfig config_;
  VersioningOptions options_;
  std::vector<std::string> nodes_;
  std::vector<SiblingSet> replicas_;
  std::vector<VersionVector> client_context_;
  std::vector<WriteRecord> writes_;
  uint64_t now_ = kT0;
  uint64_t next_value_ = 0;
  size_t rejected_ = 0;
  size_t pruned_ = 0;
  size_t false_conflicts_ = 0;
};

struct HistoryTotals {
  size_t acked = 0, rejected = 0, pruned = 0, false_conflicts = 0;
};

HistoryTotals RunHistories(const char* name, const SimConfig& config, int runs) {
  const uint64_t seed = test::TestSeed(name);
  base::Random seeds(seed);
  HistoryTotals t;
  for (int run = 0; run < runs; ++run) {
    const uint64_t run_seed = seeds.Next64();
    SCOPED_TRACE("KV_SEED=" + std::to_string(seed) + " run " + std::to_string(run));
    Simulation sim(run_seed, config);
    sim.Run();
    if (::testing::Test::HasFailure()) return t;
    sim.CheckFinal();
    if (::testing::Test::HasFailure()) return t;
    t.acked += sim.acked();
    t.rejected += sim.rejected();
    t.pruned += sim.pruned();
    t.false_conflicts += sim.false_conflicts();
  }
  std::fprintf(stderr,
               "%s: %d histories, %zu acknowledged writes, %zu rejected at the cap, %zu entries pruned, "
               "%zu false conflicts\n",
               name, runs, t.acked, t.rejected, t.pruned, t.false_conflicts);
  EXPECT_GT(t.acked, 0u);
  return t;
}

TEST(SiblingHistory, NoWriteIsLostAndNoObsoleteSiblingSurvives) {
  const HistoryTotals t = RunHistories("SiblingHistory.NoWriteIsLostAndNoObsoleteSiblingSurvives", SimConfig{}, 300);
  EXPECT_EQ(0u, t.false_conflicts);
}

TEST(SiblingHistory, ManyReplicasAndClientsKeepEveryConcurrentWrite) {
  const HistoryTotals t = RunHistories("SiblingHistory.ManyReplicasAndClientsKeepEveryConcurrentWrite",
                                       SimConfig{.replicas = 5, .clients = 8, .steps = 200}, 60);
  EXPECT_EQ(0u, t.false_conflicts);
  EXPECT_GT(t.rejected, 0u) << "the sibling cap was never reached";
}

TEST(SiblingHistory, PruningNeverLosesAWrite) {
  const HistoryTotals t = RunHistories("SiblingHistory.PruningNeverLosesAWrite",
                                       SimConfig{.replicas = 5, .clients = 6, .steps = 200, .prune = true}, 100);
  EXPECT_GT(t.pruned, 0u) << "the test never pruned anything";
  EXPECT_GT(t.false_conflicts, 0u) << "pruning never cost anything: is the test exercising it?";
  EXPECT_GT(t.rejected, 0u) << "the sibling cap was never reached";
}

}  // namespace
}  // namespace kvring::repl
