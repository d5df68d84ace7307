// Concurrent writes in a 3-node cluster (N=3) of real kvnode processes: puts that
// did not see each other (the same stale context, no context, or contexts of
// their own earlier writes only) come back as siblings; a put with the get's
// context resolves them; and no acknowledged write disappears unless a present
// sibling's clock says its writer had seen it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "repl/version_text.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

// An acknowledged write and the dot its coordinator must have minted for it.
struct AckedWrite {
  repl::Dot dot;
  std::string value;
};

std::string Describe(const ReadResult& r) {
  std::string out;
  for (const auto& s : r.siblings) {
    repl::Sibling sib{s.dot, s.context, s.timestamp_us, false, s.value};
    out += "  " + s.value + " " + repl::SiblingClockText(sib) + "\n";
  }
  return out;
}

// The no-lost-write rule, checked on a read's clocks: every acknowledged write is
// a present sibling (with its own value) or is covered by the context of a
// present sibling (a writer that had seen it superseded it). Present siblings
// are concurrent with each other and each is one of the writes made (`made`;
// the acknowledged ones when empty).
std::string CheckNoAckedWriteLost(const ReadResult& read, const std::vector<AckedWrite>& acked,
                                  const std::vector<AckedWrite>& made = {}) {
  std::string problems;
  for (const auto& w : acked) {
    bool ok = false;
    for (const auto& s : read.siblings) {
      if (s.dot == w.dot) {
        ok = s.value == w.value;
        if (!ok) problems += "sibling " + repl::DotText(s.dot) + " has value " + s.value + ", not " + w.value + "\n";
        break;
      }
      if (s.context.Covers(w.dot)) {
        ok = true;
        break;
      }
    }
    if (!ok) problems += "acknowledged write " + repl::DotText(w.dot) + " (" + w.value + ") is lost\n";
  }
  for (const auto& s : read.siblings) {
    bool known = false;
    for (const auto& w : made.empty() ? acked : made) known |= w.dot == s.dot && w.value == s.value;
    if (!known) problems += "sibling " + repl::DotText(s.dot) + " (" + s.value + ") is no write the test made\n";
    for (const auto& t : read.siblings) {
      if (&s != &t && s.context.Covers(t.dot)) {
        problems += "sibling " + repl::DotText(t.dot) + " is obsolete: " + repl::DotText(s.dot) + " covers it\n";
      }
    }
  }
  return problems.empty() ? "" : problems + "read:\n" + Describe(read);
}

class ClusterSiblingsTest : public ::testing::Test {
 protected:
  void SetUp() override { KV_ASSERT_OK(cluster_.Start()); }

  // A put through `via` with the read's context resolves every sibling: every
  // node then reads exactly that value, and its context covers every old dot.
  void ExpectResolvedBy(size_t via, const std::string& key, const ReadResult& read) {
    KV_ASSERT_OK(cluster_.client(via).Put(key, "resolved", kTwo, read.context));
    for (size_t i = 0; i < cluster_.size(); ++i) {
      auto after = cluster_.client(i).Get(key, kAll);
      KV_ASSERT_OK(after);
      ASSERT_EQ(std::vector<std::string>{"resolved"}, after->values()) << "via n" << i + 1 << "\n" << Describe(*after);
      for (const auto& old : read.siblings) {
        EXPECT_TRUE(after->siblings[0].context.Covers(old.dot)) << repl::DotText(old.dot);
      }
    }
  }

  Cluster cluster_{{.nodes = 3, .n = 3, .extra_flags = {"--no-hinted-handoff"}}};  // a replica that missed a write stays behind
};

