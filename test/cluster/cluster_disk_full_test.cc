// A full disk, on real kvnode processes whose data directory is a small tmpfs
// (needs root for mount(2); skipped otherwise): a node killed and restarted on
// a full disk starts read-only, serves every acknowledged key, refuses writes
// with a clear NoSpace error while the other replicas take them (and keep hints
// for it), and takes writes again within seconds of space returning, with the
// hints replayed; a node whose disk fills while it runs does the same without
// a restart. Nothing acknowledged is lost anywhere.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr char kFiller[] = "filler";
constexpr uint64_t kSpaceBackMs = 10'000;  // the node checks every second

// An 8 MiB tmpfs mounted on dir for the test's lifetime (unmounted even when the
// test fails; lazily, in case a killed node's files are still open).
class Tmpfs {
 public:
  explicit Tmpfs(std::string dir) : dir_(std::move(dir)) {
    ::mkdir(dir_.c_str(), 0755);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=8m") == 0) {
      mounted_ = true;
    } else {
      error_ = std::string("mount -t tmpfs ") + dir_ + ": " + std::strerror(errno);
    }
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  // Writes a filler file until the file system refuses another byte.
  void Fill() const {
    const std::string path = dir_ + "/" + kFiller;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
    const std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    const int err = errno;
    ::close(fd);
    ASSERT_EQ(ENOSPC, err) << "filling " << path << ": " << std::strerror(err);
  }
  void Free() const { ASSERT_EQ(0, ::unlink((dir_ + "/" + kFiller).c_str())) << std::strerror(errno); }

