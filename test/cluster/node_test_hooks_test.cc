// kvnode's test-only fault hooks on a real process (node/test_hooks.h, hidden
// --test-* flags, docs/operations.md "Testing flags"): a wall-clock offset shows
// in the timestamps of the values the node writes and jumps when its control
// file changes; failing fdatasyncs make --sync always writes fail with the EIO
// named, the node keeps running and takes writes again once healed, and nothing
// it acknowledged is lost, across a kill -9 too; a delay file slows what the
// node sends; a power-loss file makes it exit having lost exactly its unsynced bytes.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <map>
#include <string>

#include "base/clock.h"
#include "base/env.h"
#include "node/test_hooks.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

void WriteControl(KvnodeProcess& node, const char* name, const std::string& value) {
  ASSERT_TRUE(
      base::WriteStringToFileAtomic(base::Env::Default(), value, base::JoinPath(node.data_dir(), name)).ok());
}

// How far the timestamp of key's value is from this machine's wall clock, in seconds.
int64_t SkewSeconds(KvClient& client, const std::string& key) {
  auto got = client.Get(key);
  if (!got.ok() || got->siblings.size() != 1) return INT64_MIN;
  const int64_t now = static_cast<int64_t>(base::SystemClock::Get()->WallMicros());
  return (static_cast<int64_t>(got->siblings[0].timestamp_us) - now) / 1'000'000;
}

TEST(NodeTestHooksTest, ClockOffsetShowsInValueTimestampsAndJumpsWithItsFile) {
  SingleNode node({.extra_flags = {"--test-clock-offset-ms", "3600000", "--test-fault-files"}});
  KV_ASSERT_OK(node.Start());
  KV_ASSERT_OK(node.client().Put("ahead", "v"));
  const int64_t ahead = SkewSeconds(node.client(), "ahead");
  EXPECT_NEAR(3600, ahead, 30);
  WriteControl(node.node(), node::kTestClockOffsetFile, "-7200000");
  int64_t behind = 0;
  int attempt = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string key = Key("behind", attempt++);  // a fresh key: one sibling each
        KV_EXPECT_OK(node.client().Put(key, "v"));
        behind = SkewSeconds(node.client(), key);
        return behind < -7000;
      },
      10'000))
      << "the offset file was not picked up: skew " << behind << " s";
  EXPECT_NEAR(-7200, behind, 30);
}