TEST_F(ClusterSiblingsTest, PutsWithTheSameStaleContextThroughTwoCoordinatorsBecomeSiblings) {
  KV_ASSERT_OK(cluster_.client(2).Put("k", "base", kAll));
  auto base = cluster_.client(2).Get("k", kTwo);
  KV_ASSERT_OK(base);
  // Two clients both start from "base": neither saw the other's write.
  KV_ASSERT_OK(cluster_.client(0).Put("k", "from-client-1", kTwo, base->context));
  KV_ASSERT_OK(cluster_.client(1).Put("k", "from-client-2", kTwo, base->context));
  auto read = cluster_.client(2).Get("k", kTwo);
  KV_ASSERT_OK(read);
  ASSERT_EQ((std::vector<std::string>{"from-client-1", "from-client-2"}), read->values()) << Describe(*read);
  const std::vector<AckedWrite> acked = {{base->siblings[0].dot, "base"},
                                         {{"n1", 1}, "from-client-1"},
                                         {{"n2", 1}, "from-client-2"}};
  EXPECT_EQ("", CheckNoAckedWriteLost(*read, acked));
  ExpectResolvedBy(0, "k", *read);
}

TEST_F(ClusterSiblingsTest, ConcurrentPutsWithTheSameStaleContextAllSurviveAsSiblings) {
  KV_ASSERT_OK(cluster_.client(2).Put("k", "base", kAll));
  auto base = cluster_.client(2).Get("k", kAll);
  KV_ASSERT_OK(base);
  constexpr int kPutsEach = 10;
  std::vector<AckedWrite> acked = {{base->siblings[0].dot, "base"}};
  std::vector<std::vector<AckedWrite>> per_thread(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      KvClient client(cluster_.node(t).address());
      for (int i = 1; i <= kPutsEach; ++i) {
        const std::string value = "c" + std::to_string(t + 1) + "-" + std::to_string(i);
        auto put = client.Put("k", value, kTwo, base->context);
        if (!put.ok()) {
          errors[t] = value + ": " + put.status().ToString();
          return;
        }
        // n<t+1> coordinates only this thread's writes: its i-th dot is (n<t+1>, i).
        per_thread[t].push_back({{"n" + std::to_string(t + 1), static_cast<uint64_t>(i)}, value});
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ("", errors[0]);
  ASSERT_EQ("", errors[1]);
  for (const auto& v : per_thread) acked.insert(acked.end(), v.begin(), v.end());
  auto read = cluster_.client(2).Get("k", kAll);
  KV_ASSERT_OK(read);
  // None of the 20 writers saw another's write: all 20 are siblings.
  EXPECT_EQ(static_cast<size_t>(2 * kPutsEach), read->siblings.size()) << Describe(*read);
  EXPECT_EQ("", CheckNoAckedWriteLost(*read, acked));
  ExpectResolvedBy(2, "k", *read);
}

TEST_F(ClusterSiblingsTest, APutWithoutContextThroughAReplicaThatMissedAWriteBecomesASibling) {
  cluster_.node(1).Kill();
  auto v1 = cluster_.client(0).Put("k", "v1", kTwo);  // n1 and n3
  KV_ASSERT_OK(v1);
  KV_ASSERT_OK(cluster_.node(1).Restart());
  KV_ASSERT_OK(cluster_.WaitUntilConnected());
  ASSERT_TRUE(cluster_.client(1).GetLocal("k").status().IsNotFound()) << "n2 should have missed v1";
  // A second client writes without a context through n2, which never saw v1.
  auto v2 = cluster_.client(1).Put("k", "v2", kTwo);
  KV_ASSERT_OK(v2);
  auto read = cluster_.client(2).Get("k", kAll);
  KV_ASSERT_OK(read);
  ASSERT_EQ((std::vector<std::string>{"v1", "v2"}), read->values()) << Describe(*read);
  EXPECT_EQ("", CheckNoAckedWriteLost(*read, {{v1->dot, "v1"}, {v2->dot, "v2"}}));
  ExpectResolvedBy(1, "k", *read);
}

TEST_F(ClusterSiblingsTest, PutsWithoutContextThroughOneCoordinatorAllBecomeSiblings) {
  // The coordinator holds every earlier value, but none of these writers saw
  // one: each put replaces nothing.
  std::vector<AckedWrite> acked;
  for (int i = 0; i < 5; ++i) {
    const std::string value = "blind-" + std::to_string(i);
    auto put = cluster_.client(0).Put("k", value, kAll);
    KV_ASSERT_OK(put);
    acked.push_back({put->dot, value});
  }
  auto read = cluster_.client(1).Get("k", kTwo);
  KV_ASSERT_OK(read);
  EXPECT_EQ(5u, read->siblings.size()) << Describe(*read);
  EXPECT_EQ("", CheckNoAckedWriteLost(*read, acked));
  ExpectResolvedBy(2, "k", *read);
}

TEST_F(ClusterSiblingsTest, RacingPutsThatSawOnlyTheirOwnWritesLoseNoAcknowledgedWrite) {
  // Two clients put to the same keys through n1 and n2, each with the context of
  // its own previous put of the key (so each sees only its own writes), while a
  // third reads with R=ALL through n3 and checks every read against the writes
  // acknowledged before it was sent.
  constexpr int kPutsEach = 100;
  constexpr int kKeys = 3;
  // Client t+1 writes through n<t+1>, which coordinates only its writes: the
  // i-th put to a key gets the dot (n<t+1>, i) and the value c<t+1>-i.
  auto write_of = [](int t, int i) {
    return AckedWrite{{"n" + std::to_string(t + 1), static_cast<uint64_t>(i)},
                      "c" + std::to_string(t + 1) + "-" + std::to_string(i)};
  };
  std::vector<AckedWrite> made;
  for (int t = 0; t < 2; ++t) {
    for (int i = 1; i <= kPutsEach; ++i) made.push_back(write_of(t, i));
  }
  std::mutex mu;
  std::vector<std::vector<AckedWrite>> acked(kKeys);  // GUARDED_BY(mu)
  std::vector<std::string> errors(2);
  std::atomic<int> writers_running{2};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      KvClient client(cluster_.node(t).address());
      std::vector<std::string> own_context(kKeys);  // of this client's last put of each key
      for (int i = 1; i <= kPutsEach && errors[t].empty(); ++i) {
        for (int k = 0; k < kKeys; ++k) {
          AckedWrite w = write_of(t, i);
          auto put = client.Put(Key("race", k), w.value, kTwo, own_context[k]);
          if (!put.ok()) {
            errors[t] = Key("race", k) + " " + w.value + ": " + put.status().ToString();
            break;
          }
          own_context[k] = put->context;
          std::lock_guard<std::mutex> l(mu);
          acked[k].push_back(std::move(w));
        }
      }
      writers_running--;
    });
  }
  int reads = 0, reads_with_siblings = 0;
  std::string read_problems;
  {
    KvClient reader(cluster_.node(2).address());
    while (writers_running.load() > 0 && read_problems.empty()) {
      std::vector<AckedWrite> before;
      {
        std::lock_guard<std::mutex> l(mu);
        before = acked[0];
      }
      auto read = reader.Get(Key("race", 0), kAll);
      if (read.status().IsNotFound() && before.empty()) continue;
      if (!read.ok()) {
        read_problems = read.status().ToString();
        break;
      }
      reads++;
      reads_with_siblings += read->siblings.size() > 1;
      read_problems = CheckNoAckedWriteLost(*read, before, made);
    }
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ("", errors[0]);
  ASSERT_EQ("", errors[1]);
  EXPECT_EQ("", read_problems) << "a read during the race";
  std::fprintf(stderr, "%d reads during the race, %d of them with siblings\n", reads, reads_with_siblings);
  for (int k = 0; k < kKeys; ++k) {
    SCOPED_TRACE(Key("race", k));
    auto read = cluster_.client(2).Get(Key("race", k), kAll);
    KV_ASSERT_OK(read);
    // Each client's latest write survives (the other never saw it): two
    // siblings, never more (a client's put supersedes its own earlier ones).
    EXPECT_EQ(read->siblings.size(), 2u) << Describe(*read);
    EXPECT_EQ("", CheckNoAckedWriteLost(*read, acked[k], made));
    ExpectResolvedBy(2, Key("race", k), *read);
  }
}

}  // namespace
}  // namespace kvring::test
