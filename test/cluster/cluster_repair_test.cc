// Anti-entropy and kvctl repair with real kvnode processes (issue 13): a node
// whose data directory was wiped gets every key back from `kvctl repair --wait`,
// receiving about what it missed and nothing twice; a key changed on one replica
// behind the cluster's back is found as exactly one leaf and is the only key
// streamed; automatic anti-entropy converges without any command; identical
// replicas exchange only tree traffic; a repair interrupted by kill -9 of the
// repairing node or of its peer resumes and completes after the restart. Every
// test reads back, replica-local, everything it wrote.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/random.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr uint64_t kRepairTimeoutMs = 120'000;

// No automatic anti-entropy (only kvctl repair), no hints (a replica that missed
// a write stays behind until it is repaired).
ClusterOptions RepairCluster(std::vector<std::string> extra = {}) {
  ClusterOptions o{.nodes = 3, .n = 3};
  o.extra_flags = {"--aae-interval-s", "0", "--no-hinted-handoff"};
  for (auto& f : extra) o.extra_flags.push_back(std::move(f));
  return o;
}

std::map<std::string, std::string> WriteKeys(Cluster& cluster, const std::string& prefix, int count, uint8_t w) {
  std::map<std::string, std::string> acked;
  for (int i = 0; i < count; ++i) {
    auto put = cluster.client(0).Put(Key(prefix, i), Value(prefix, i), w);
    EXPECT_TRUE(put.ok()) << i << ": " << put.status().ToString();
    if (put.ok()) acked[Key(prefix, i)] = Value(prefix, i);
  }
  return acked;
}

// The keys of `acked` node i does not hold itself with exactly that value.
size_t MissingLocally(Cluster& cluster, size_t i, const std::map<std::string, std::string>& acked,
                      std::string* first = nullptr) {
  size_t missing = 0;
  for (const auto& [key, value] : acked) {
    auto local = cluster.client(i).GetLocal(key);
    if (local.ok() && local->values() == std::vector<std::string>{value}) continue;
    if (missing++ == 0 && first != nullptr) *first = key + ": " + (local.ok() ? "another value" : StatusText(local));
  }
  return missing;
}

ProgramResult Kvctl(Cluster& cluster, size_t i, std::vector<std::string> args, uint64_t timeout_ms = kRepairTimeoutMs) {
  std::vector<std::string> argv = {BinaryPath("kvctl"), "--host", cluster.node(i).address()};
  for (auto& a : args) argv.push_back(std::move(a));
  return RunProgram(argv, "", timeout_ms);
}

int64_t Stat(Cluster& cluster, size_t i, const std::string& name) { return StatsCounter(cluster.client(i), name); }

