// test/lsm/db_merkle_test.cc — the engine's Merkle index through the DB API:
// exact leaves after writes, flushes and compactions; clean leaves answered
// without reading data; persistence across reopen; a damaged, missing or
// mismatched index file; split changes and clipped intervals; a writer racing
// recomputes.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/fault_env.h"
#include "base/hash.h"
#include "base/random.h"
#include "lsm/engine.h"
#include "lsm/merkle_index.h"
#include "test/lsm/db_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using Data = std::map<std::string, std::string>;

// A key whose first 8 bytes spread over the whole prefix space.
std::string SpreadKey(uint64_t i) {
  std::string key(8, '\0');
  base::EncodeBigEndian64(key.data(), base::Mix64(i + 1));
  return key + "-" + std::to_string(i);
}

class MerkleDBTest : public ::testing::Test {
 protected:
  MerkleDBTest() {
    options_ = test::SmallOptions(&env_);
    options_.merkle.leaf_bits = 6;
  }

  void Open() {
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(WriteOptions(), key, value).ok());
    data_[key] = value;
  }

  void Delete(const std::string& key) {
    ASSERT_TRUE(db_->Delete(WriteOptions(), key).ok());
    data_.erase(key);
  }

  void Fill(int n, const std::string& tag) {
    for (int i = 0; i < n; i++) Put(SpreadKey(static_cast<uint64_t>(i)), tag + std::to_string(i));
  }

  // Every leaf of the index equals a computation from scratch.
  void ExpectExact() { EXPECT_EQ("", test::CheckMerkleLeaves(db_.get(), data_)); }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<DB> db_;
  Data data_;
};

TEST_F(MerkleDBTest, NotSupportedWithoutAnIndex) {
  options_.merkle.leaf_bits = 0;
  Open();
  std::vector<MerkleLeaf> leaves;
  EXPECT_TRUE(db_->MerkleLeaves(0, 0, &leaves).code() == base::Status::Code::kNotSupported);
  EXPECT_TRUE(db_->SetMerkleSplits({1}).code() == base::Status::Code::kNotSupported);
}

TEST_F(MerkleDBTest, LeavesAreExactAfterWritesFlushesAndCompactions) {
  Open();
  std::vector<MerkleLeaf> leaves;
  ASSERT_TRUE(db_->MerkleLeaves(0, 0, &leaves).ok());
  ASSERT_EQ(64u, leaves.size());
  for (const MerkleLeaf& leaf : leaves) EXPECT_EQ(0u, leaf.keys);  // empty DB
  Fill(2000, "a");
  ExpectExact();
  ASSERT_TRUE(db_->Flush().ok());
  for (int i = 0; i < 2000; i += 3) Delete(SpreadKey(static_cast<uint64_t>(i)));
  for (int i = 1; i < 2000; i += 7) Put(SpreadKey(static_cast<uint64_t>(i)), "b");
  ExpectExact();
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  ExpectExact();
  EXPECT_EQ(0u, db_->GetStats().merkle_dirty_leaves);
  const std::string text = db_->GetStats().ToString();
  EXPECT_NE(std::string::npos, text.find("merkle: 64 leaves (0 dirty)")) << text;
}

TEST_F(MerkleDBTest, CleanLeavesAreAnsweredWithoutReadingData) {
  Open();
  Fill(3000, "v");
  ASSERT_TRUE(db_->Flush().ok());
  ASSERT_TRUE(db_->CompactRange(nullptr, nullptr).ok());
  ExpectExact();  // recomputes every leaf once
  const Stats before = db_->GetStats();
  EXPECT_GT(before.merkle_keys_scanned, 0u);
  EXPECT_GT(before.data_blocks_read, 0u);
  ExpectExact();
  const Stats after = db_->GetStats();
  EXPECT_EQ(before.merkle_keys_scanned, after.merkle_keys_scanned);
  EXPECT_EQ(before.data_blocks_read, after.data_blocks_read);
  EXPECT_EQ(before.block_cache_hits + before.block_cache_misses, after.block_cache_hits + after.block_cache_misses);
  // One write dirties one leaf: only it is scanned.
  Put(SpreadKey(5), "new");
  ExpectExact();
  const Stats one = db_->GetStats();
  EXPECT_EQ(after.merkle_leaves_recomputed + 1, one.merkle_leaves_recomputed);
  EXPECT_LT(one.merkle_keys_scanned - after.merkle_keys_scanned, 3000u / 64 * 3);
}