 private:
  const std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Moves a stopped node's data directory onto a fresh tmpfs mounted in its place.
void MoveOntoTmpfs(const KvnodeProcess& node, std::unique_ptr<Tmpfs>* disk) {
  namespace fs = std::filesystem;
  const std::string saved = node.data_dir() + ".saved";
  fs::rename(node.data_dir(), saved);
  *disk = std::make_unique<Tmpfs>(node.data_dir());
  if (!(*disk)->mounted()) return;
  fs::copy(saved, node.data_dir(), fs::copy_options::recursive);
  fs::remove_all(saved);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Refusal(const KvnodeProcess& node) {
  return "this node's disk is full (" + node.data_dir() + "): it serves reads only";
}

// The problems of reading every pair from node's own replica ("" when none).
std::string CheckLocal(KvClient& client, const std::map<std::string, std::string>& pairs) {
  std::string problems;
  for (const auto& [key, value] : pairs) {
    auto get = client.GetLocal(key);
    if (!get.ok()) {
      problems += "  " + key + ": " + get.status().ToString() + "\n";
    } else if (get->values() != std::vector<std::string>{value}) {
      problems += "  " + key + ": not the acknowledged value\n";
    }
  }
  return problems;
}

bool ReadOnly(KvClient& client) { return StatsCounter(client, "disk_read_only") == 1; }

void ExpectRefused(KvClient& client, const KvnodeProcess& node, const std::string& key) {
  auto put = client.Put(key, "refused");
  ASSERT_FALSE(put.ok()) << key << " was written on a full disk";
  EXPECT_TRUE(put.status().IsNoSpace()) << put.status().ToString();
  EXPECT_EQ(Refusal(node), put.status().message());
}

class ClusterDiskFullTest : public ::testing::Test {
 protected:
  void Put(KvClient& client, const std::string& prefix, int count, uint8_t w) {
    for (int i = 0; i < count; i++) {
      auto put = client.Put(Key(prefix, i), Value(prefix, i), w);
      ASSERT_TRUE(put.ok()) << Key(prefix, i) << ": " << put.status().ToString();
      acked_[Key(prefix, i)] = Value(prefix, i);
    }
  }

  std::map<std::string, std::string> acked_;
};

TEST_F(ClusterDiskFullTest, ANodeRestartedOnAFullDiskServesReadsRefusesWritesAndRecoversWhenSpaceReturns) {
  if (::geteuid() != 0) GTEST_SKIP() << "full-disk test skipped: mounting a tmpfs needs root";
  Cluster cluster({.nodes = 3, .n = 3});
  KV_ASSERT_OK(cluster.Start());
  KvnodeProcess& n3 = cluster.node(2);
  KV_ASSERT_OK(n3.Terminate());
  std::unique_ptr<Tmpfs> disk;  // n3's data directory; unmounted before the cluster's directory goes
  MoveOntoTmpfs(n3, &disk);
  if (!disk->mounted()) GTEST_SKIP() << "full-disk test skipped: " << disk->error();
  KV_ASSERT_OK(n3.Restart());
  KV_ASSERT_OK(cluster.WaitUntilConnected());
  KvClient& c3 = cluster.client(2);
  Put(cluster.client(0), "before", 100, kAll);  // every replica, n3 included, acknowledged these

  disk->Fill();
  n3.Kill();
  KV_ASSERT_OK(n3.Restart());  // today's failure: "NoSpace: write DATA/node_state"
  ASSERT_TRUE(ReadOnly(c3));
  const std::string log = ReadFile(n3.log_path());
  EXPECT_NE(std::string::npos, log.find("this node is now read-only")) << n3.LogTail();
  EXPECT_NE(std::string::npos, log.find(n3.data_dir() + "/node_state")) << n3.LogTail();
  EXPECT_EQ("", CheckLocal(c3, acked_)) << "n3's own replica after the restart";
  EXPECT_EQ("", CheckReadable(c3, acked_, kOne)) << "n3 coordinating at R=1";
  EXPECT_EQ("", CheckReadable(c3, acked_, kQuorum)) << "n3 coordinating at R=2";
  ExpectRefused(c3, n3, "to-n3");

  Put(cluster.client(0), "while-full", 50, kTwo);  // n1 and n2 take them; n1 keeps hints for n3
  EXPECT_GT(StatsCounter(cluster.client(0), "hints_pending{n3}"), 0);

  disk->Free();
  const uint64_t freed_ms = NowMs();
  EXPECT_TRUE(WaitFor([&] { return !ReadOnly(c3); }, kSpaceBackMs)) << n3.LogTail();
  const uint64_t writable_ms = NowMs() - freed_ms;
  EXPECT_NE(std::string::npos, ReadFile(n3.log_path()).find("has room again")) << n3.LogTail();
  Put(c3, "after", 20, kTwo);  // n3 coordinates again
  std::string problems;
  EXPECT_TRUE(WaitFor([&] { return (problems = CheckLocal(c3, acked_)).empty(); }, kSpaceBackMs))
      << "hints not replayed to n3:\n" << problems;
  std::printf("full disk: n3 writable %llu ms after space returned; its 50 hints replayed by %llu ms\n",
              static_cast<unsigned long long>(writable_ms), static_cast<unsigned long long>(NowMs() - freed_ms));
  EXPECT_TRUE(WaitFor([&] { return StatsCounter(cluster.client(0), "hints_pending{n3}") <= 0; }, kSpaceBackMs));
  for (size_t i = 0; i < cluster.size(); i++) {
    EXPECT_EQ("", CheckReadable(cluster.client(i), acked_, kAll)) << "via " << cluster.node(i).id();
  }
  n3.Kill();  // and what n3 took once space was back survives a crash
  KV_ASSERT_OK(n3.Restart());
  EXPECT_EQ("", CheckLocal(cluster.client(2), acked_));
}

TEST_F(ClusterDiskFullTest, ASingleNodeWhoseDiskFillsWhileRunningTurnsReadOnlySurvivesARestartAndRecovers) {
  if (::geteuid() != 0) GTEST_SKIP() << "full-disk test skipped: mounting a tmpfs needs root";
  TempDir dir;
  Tmpfs disk(dir.Sub("n1"));
  if (!disk.mounted()) GTEST_SKIP() << "full-disk test skipped: " << disk.error();
  KvnodeProcess node(dir.path(), KvnodeOptions{});
  KV_ASSERT_OK(node.Start());
  KvClient client(node.address());
  Put(client, "before", 100, kOne);

  disk.Fill();
  // The first write that needs the disk fails with the engine's error (inside
  // "quorum not reached: 0 of 1 write acks"); from then on the node refuses
  // writes with its own, and serves every read.
  base::Status first;
  for (int i = 0; i < 1000 && first.ok(); i++) {
    auto put = client.Put(Key("filling", i), std::string(1000, 'v'));
    if (put.ok()) acked_[Key("filling", i)] = std::string(1000, 'v');
    first = put.status();
  }
  ASSERT_NE(std::string::npos, first.message().find("No space left on device")) << first.ToString();
  EXPECT_TRUE(ReadOnly(client));
  ExpectRefused(client, node, "refused");
  EXPECT_EQ("", CheckReadable(client, acked_, kOne));

  node.Kill();
  KV_ASSERT_OK(node.Restart());
  KvClient again(node.address());
  EXPECT_TRUE(ReadOnly(again));
  EXPECT_EQ("", CheckReadable(again, acked_, kOne));
  ExpectRefused(again, node, "refused-after-restart");

  disk.Free();
  EXPECT_TRUE(WaitFor([&] { return !ReadOnly(again); }, kSpaceBackMs)) << node.LogTail();
  Put(again, "after", 20, kOne);
  auto code = node.Terminate();  // a clean stop once space is back: flushed and synced
  KV_ASSERT_OK(code);
  EXPECT_EQ(0, code.value()) << node.LogTail();
  KV_ASSERT_OK(node.Restart());
  KvClient last(node.address());
  EXPECT_EQ("", CheckReadable(last, acked_, kOne));
  EXPECT_EQ(0, StatsCounter(last, "disk_read_only"));
}

}  // namespace
}  // namespace kvring::test