void WipeAndRestartEmpty(Cluster& cluster, size_t i) {
  cluster.node(i).Kill();
  KV_ASSERT_OK(base::RemoveDirRecursively(base::Env::Default(), cluster.node(i).data_dir()));
  KV_ASSERT_OK(cluster.node(i).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
}

TEST(ClusterRepairTest, AWipedNodeGetsEveryKeyBackFromRepairReceivingAboutWhatItMissed) {
  Cluster cluster(RepairCluster());
  KV_ASSERT_OK(cluster.Start());
  const auto acked = WriteKeys(cluster, "wipe", 2000, kAll);
  WipeAndRestartEmpty(cluster, 2);
  ASSERT_EQ(acked.size(), MissingLocally(cluster, 2, acked)) << "the wiped node must start empty";
  ProgramResult repair = Kvctl(cluster, 2, {"repair", "--wait"});
  ASSERT_EQ(0, repair.exit_code) << repair.ToString();
  EXPECT_NE(std::string::npos, repair.out.find("done")) << repair.out;
  std::string first;
  EXPECT_EQ(0u, MissingLocally(cluster, 2, acked, &first)) << first;
  // Every key came once (from the first peer compared; the second was then identical).
  EXPECT_EQ(2000, Stat(cluster, 2, "aae_keys_received"));
  EXPECT_EQ(0, Stat(cluster, 2, "aae_keys_sent"));
  // The sets of 2,000 keys of ~20 bytes are ~100 bytes each with their clocks;
  // the tree and listings add ~50 bytes a key: well under 2.5x what it missed.
  const int64_t sync = Stat(cluster, 2, "aae_sync_bytes");
  EXPECT_LE(sync, 2000 * 150) << "set traffic";
  EXPECT_LE(Stat(cluster, 2, "aae_bytes_received") + Stat(cluster, 2, "aae_bytes_sent"), 2000 * 400);
  EXPECT_EQ("", CheckReadable(cluster.client(2), acked, kAll));
}

TEST(ClusterRepairTest, AKeyChangedOnOneReplicaBehindTheClustersBackIsTheOnlyLeafAndKeyStreamed) {
  Cluster cluster(RepairCluster());
  KV_ASSERT_OK(cluster.Start());
  auto acked = WriteKeys(cluster, "one", 500, kAll);
  // n2 and n3 are down and nothing is hinted: only n1 takes the new value.
  cluster.node(1).Kill();
  cluster.node(2).Kill();
  auto put = cluster.client(0).Replace("one-17", "changed", 1);
  KV_ASSERT_OK(put);
  acked["one-17"] = "changed";
  KV_ASSERT_OK(cluster.node(1).Restart());
  KV_ASSERT_OK(cluster.node(2).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  ASSERT_EQ(1u, MissingLocally(cluster, 1, acked));
  // Repair n1 (asked through n2: --node): one leaf with each peer, one key each.
  ProgramResult repair = Kvctl(cluster, 1, {"repair", "--node", "n1", "--wait"});
  ASSERT_EQ(0, repair.exit_code) << repair.ToString();
  EXPECT_NE(std::string::npos, repair.out.find("n1 repair 1 done")) << repair.out;
  EXPECT_EQ(2, Stat(cluster, 0, "aae_ranges_differing")) << "one range with each of n2 and n3";
  EXPECT_EQ(2, Stat(cluster, 0, "aae_leaves_differing"));
  EXPECT_EQ(2, Stat(cluster, 0, "aae_digest_requests")) << "only that leaf is listed, once per peer";
  EXPECT_EQ(2, Stat(cluster, 0, "aae_keys_sent")) << "the one key, to each peer";
  EXPECT_EQ(0, Stat(cluster, 0, "aae_keys_received"));
  for (size_t i = 0; i < 3; i++) {
    std::string first;
    EXPECT_EQ(0u, MissingLocally(cluster, i, acked, &first)) << cluster.node(i).id() << ": " << first;
  }
}

TEST(ClusterRepairTest, AutomaticAntiEntropyConvergesWithoutAnyCommand) {
  ClusterOptions o{.nodes = 3, .n = 3};
  o.extra_flags = {"--aae-interval-s", "2", "--no-hinted-handoff"};
  Cluster cluster(o);
  KV_ASSERT_OK(cluster.Start());
  cluster.node(2).Kill();
  const auto acked = WriteKeys(cluster, "auto", 300, 2);
  KV_ASSERT_OK(cluster.node(2).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  // Documented: each co-replica within one interval (2 s here) plus the exchange.
  std::string first;
  EXPECT_TRUE(WaitFor([&] { return MissingLocally(cluster, 2, acked) == 0; }, 20'000))
      << MissingLocally(cluster, 2, acked, &first) << " keys still missing on n3; first " << first;
  EXPECT_GE(Stat(cluster, 2, "aae_exchanges") + Stat(cluster, 0, "aae_exchanges") + Stat(cluster, 1, "aae_exchanges"), 1);
  ProgramResult status = Kvctl(cluster, 0, {"status"}, 10'000);
  EXPECT_EQ(0, status.exit_code) << status.ToString();
  EXPECT_NE(std::string::npos, status.out.find("last full anti-entropy comparison")) << status.out;
}

TEST(ClusterRepairTest, IdenticalReplicasExchangeOnlyTreeTrafficAndReadNoDataBlock) {
  Cluster cluster(RepairCluster());
  KV_ASSERT_OK(cluster.Start());
  const auto acked = WriteKeys(cluster, "same", 1000, kAll);
  // A clean stop flushes the data to table files (the leaves the writes dirtied
  // stay dirty, saved so, until a comparison asks for them).
  for (size_t i = 0; i < 3; i++) {
    auto code = cluster.node(i).Terminate();
    ASSERT_TRUE(code.ok() && *code == 0) << StatusText(code);
  }
  for (size_t i = 0; i < 3; i++) KV_ASSERT_OK(cluster.node(i).Start());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  // The first comparison recomputes the dirty leaves (reading the tables)...
  ProgramResult first = Kvctl(cluster, 0, {"repair", "--wait"});
  ASSERT_EQ(0, first.exit_code) << first.ToString();
  EXPECT_EQ(0, Stat(cluster, 0, "aae_ranges_differing"));
  std::vector<int64_t> blocks;
  for (size_t i = 0; i < 3; i++) {
    EXPECT_EQ(0, Stat(cluster, i, "engine_merkle_dirty_leaves")) << cluster.node(i).id();
    blocks.push_back(Stat(cluster, i, "engine_data_blocks_read"));
  }
  const int64_t tree_before = Stat(cluster, 0, "aae_tree_bytes");
  const int64_t bytes_before = Stat(cluster, 0, "aae_bytes_sent") + Stat(cluster, 0, "aae_bytes_received");
  // ... every later one reads the index only.
  ProgramResult second = Kvctl(cluster, 0, {"repair", "--wait"});
  ASSERT_EQ(0, second.exit_code) << second.ToString();
  EXPECT_EQ(0, Stat(cluster, 0, "aae_ranges_differing"));
  EXPECT_EQ(0, Stat(cluster, 0, "aae_digest_requests") + Stat(cluster, 0, "aae_sync_requests"));
  const int64_t tree = Stat(cluster, 0, "aae_tree_bytes") - tree_before;
  EXPECT_EQ(Stat(cluster, 0, "aae_bytes_sent") + Stat(cluster, 0, "aae_bytes_received") - bytes_before, tree)
      << "nothing but range hashes";
  // 768 ranges with each of 2 peers, ~26 bytes each way: a few tens of KiB.
  EXPECT_LE(tree, 64 * 1024);
  for (size_t i = 0; i < 3; i++) {
    EXPECT_EQ(blocks[i], Stat(cluster, i, "engine_data_blocks_read"))
        << cluster.node(i).id() << " read data blocks for a comparison of identical replicas";
  }
  ProgramResult status = Kvctl(cluster, 0, {"status", "--json"}, 10'000);
  EXPECT_EQ(0, status.exit_code) << status.ToString();
  EXPECT_NE(std::string::npos, status.out.find("\"ranges_differing\": 0")) << status.out;
  EXPECT_EQ("", CheckReadable(cluster.client(0), acked, kAll));
}

// A repair slow enough (throttled) to be interrupted mid-way.
void ExpectInterruptedRepairResumes(size_t victim) {
  Cluster cluster(RepairCluster({"--aae-rate", "256k"}));
  KV_ASSERT_OK(cluster.Start());
  const auto acked = WriteKeys(cluster, "resume", 3000, kAll);
  WipeAndRestartEmpty(cluster, 2);
  ProgramResult start = Kvctl(cluster, 2, {"repair"}, 10'000);
  ASSERT_EQ(0, start.exit_code) << start.ToString();
  int64_t total = 0, done_before = 0;
  ASSERT_TRUE(WaitFor([&] {
    total = Stat(cluster, 2, "repair_ranges_total");
    done_before = Stat(cluster, 2, "repair_ranges_done");
    return done_before > 10;
  }, kRepairTimeoutMs));
  ASSERT_LT(done_before, total) << "the repair ended before it could be interrupted";
  sleep(1);  // the job's progress is saved every second
  cluster.node(victim).Kill();
  KV_ASSERT_OK(cluster.node(victim).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  if (victim == 2) {
    EXPECT_GE(Stat(cluster, 2, "repair_ranges_done"), done_before / 2) << "resumed from the saved progress";
    EXPECT_EQ(1, Stat(cluster, 2, "repair_state")) << "still running after the restart";
  }
  ASSERT_TRUE(WaitFor([&] { return Stat(cluster, 2, "repair_state") == 2; }, kRepairTimeoutMs))
      << "state " << Stat(cluster, 2, "repair_state") << ", " << Stat(cluster, 2, "repair_ranges_done") << "/" << total;
  EXPECT_EQ(total, Stat(cluster, 2, "repair_ranges_done"));
  std::string first;
  EXPECT_EQ(0u, MissingLocally(cluster, 2, acked, &first)) << first;
}

TEST(ClusterRepairTest, ARepairInterruptedByKillOfTheRepairingNodeResumesAfterTheRestart) {
  ExpectInterruptedRepairResumes(2);
}

TEST(ClusterRepairTest, ARepairInterruptedByKillOfItsPeerResumesAfterThePeerRestarts) {
  ExpectInterruptedRepairResumes(0);
}

int64_t Sum(Cluster& cluster, const std::string& name) {
  int64_t total = 0;
  for (size_t i = 0; i < cluster.size(); i++) {
    if (cluster.node(i).running()) total += Stat(cluster, i, name);
  }
  return total;
}

TEST(ClusterRepairTest, ADeleteAReplicaMissedNeverComesBackAndItsTombstoneIsPurgedOnceEveryReplicaAgrees) {
  // Small memtables: the filler below flushes and compacts, so the compaction
  // filter is asked about the tombstone while n3 is away (a timer-based purge
  // would drop it then, and n3's old value would come back with it).
  ClusterOptions o{.nodes = 3, .n = 3};
  o.extra_flags = {"--aae-interval-s", "1", "--no-hinted-handoff", "--memtable", "64k"};
  Cluster cluster(o);
  KV_ASSERT_OK(cluster.Start());
  KV_ASSERT_OK(cluster.client(0).Put("zombie", "old", kAll));
  cluster.node(2).Kill();
  KV_ASSERT_OK(cluster.client(0).DeleteSeen("zombie", 2));
  const std::string big(100, 'x');
  std::map<std::string, std::string> filler;
  for (int i = 0; i < 4000; ++i) {
    KV_ASSERT_OK(cluster.client(0).Put(Key("fill", i), big, 2));
    filler[Key("fill", i)] = big;
  }
  ASSERT_TRUE(WaitFor([&] { return Stat(cluster, 0, "engine_compactions") > 0; }, 30'000)) << "no compaction ran";
  EXPECT_EQ(0, Sum(cluster, "aae_tombstones_purged")) << "purged while n3 still holds the old value";
  // n3 returns with "old"; anti-entropy brings it the tombstone (never "old" to the others).
  KV_ASSERT_OK(cluster.node(2).Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  ASSERT_TRUE(WaitFor([&] { return MissingLocally(cluster, 2, filler) == 0; }, 60'000)) << "n3 never converged";
  for (size_t i = 0; i < 3; i++) {
    auto local = cluster.client(i).GetLocal("zombie");
    EXPECT_TRUE(!local.ok() && local.status().IsNotFound()) << cluster.node(i).id() << " has the deleted key again";
  }
  auto all = cluster.client(0).Get("zombie", kAll);
  EXPECT_TRUE(!all.ok() && all.status().IsNotFound()) << "the delete was undone";
  // Once every replica agrees, compactions purge the tombstone.
  for (int round = 0; round < 20 && Sum(cluster, "aae_tombstones_purged") == 0; ++round) {
    SleepMs(1500);  // a clean automatic comparison with each co-replica
    for (int i = 0; i < 1000; ++i) KV_ASSERT_OK(cluster.client(0).Put(Key("more", round * 1000 + i), big, kAll));
  }
  EXPECT_GT(Sum(cluster, "aae_tombstones_purged"), 0) << "the tombstone was never purged";
  auto after = cluster.client(1).Get("zombie", kAll);
  EXPECT_TRUE(!after.ok() && after.status().IsNotFound()) << "the key came back after the purge";
  EXPECT_EQ("", CheckReadable(cluster.client(1), filler, kAll));
}

// KV_TOMBSTONE_KEYS (default 3000) sets the key count: docs/performance.md
// "Tombstones on disk" runs it at 90000 for the figure it prints.
int TombstoneTestKeys() {
  const char* v = std::getenv("KV_TOMBSTONE_KEYS");
  return v != nullptr && std::atoi(v) >= 300 ? std::atoi(v) : 3000;
}

TEST(ClusterRepairTest, DeletedKeysLeaveTheDiskOnceEveryReplicaAgreesAndNothingLiveGoesWithThem) {
  ClusterOptions o{.nodes = 3, .n = 3};
  o.extra_flags = {"--aae-interval-s", "1", "--memtable", "64k"};
  Cluster cluster(o);
  KV_ASSERT_OK(cluster.Start());
  const int keys = TombstoneTestKeys();
  std::map<std::string, std::string> kept;
  base::Random rng(7);
  const auto value = [&] {  // 200 letters: tables hold about what was written
    std::string v(200, 'a');
    for (char& c : v) c = static_cast<char>('a' + rng.Uniform(26));
    return v;
  };
  for (int i = 0; i < keys; ++i) {
    const std::string v = value();
    KV_ASSERT_OK(cluster.client(i % 3).Put(Key("k", i), v, kAll));
    if (i % 3 == 0) kept[Key("k", i)] = v;
  }
  const int64_t loaded = Sum(cluster, "engine_table_bytes");
  for (int i = 0; i < keys; ++i) {
    if (i % 3 != 0) KV_ASSERT_OK(cluster.client(i % 3).DeleteSeen(Key("k", i), kAll));
  }
  // More writes than a memtable holds, so the last deletes reach tables too.
  for (int i = 0; i < 400; ++i) {
    const std::string v = value();
    KV_ASSERT_OK(cluster.client(0).Put(Key("late", i), v, kAll));
    kept[Key("late", i)] = v;
  }
  const auto start = std::chrono::steady_clock::now();
  // No command: the automatic comparisons find the replicas identical, and the
  // tables holding the now purgeable tombstones are rewritten.
  ASSERT_TRUE(WaitFor([&] { return Sum(cluster, "engine_tombstones") == 0; }, 90'000 + keys))
      << Sum(cluster, "engine_tombstones") << " tombstones still in tables; "
      << Sum(cluster, "engine_tombstone_compactions") << " tombstone compactions";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t after = Sum(cluster, "engine_table_bytes");
  std::printf("tombstones on disk: %d keys of 200 B, 2/3 deleted; tables (3 nodes) %lld B loaded, %lld B "
              "with no tombstone left, %.1f s after the last delete (%lld tombstone compactions, %lld purged)\n",
              keys, static_cast<long long>(loaded), static_cast<long long>(after), seconds,
              static_cast<long long>(Sum(cluster, "engine_tombstone_compactions")),
              static_cast<long long>(Sum(cluster, "aae_tombstones_purged")));
  EXPECT_GT(Sum(cluster, "engine_tombstone_compactions"), 0);
  EXPECT_LT(after, loaded * 6 / 10) << "two thirds of the keys deleted";
  EXPECT_EQ("", CheckReadable(cluster.client(1), kept, kAll));
  for (int i = 1; i < keys; i += 3) {
    auto got = cluster.client(2).Get(Key("k", i), kAll);
    ASSERT_TRUE(!got.ok() && got.status().IsNotFound()) << Key("k", i) << " came back";
  }
}

}  // namespace
}  // namespace kvring::test