TEST_F(MerkleDBTest, ReopenWithTheFileAnswersWithoutScanning) {
  Open();
  Fill(2000, "v");
  ASSERT_TRUE(db_->Flush().ok());
  Fill(500, "w");  // in the WAL only at close
  ExpectExact();
  Open();  // Close persists the index
  EXPECT_EQ(0u, db_->GetStats().merkle_dirty_leaves);
  ExpectExact();
  EXPECT_EQ(0u, db_->GetStats().merkle_keys_scanned);
  EXPECT_EQ(0u, db_->GetStats().data_blocks_read);
  // Writes after the reopen dirty their leaves again, and flushes persist.
  Put(SpreadKey(7), "x");
  Delete(SpreadKey(8));
  EXPECT_GE(db_->GetStats().merkle_dirty_leaves, 1u);
  ASSERT_TRUE(db_->Flush().ok());
  EXPECT_GT(db_->GetStats().merkle_bytes_persisted, 0u);
  ExpectExact();
  Open();
  ExpectExact();
}

TEST_F(MerkleDBTest, WritesOnlyInTheWalAreDirtyAfterACrash) {
  Open();
  Fill(1000, "v");
  ASSERT_TRUE(db_->Flush().ok());  // persists the index (all dirty: nothing recomputed yet)
  ExpectExact();
  ASSERT_TRUE(db_->Flush().ok());  // nothing to flush: the file stays as it was
  Put(SpreadKey(3), "after");      // only in the WAL
  ASSERT_TRUE(db_->SyncWal().ok());
  // A crash: the destructor must not persist, so hand the DB's files over as
  // they are now (the synced WAL and the index written by the last flush).
  env_.CrashAfterOps(0);
  db_.reset();
  env_.SimulatePowerLoss();
  Open();
  ExpectExact();
}

void Damage(base::FaultEnv* env, const std::string& how) {
  const std::string path = "/db/MERKLE";
  std::string data;
  ASSERT_TRUE(env->ReadRaw(path, &data).ok());
  if (how == "missing") {
    ASSERT_TRUE(env->RemoveFile(path).ok());
  } else if (how == "corrupt") {
    data[data.size() / 2] ^= 0x40;
    ASSERT_TRUE(env->WriteRaw(path, data).ok());
  } else if (how == "truncated") {
    ASSERT_TRUE(env->WriteRaw(path, data.substr(0, data.size() - 10)).ok());
  }
}

TEST_F(MerkleDBTest, ADamagedMissingOrMismatchedFileMeansEveryLeafDirtyYetExact) {
  for (const std::string how : {"missing", "corrupt", "truncated", "leaf_bits"}) {
    SCOPED_TRACE(how);
    options_.merkle.leaf_bits = 6;
    Open();
    Fill(1500, how);
    ExpectExact();
    db_.reset();  // persists a clean index
    Damage(&env_, how);
    if (how == "leaf_bits") options_.merkle.leaf_bits = 7;
    Open();
    const Stats s = db_->GetStats();
    EXPECT_EQ(s.merkle_leaves, s.merkle_dirty_leaves);
    ExpectExact();
    EXPECT_GT(db_->GetStats().merkle_keys_scanned, 0u);
    EXPECT_EQ(0u, db_->GetStats().merkle_dirty_leaves);
  }
}

TEST_F(MerkleDBTest, SplitsChangeTheBoundsAndResultsStayExact) {
  Open();
  Fill(2000, "v");
  ExpectExact();
  const std::vector<uint64_t> splits = {0x0123456789abcdefull, 0x0123456789abcdefull, 0x8000000000000001ull, 5};
  ASSERT_TRUE(db_->SetMerkleSplits(splits).ok());
  std::vector<MerkleLeaf> leaves;
  ASSERT_TRUE(db_->MerkleLeaves(0, 0, &leaves).ok());
  EXPECT_EQ(64u + 3, leaves.size());
  // Only the leaves cut by a split were recomputed (2 leaves cut into 5).
  EXPECT_EQ(64u + 5, db_->GetStats().merkle_leaves_recomputed);
  ExpectExact();
  bool found = false;
  for (const MerkleLeaf& leaf : leaves) found |= leaf.begin == 0x8000000000000001ull;
  EXPECT_TRUE(found);
  // Persisted with the index.
  Open();
  ASSERT_TRUE(db_->MerkleLeaves(0, 0, &leaves).ok());
  EXPECT_EQ(64u + 3, leaves.size());
  ExpectExact();
  ASSERT_TRUE(db_->SetMerkleSplits({}).ok());
  ExpectExact();
}

