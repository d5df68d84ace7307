// Crash tests with real processes: a forked child writes with sync=always from
// several threads and reports each acknowledged key through a pipe; the parent
// SIGKILLs it at a random moment, reopens the DB and checks that every
// acknowledged key is there and that every key present holds exactly what was
// written (nothing torn or corrupt), and that the Merkle index equals a
// computation from scratch over the recovered data.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "base/random.h"
#include "lsm/engine.h"
#include "lsm/merkle_index.h"
#include "test/lsm/db_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

constexpr int kKeysPerRound = 1000000;
constexpr int kChildThreads = 4;

std::string ValueFor(int index) {
  std::string v = "value-" + std::to_string(index) + "-";
  v.resize(100 + index % 50, static_cast<char>('a' + index % 26));
  return v;
}

Options CrashOptions() {
  Options o;
  o.sync_mode = SyncMode::kAlways;
  o.memtable_bytes = 64 << 10;  // flushes and compactions happen while we kill
  o.target_file_bytes = 64 << 10;
  o.max_bytes_level1 = 256 << 10;
  o.block_cache_bytes = 1 << 20;
  o.merkle.leaf_bits = 8;
  return o;
}

// Split points every 1,000 keys of a round (a key's prefix is "key" and its
// first five digits), so the round's keys spread over many leaves.
std::vector<uint64_t> CrashSplits(int first) {
  std::vector<uint64_t> splits;
  for (int m = 0; m < 200; m++) splits.push_back(MerkleIndex::KeyPrefix(test::Key(first + m * 1000)));
  return splits;
}

// The child: writes keys first + t, first + t + kChildThreads, ... and reports
// each acknowledged index. Never returns.
[[noreturn]] void RunChild(const std::string& dir, int first, int fd) {
  std::unique_ptr<DB> db;
  if (!DB::Open(CrashOptions(), dir, &db).ok()) ::_exit(2);
  if (!db->SetMerkleSplits(CrashSplits(first)).ok()) ::_exit(5);
  // Recomputes leaves amid the writes, so flushes persist clean leaves.
  std::thread recompute([&] {
    std::vector<MerkleLeaf> leaves;
    while (true) {
      if (!db->MerkleLeaves(0, 0, &leaves).ok()) ::_exit(6);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  recompute.detach();  // runs until the kill (or _exit)
  std::vector<std::thread> threads;
  for (int t = 0; t < kChildThreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = first + t; i < first + kKeysPerRound; i += kChildThreads) {
        if (!db->Put(WriteOptions(), test::Key(i), ValueFor(i)).ok()) ::_exit(3);
        if (::write(fd, &i, sizeof(i)) != sizeof(i)) ::_exit(4);  // atomic: < PIPE_BUF
      }
    });
  }
  for (auto& t : threads) t.join();
  ::_exit(0);
}

// Reads every index the child reported until the pipe is empty and closed, or
// until deadline when the child still runs.
void DrainAcks(int fd, std::set<int>* acked, bool until_eof, int min_acks,
               std::chrono::steady_clock::time_point deadline) {
  size_t start = acked->size();
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int timeout = until_eof ? 1000 : 1;
    if (::poll(&p, 1, timeout) <= 0) {
      if (until_eof) continue;
      if (acked->size() - start >= static_cast<size_t>(min_acks) && std::chrono::steady_clock::now() >= deadline) {
        return;
      }
      continue;
    }
    int index;
    ssize_t n = ::read(fd, &index, sizeof(index));
    if (n == 0) return;  // EOF: the child is gone
    ASSERT_EQ(static_cast<ssize_t>(sizeof(index)), n);
    acked->insert(index);
    if (!until_eof && acked->size() - start >= static_cast<size_t>(min_acks) &&
        std::chrono::steady_clock::now() >= deadline) {
      return;
    }
  }
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkillAtRandomMoments) {
  kvring::test::TempDir dir;
  const std::string db_dir = dir.Sub("db");
  base::Random rnd(kvring::test::TestSeed("CrashTest.AcknowledgedWritesSurviveSigkillAtRandomMoments"));
  std::set<int> acked;
  const int kills = 50 * test::TestScale();
  for (int round = 0; round < kills; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(0, ::pipe(fds));
    const int first = round * kKeysPerRound;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(db_dir, first, fds[1]);
    }
    ::close(fds[1]);
    // Let it run for a random while (and at least a few acknowledged writes).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(rnd.Range(1, 40));
    DrainAcks(fds[0], &acked, false, static_cast<int>(rnd.Range(1, 20)), deadline);
    ::kill(pid, SIGKILL);
    DrainAcks(fds[0], &acked, true, 0, deadline);  // acks written before the kill
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(pid, ::waitpid(pid, &status, 0));
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with status " << WEXITSTATUS(status);

    std::unique_ptr<DB> db;
    base::Status s = DB::Open(CrashOptions(), db_dir, &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (int index : acked) {
      if (index < first) continue;  // checked in earlier rounds, and below by the scan
      ASSERT_EQ(ValueFor(index), test::Get(db.get(), test::Key(index))) << "acknowledged key " << index;
    }
    // Nothing present is torn or foreign: every key holds exactly its value.
    size_t present = 0;
    auto it = db->NewIterator(ReadOptions());
    for (it->SeekToFirst(); it->Valid(); it->Next(), present++) {
      int index = std::stoi(std::string(it->key().substr(3)));
      ASSERT_EQ(ValueFor(index), it->value()) << it->key();
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_GE(present, acked.size());
    ASSERT_EQ("", test::CheckMerkleLeaves(db.get(), test::Dump(db.get())));
    if (round + 1 == kills) {
      // The kills also hit flushes and compactions: data reached the tables.
      std::fprintf(stderr, "%zu acknowledged writes over %d kills; files per level %s\n", acked.size(), kills,
                   test::FilesPerLevel(db.get()).c_str());
      EXPECT_NE("", test::FilesPerLevel(db.get()));
    }
  }
}

}  // namespace
}  // namespace kvring::lsm