TEST(NodeTestHooksTest, FsyncErrorsFailWritesUntilHealedAndLoseNothingAcknowledged) {
  SingleNode node({.sync = "always", .extra_flags = {"--test-fault-files"}});
  KV_ASSERT_OK(node.Start());
  std::map<std::string, std::string> acked;
  int next = 0;
  auto put = [&]() -> base::Status {
    const std::string key = Key("k", next), value = Value("k", next);
    ++next;
    auto w = node.client().Put(key, value);
    if (w.ok()) acked[key] = value;
    return w.status();
  };
  for (int i = 0; i < 20; ++i) KV_ASSERT_OK(put());

  WriteControl(node.node(), node::kTestFailSyncsFile, "1");
  base::Status failed;
  ASSERT_TRUE(WaitFor([&] { return !(failed = put()).ok(); }, 10'000)) << "no write failed under fsync errors";
  EXPECT_NE(std::string::npos, failed.message().find("Input/output error")) << failed.ToString();
  EXPECT_TRUE(node.node().running()) << node.node().LogTail();

  ASSERT_TRUE(base::Env::Default()->RemoveFile(base::JoinPath(node.node().data_dir(), node::kTestFailSyncsFile)).ok());
  ASSERT_TRUE(WaitFor([&] { return put().ok(); }, 10'000)) << "writes still fail after healing: " << node.node().LogTail();
  for (int i = 0; i < 20; ++i) KV_ASSERT_OK(put());
  EXPECT_EQ("", CheckReadable(node.client(), acked, kOne));

  KV_ASSERT_OK(node.node().Restart());  // kill -9, then the same data directory
  KvClient after(node.node().address());
  EXPECT_EQ("", CheckReadable(after, acked, kOne));
}

// The delay hook: with test-delay-ms on n1, a write through n1 at W=ALL waits
// for its replica writes to leave n1 late (and still succeeds within the 1 s
// request timeout), a write through n2 does not; removing the file heals, and
// every acknowledged write is readable at ALL.
uint64_t MillisToPut(KvClient& client, const std::string& key, std::map<std::string, std::string>* acked) {
  const auto start = std::chrono::steady_clock::now();
  auto w = client.Put(key, "v-" + key, kAll);
  const auto took = std::chrono::steady_clock::now() - start;
  if (!w.ok()) return UINT64_MAX;
  (*acked)[key] = "v-" + key;
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
}

TEST(NodeTestHooksTest, DelayFileHoldsBackWhatTheNodeSendsUntilRemoved) {
  Cluster cluster({.nodes = 3, .n = 3, .extra_flags = {"--test-fault-files"}});
  KV_ASSERT_OK(cluster.Start());
  std::map<std::string, std::string> acked;
  WriteControl(cluster.node(0), node::kTestDelayFile, "300");
  int attempt = 0;
  uint64_t slow = 0;
  EXPECT_TRUE(WaitFor([&] { return (slow = MillisToPut(cluster.client(0), Key("slow", attempt++), &acked)) >= 300; },
                      10'000) && slow != UINT64_MAX)
      << "the delay file was not picked up: last put took " << slow << " ms";
  EXPECT_LT(MillisToPut(cluster.client(1), "through-n2", &acked), 300u) << "n2's calls are not delayed";
  ASSERT_TRUE(base::Env::Default()->RemoveFile(base::JoinPath(cluster.node(0).data_dir(), node::kTestDelayFile)).ok());
  EXPECT_TRUE(WaitFor([&] { return MillisToPut(cluster.client(0), Key("fast", attempt++), &acked) < 200; }, 10'000))
      << "n1 still slow after healing";
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ("", CheckReadable(cluster.client(i), acked, kAll)) << "via n" << i + 1;
}

// The power-loss hook: the node exits with kPowerLossExitStatus within a second
// of the file appearing, and restarts with exactly what it had synced: with
// --sync always every acknowledged write; with --sync none the writes only in its
// never-synced WAL are gone (which a kill -9 would have kept: the hook is real).
int PutMany(KvClient& client, const std::string& prefix, int count, std::map<std::string, std::string>* acked) {
  for (int i = 0; i < count; ++i) {
    const std::string key = Key(prefix, i), value = Value(prefix, i);
    if (!client.Put(key, value).ok()) return i;
    (*acked)[key] = value;
  }
  return count;
}

void LosePowerAndRestart(SingleNode& node) {
  WriteControl(node.node(), node::kTestPowerLossFile, "1");
  ASSERT_TRUE(WaitFor([&] { return !node.node().running(); }, 10'000)) << "the node did not lose power";
  const int status = node.node().last_wait_status();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == node::kPowerLossExitStatus) << status;
  EXPECT_NE(std::string::npos, node.node().LogTail().find("power lost")) << node.node().LogTail();
  KV_ASSERT_OK(node.node().Restart());
}

TEST(NodeTestHooksTest, PowerLossKeepsEverySyncedWriteWithSyncAlways) {
  SingleNode node({.sync = "always", .extra_flags = {"--test-fault-files"}});
  KV_ASSERT_OK(node.Start());
  std::map<std::string, std::string> acked;
  ASSERT_EQ(200, PutMany(node.client(), "k", 200, &acked));
  LosePowerAndRestart(node);
  KvClient after(node.node().address());
  EXPECT_EQ("", CheckReadable(after, acked, kOne));
  EXPECT_FALSE(base::Env::Default()->FileExists(base::JoinPath(node.node().data_dir(), node::kTestPowerLossFile)));
}

TEST(NodeTestHooksTest, PowerLossDropsWhatWasNeverSyncedWithSyncNone) {
  SingleNode node({.sync = "none", .extra_flags = {"--test-fault-files"}});
  KV_ASSERT_OK(node.Start());
  std::map<std::string, std::string> acked;
  ASSERT_EQ(200, PutMany(node.client(), "k", 200, &acked));
  LosePowerAndRestart(node);
  KvClient after(node.node().address());
  int missing = 0;
  for (const auto& [key, value] : acked) missing += !after.GetLocal(key).ok() || !after.GetLocal(key)->found;
  EXPECT_GT(missing, 0) << "a power loss with --sync none kept every write: the hook cut nothing";
}

}  // namespace
}  // namespace kvring::test