TEST_F(MerkleDBTest, AnIntervalOffTheBoundariesClipsItsEndLeaves) {
  Open();
  Fill(2000, "v");
  const uint64_t step = 1ull << 58;
  for (auto [begin, end] : std::vector<std::pair<uint64_t, uint64_t>>{
           {step / 3, step * 5 + 17}, {step * 2, step * 3}, {step * 63 + 9, 0}, {7, 9}, {0, step / 2}}) {
    EXPECT_EQ("", test::CheckMerkleLeaves(db_.get(), data_, begin, end)) << begin << " " << end;
  }
  std::vector<MerkleLeaf> leaves;
  ASSERT_TRUE(db_->MerkleLeaves(step * 3, step * 3, &leaves).ok());
  EXPECT_TRUE(leaves.empty());
  // Only whole leaves were stored (1-4); a clipped part never stands for its leaf.
  EXPECT_EQ(4u, db_->GetStats().merkle_leaves_recomputed);
  EXPECT_EQ(60u, db_->GetStats().merkle_dirty_leaves);
  ExpectExact();
}

TEST_F(MerkleDBTest, TheDigestDecidesWhatIsIndexed) {
  // Values starting with "t" (a tombstone set, say) are left out of the index.
  options_.merkle.digest = [](std::string_view, std::string_view value, uint64_t* digest) {
    if (!value.empty() && value[0] == 't') return false;
    *digest = base::Hash64(value);
    return true;
  };
  Open();
  Fill(500, "v");
  for (int i = 0; i < 500; i += 2) Put(SpreadKey(static_cast<uint64_t>(i)), "tomb");
  Data indexed;
  for (const auto& [k, v] : data_) {
    if (v[0] != 't') indexed[k] = v;
  }
  EXPECT_EQ("", test::CheckMerkleLeaves(db_.get(), indexed));
  uint64_t keys = 0;
  std::vector<MerkleLeaf> leaves;
  ASSERT_TRUE(db_->MerkleLeaves(0, 0, &leaves).ok());
  for (const MerkleLeaf& leaf : leaves) keys += leaf.keys;
  EXPECT_EQ(250u, keys);
}

// Two writers and a thread recomputing every leaf in a loop; after each phase
// (writers stopped) every leaf must equal a scan: a recompute that stored a
// hash missing a concurrent write would show as a clean, wrong leaf.
TEST_F(MerkleDBTest, ConcurrentWritersNeverLeaveACleanLeafWrong) {
  options_.memtable_bytes = 32 << 10;
  Open();
  std::vector<Data> written(2);
  const uint64_t seed = kvring::test::TestSeed("MerkleDBTest.ConcurrentWritersNeverLeaveACleanLeafWrong");
  for (int phase = 0; phase < 4 * test::TestScale(); phase++) {
    SCOPED_TRACE("phase " + std::to_string(phase));
    std::atomic<int> running{2};
    std::vector<std::thread> writers;
    for (int t = 0; t < 2; t++) {
      writers.emplace_back([&, t] {
        base::Random rnd(seed + static_cast<uint64_t>(phase * 2 + t));
        for (int i = 0; i < 8000; i++) {
          // Each thread owns the keys congruent to t mod 2: `written` needs no lock.
          const std::string key = SpreadKey(rnd.Uniform(300) * 2 + static_cast<uint64_t>(t));
          const std::string value = std::to_string(phase) + "." + std::to_string(i);
          const bool del = rnd.OneIn(4);
          const base::Status s = del ? db_->Delete(WriteOptions(), key) : db_->Put(WriteOptions(), key, value);
          EXPECT_TRUE(s.ok()) << s.ToString();
          if (del) written[t].erase(key); else written[t][key] = value;
        }
        running--;
      });
    }
    std::vector<MerkleLeaf> leaves;
    int rounds = 0;
    for (; running.load() > 0; rounds++) {
      ASSERT_TRUE(db_->MerkleLeaves(0, 0, &leaves).ok());
      if (rounds % 50 == 0) {
        ASSERT_TRUE(db_->Flush().ok());
      }
    }
    for (auto& w : writers) w.join();
    EXPECT_GT(rounds, 10);
    data_.clear();
    for (const Data& d : written) data_.insert(d.begin(), d.end());
    ExpectExact();
  }
  Open();
  ExpectExact();
}

}  // namespace
}  // namespace kvring::lsm
