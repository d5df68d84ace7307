// No acknowledged write is lost silently (docs/versioning.md), in a 3-node
// cluster (N=3, R=W=QUORUM) of real kvnode processes:
//   - clients that race to create a key from "not found" all keep their values
//     (the not-found context covers nothing, so each put supersedes nothing);
//   - racing puts, deletes and re-creations through every coordinator, with and
//     without contexts, across a kill -9 and restart, lose exactly what a write's
//     context covered and nothing else;
//   - a node that lost its newest writes (its data directory put back as it was
//     before them) never mints their dots again (Riak's KV679);
//   - writers that never send contexts pile up siblings only to the cap, then get
//     a clear error and a counter;
//   - a context a client made up, damaged or took from another key is refused
//     and changes nothing: the key stays writable.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "base/crypto.h"
#include "base/random.h"
#include "repl/client_context.h"
#include "repl/version_text.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

repl::VersionVector ContextOf(const std::string& key, const std::string& bytes) {
  if (bytes.empty()) return {};
  auto decoded = repl::DecodeClientContext(repl::ContextKey::Default(), key, bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() ? decoded.value() : repl::VersionVector();
}

TEST(ClusterNoLossTest, RacingCreationsFromNotFoundThroughThreeCoordinatorsLoseNothing) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  constexpr int kKeys = 30;
  std::barrier sync(3);
  std::vector<std::string> errors(3);
  std::atomic<int> acked{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      KvClient client(cluster.node(static_cast<size_t>(t)).address());
      for (int k = 0; k < kKeys; ++k) {
        const std::string key = Key("fresh", k);
        auto seen = client.Read(key);  // not found: its context says "I saw nothing"
        if (!seen.ok() || seen->found) errors[t] += key + ": read " + (seen.ok() ? "found a value" : seen.status().ToString()) + "\n";
        sync.arrive_and_wait();  // all three put at about the same time
        auto put = client.Put(key, "c" + std::to_string(t + 1), kTwo, seen.ok() ? seen->context : "");
        if (put.ok()) {
          acked++;
        } else {
          errors[t] += key + ": " + put.status().ToString() + "\n";
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  for (const auto& e : errors) ASSERT_EQ("", e);
  ASSERT_EQ(3 * kKeys, acked.load());
  int lost = 0;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = Key("fresh", k);
    auto all = cluster.client(static_cast<size_t>(k) % 3).Get(key, kAll);
    KV_ASSERT_OK(all);
    const std::vector<std::string> expected = {"c1", "c2", "c3"}, values = all->values();
    for (const auto& v : expected) lost += std::count(values.begin(), values.end(), v) == 0;
    EXPECT_EQ(expected, values) << key;
    // One put with that read's context resolves the three.
    KV_ASSERT_OK(cluster.client(0).Put(key, "merged", kTwo, all->context));
    auto after = cluster.client(1).Get(key, kAll);
    KV_ASSERT_OK(after);
    EXPECT_EQ(std::vector<std::string>{"merged"}, after->values()) << key;
  }
  EXPECT_EQ(0, lost) << lost << " of " << 3 * kKeys << " acknowledged values lost";
}

// One write a client attempted, with the context it sent.
struct Attempt {
  std::string key;
  std::string value;  // "" for a delete
  repl::VersionVector sent;
  bool acked = false;
  repl::Dot dot;  // when acked
};

// The no-loss rule over a history of attempts and one final read per key that
// merged every replica (R=ALL after the cluster healed):
//   - an acknowledged put is a final sibling, or some attempted write (acked or
//     not: a failed write may have been applied) sent a context covering its dot;
//   - the final context covers every acknowledged write (it is reflected);
//   - no final sibling is covered by an acknowledged write's context (nothing
//     superseded comes back) and every final sibling is an attempted put;
//   - no two acknowledged writes share a dot.
std::string CheckHistory(const std::vector<Attempt>& attempts, const std::map<std::string, ReadResult>& finals) {
  std::string problems;
  std::map<std::string, std::string> dots;  // dot text -> value
  for (const Attempt& a : attempts) {
    if (!a.acked) continue;
    const std::string dot = repl::DotText(a.dot);
    if (!dots.emplace(a.key + "/" + dot, a.value).second) problems += "dot " + dot + " of " + a.key + " minted twice\n";
  }
  for (const Attempt& w : attempts) {
    if (!w.acked) continue;
    const ReadResult& final = finals.at(w.key);
    if (!ContextOf(w.key, final.context).Covers(w.dot)) problems += w.key + ": final context misses " + repl::DotText(w.dot) + "\n";
    if (w.value.empty()) continue;
    bool present = false;
    for (const auto& s : final.siblings) present |= s.dot == w.dot && s.value == w.value;
    bool covered = false;
    for (const Attempt& o : attempts) covered |= o.key == w.key && o.sent.Covers(w.dot);
    if (!present && !covered) problems += w.key + ": acknowledged " + w.value + " (" + repl::DotText(w.dot) + ") lost\n";
  }
  for (const auto& [key, final] : finals) {
    for (const auto& s : final.siblings) {
      bool made = false, superseded = false;
      for (const Attempt& a : attempts) {
        made |= a.key == key && a.value == s.value;
        superseded |= a.key == key && a.acked && a.sent.Covers(s.dot);
      }
      if (!made) problems += key + ": phantom value " + s.value + "\n";
      if (superseded) problems += key + ": superseded value " + s.value + " came back\n";
    }
  }
  return problems;
}

TEST(ClusterNoLossTest, RacingDeletesAndRecreationsAcrossAKillLoseOnlyWhatContextsCovered) {
  const uint64_t seed = TestSeed("RacingDeletesAndRecreationsAcrossAKillLoseOnlyWhatContextsCovered");
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--max-siblings", "256"}});
  KV_ASSERT_OK(cluster.Start());
  constexpr int kKeys = 4;
  constexpr int kOpsEach = 150;
  std::mutex mu;
  std::vector<Attempt> attempts;  // GUARDED_BY(mu)
  std::atomic<int> done{0}, ops{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      base::Random rnd(seed + static_cast<uint64_t>(t));
      KvClient client(cluster.node(static_cast<size_t>(t)).address(), 3000);
      std::vector<std::string> last_read(kKeys);  // context of this client's last read of each key
      for (int i = 0; i < kOpsEach; ++i, ops++) {
        const int k = static_cast<int>(rnd.Uniform(kKeys));
        const std::string key = Key("churn", k);
        const uint32_t choice = rnd.Uniform(4);
        if (choice == 0) {  // read, remembering the context
          auto r = client.Read(key);
          if (r.ok()) last_read[k] = r->context;
          continue;
        }
        Attempt a;
        a.key = key;
        std::string context;
        if (choice == 1 || choice == 3) context = last_read[k];  // with the context of a read (maybe stale)
        a.sent = ContextOf(key, context);
        if (choice == 3 && context.empty()) continue;  // a delete needs a context
        if (choice != 3) a.value = "c" + std::to_string(t + 1) + "-" + std::to_string(i);
        // choice 2: a put with no context at all.
        base::Result<WriteResult> w =
            choice == 3 ? client.Delete(key, kTwo, context) : client.Put(key, a.value, kTwo, context);
        if (w.ok()) {
          a.acked = true;
          a.dot = w->dot;
        }
        std::lock_guard<std::mutex> l(mu);
        attempts.push_back(std::move(a));
      }
      done++;
    });
  }
  // Kill one node in the middle and bring it back (a new actor epoch).
  ASSERT_TRUE(WaitFor([&] { return ops.load() > kOpsEach; }, 60'000));
  cluster.node(1).Kill();
  ASSERT_TRUE(WaitFor([&] { return ops.load() > 2 * kOpsEach || done.load() == 3; }, 60'000));
  KV_ASSERT_OK(cluster.node(1).Restart());
  for (auto& c : clients) c.join();
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  std::map<std::string, ReadResult> finals;
  for (int k = 0; k < kKeys; ++k) {
    auto r = cluster.client(0).Read(Key("churn", k), kAll);
    KV_ASSERT_OK(r);
    finals[Key("churn", k)] = *r;
  }
  int acked = 0;
  for (const auto& a : attempts) acked += a.acked;
  EXPECT_GT(acked, 100) << "too few writes acknowledged to test anything";
  EXPECT_EQ("", CheckHistory(attempts, finals)) << "seed " << seed;
}

// Copies a node's data directory (the node frozen with SIGSTOP, so the copy is
// what a power cut at that moment could leave).
void CopyDataDir(KvnodeProcess& node, const std::string& to) {
  ASSERT_EQ(0, ::kill(node.pid(), SIGSTOP));
  std::filesystem::copy(node.data_dir(), to, std::filesystem::copy_options::recursive);
  ASSERT_EQ(0, ::kill(node.pid(), SIGCONT));
}

void RestoreDataDir(KvnodeProcess& node, const std::string& from) {
  std::filesystem::remove_all(node.data_dir());
  std::filesystem::copy(from, node.data_dir(), std::filesystem::copy_options::recursive);
}

TEST(ClusterNoLossTest, ANodeThatLostItsNewestWritesNeverMintsTheirDotsAgain) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  KvClient& n1 = cluster.client(0);
  auto v0 = n1.Put("cart", "v0", kAll);
  KV_ASSERT_OK(v0);
  auto b_read = cluster.client(1).Read("cart", kAll);  // client B will write later with this context
  KV_ASSERT_OK(b_read);
  const std::string before_v1 = cluster.dir() + "/n1-before-v1";
  CopyDataDir(cluster.node(0), before_v1);
  auto v1 = n1.Put("cart", "v1", kAll, v0->context);  // every replica acknowledges it
  KV_ASSERT_OK(v1);
  ASSERT_EQ(3u, v1->acks.size());
  // n1 loses its newest writes: killed, its disk as it was before v1.
  cluster.node(0).Kill();
  RestoreDataDir(cluster.node(0), before_v1);
  KV_ASSERT_OK(cluster.node(0).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  // B writes with its old context through n1, which no longer has v1.
  auto v2 = cluster.client(0).Put("cart", "v2", kAll, b_read->context);
  KV_ASSERT_OK(v2);
  EXPECT_NE(v1->dot, v2->dot) << "n1 minted " << repl::DotText(v1->dot) << " twice";
  for (size_t via = 0; via < 3; ++via) {
    auto all = cluster.client(via).Get("cart", kAll);
    KV_ASSERT_OK(all);
    EXPECT_EQ((std::vector<std::string>{"v1", "v2"}), all->values()) << "via n" << via + 1;
  }
  EXPECT_NE(std::string::npos, cluster.node(0).LogTail(200).find("under the new actor n1#2"))
      << cluster.node(0).LogTail(40);
}

TEST(ClusterNoLossTest, ARestoredCopyOfACleanlyStoppedNodeStartsANewEpochWhenAsked) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  auto v0 = cluster.client(0).Put("restored", "v0", kAll);
  KV_ASSERT_OK(v0);
  // A backup of n1 taken after a clean stop: its state says "stopped cleanly".
  auto code = cluster.node(0).Terminate();
  KV_ASSERT_OK(code);
  const std::string backup = cluster.dir() + "/n1-backup";
  std::filesystem::copy(cluster.node(0).data_dir(), backup, std::filesystem::copy_options::recursive);
  KV_ASSERT_OK(cluster.node(0).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  auto v1 = cluster.client(0).Put("restored", "v1", kAll, v0->context);
  KV_ASSERT_OK(v1);
  cluster.node(0).Kill();
  RestoreDataDir(cluster.node(0), backup);
  cluster.node(0).mutable_options().extra_flags.push_back("--new-epoch");
  KV_ASSERT_OK(cluster.node(0).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  auto v2 = cluster.client(0).Put("restored", "v2", kAll, v0->context);
  KV_ASSERT_OK(v2);
  EXPECT_NE(v1->dot, v2->dot);
  auto all = cluster.client(2).Get("restored", kAll);
  KV_ASSERT_OK(all);
  EXPECT_EQ((std::vector<std::string>{"v1", "v2"}), all->values());
}

TEST(ClusterNoLossTest, PutsWithoutContextPileUpOnlyToTheSiblingCapThenFailClearly) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--max-siblings", "8"}});
  KV_ASSERT_OK(cluster.Start());
  for (int i = 0; i < 8; ++i) KV_ASSERT_OK(cluster.client(static_cast<size_t>(i) % 3).Put("pile", Value("pile", i), kAll));
  auto over = cluster.client(0).Put("pile", "one-too-many", kAll);
  ASSERT_FALSE(over.ok());
  EXPECT_TRUE(over.status().IsTooLarge()) << over.status().ToString();
  EXPECT_NE(std::string::npos, over.status().message().find("context")) << over.status().ToString();
  int64_t refused = 0;
  for (size_t i = 0; i < 3; ++i) refused += StatsCounter(cluster.client(i), "store_refused_siblings");
  EXPECT_GE(refused, 1);
  auto all = cluster.client(1).Get("pile", kAll);
  KV_ASSERT_OK(all);
  EXPECT_EQ(8u, all->siblings.size());  // the refused write changed nothing
  KV_ASSERT_OK(cluster.client(2).Put("pile", "resolved", kAll, all->context));
  auto after = cluster.client(0).Get("pile", kAll);
  KV_ASSERT_OK(after);
  EXPECT_EQ(std::vector<std::string>{"resolved"}, after->values());
}

// What a client could send instead of a context a node handed it, for key
// "victim" whose real context is `real`.
std::vector<std::pair<std::string, std::string>> BadContexts(const std::string& real, const std::string& others) {
  repl::VersionVector maxed;  // would leave the key unwritable for ever if believed
  maxed.Witness("n1", std::numeric_limits<uint64_t>::max(), 1'700'000'000);
  std::string guessed = repl::EncodeClientContext(repl::ContextKey("a guess"), "victim", maxed);
  std::string bare(1, static_cast<char>(repl::kClientContextVersion));
  maxed.EncodeTo(&bare);
  std::string flipped = real;
  flipped[1] ^= 0x01;
  return {{"counters at 2^64-1 sealed with a guessed key", guessed},
          {"counters at 2^64-1 with zero MAC bytes", bare + std::string(repl::kContextMacBytes, '\0')},
          {"random bytes", base::RandomBytes(64)},
          {"the real context with one bit flipped", flipped},
          {"another key's real context", others},
          {"100 KB", std::string(100 << 10, '\x02')}};
}

TEST(ClusterNoLossTest, ForgedDamagedAndOtherKeysContextsAreRefusedAndTheKeyStaysWritable) {
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("victim", "v1", kAll));
  KV_ASSERT_OK(cluster.client(1).Put("other", "o1", kAll));
  auto real = cluster.client(2).Read("victim");
  auto others = cluster.client(2).Read("other");
  KV_ASSERT_OK(real);
  KV_ASSERT_OK(others);
  for (const auto& [what, context] : BadContexts(real->context, others->context)) {
    for (size_t i = 0; i < 3; ++i) {
      auto put = cluster.client(i).Put("victim", "evil", kTwo, context);
      ASSERT_FALSE(put.ok()) << what << " through node " << i;
      EXPECT_TRUE(put.status().IsInvalidArgument()) << what << ": " << put.status().ToString();
      EXPECT_NE(std::string::npos, put.status().message().find("context")) << what << ": " << put.status().ToString();
      auto del = cluster.client(i).Delete("victim", kTwo, context);
      ASSERT_FALSE(del.ok()) << what << " through node " << i;
      EXPECT_TRUE(del.status().IsInvalidArgument()) << what << ": " << del.status().ToString();
    }
  }
  for (size_t i = 0; i < 3; ++i) {  // nothing changed anywhere
    auto local = cluster.client(i).GetLocal("victim");
    KV_ASSERT_OK(local);
    EXPECT_EQ(std::vector<std::string>{"v1"}, local->values()) << "node " << i;
  }
  // And the key stays writable: the real context supersedes v1, its receipt the next.
  auto v2 = cluster.client(1).Put("victim", "v2", kTwo, real->context);
  KV_ASSERT_OK(v2);
  KV_ASSERT_OK(cluster.client(2).Put("victim", "v3", kTwo, v2->context));
  auto after = cluster.client(0).Get("victim", kAll);
  KV_ASSERT_OK(after);
  EXPECT_EQ(std::vector<std::string>{"v3"}, after->values());
}

}  // namespace
}  // namespace kvring::test
