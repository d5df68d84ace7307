// A randomized model test: thousands of random operations on a DB and on a
// std::map, compared after every read. Seeded (KV_SEED replays a run). The
// Merkle index is on: its leaves are compared with a computation from scratch
// over the model, and its split points change at random.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/fault_env.h"
#include "base/random.h"
#include "lsm/engine.h"
#include "lsm/merkle_index.h"
#include "test/lsm/db_test_util.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

using Model = std::map<std::string, std::string>;

class ModelTest : public ::testing::Test {
 protected:
  void Open() {
    if (db_ != nullptr) {
      Stats s = db_->GetStats();
      flushes_ += s.flushes;
      compactions_ += s.compactions;
    }
    db_.reset();
    base::Status s = DB::Open(options_, "/db", &db_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string RandomKey() {
    // A small key space so overwrites, deletes and hidden versions are common;
    // some keys share long prefixes.
    int k = static_cast<int>(rnd_->Uniform(300));
    // Short keys ("123") spread over the Merkle leaves and are zero-padded.
    if (k % 5 == 1) return test::Key(k).substr(8);
    return (k % 3 == 0 ? "common-prefix-" : "") + test::Key(k);
  }

  // The index's leaves (all of them, or a random interval) against the model.
  void CheckMerkle(const Model& model) {
    uint64_t begin = 0, end = 0;
    if (rnd_->OneIn(2)) {
      begin = MerkleIndex::KeyPrefix(RandomKey()) + rnd_->Uniform(3);
      end = rnd_->OneIn(4) ? 0 : MerkleIndex::KeyPrefix(RandomKey()) + rnd_->Uniform(3);
      if (end != 0 && end < begin) std::swap(begin, end);
    }
    ASSERT_EQ("", test::CheckMerkleLeaves(db_.get(), model, begin, end));
  }

  // Split points at random keys' prefixes (some exactly, some just past).
  void RandomSplits() {
    std::vector<uint64_t> splits;
    for (int i = 0, n = static_cast<int>(rnd_->Uniform(20)); i < n; i++) {
      splits.push_back(MerkleIndex::KeyPrefix(RandomKey()) + rnd_->Uniform(2));
    }
    ASSERT_TRUE(db_->SetMerkleSplits(splits).ok());
  }

  // Compares a full or bounded scan from `start` against the model.
  void CheckScan(const Model& model, const Snapshot* snapshot, const std::string& start, const std::string* upper) {
    ReadOptions ro;
    ro.snapshot = snapshot;
    ro.upper_bound = upper;
    auto it = db_->NewIterator(ro);
    auto m = model.lower_bound(start);
    if (start.empty()) it->SeekToFirst(); else it->Seek(start);
    for (; it->Valid(); it->Next(), ++m) {
      ASSERT_TRUE(m != model.end() && (upper == nullptr || m->first < *upper)) << "extra key " << it->key();
      ASSERT_EQ(m->first, it->key());
      ASSERT_EQ(m->second, it->value());
    }
    ASSERT_TRUE(it->status().ok()) << it->status().ToString();
    ASSERT_TRUE(m == model.end() || (upper != nullptr && m->first >= *upper)) << "missing key " << m->first;
  }

  base::FaultEnv env_;
  Options options_;
  std::unique_ptr<base::Random> rnd_;
  std::unique_ptr<DB> db_;
  uint64_t flushes_ = 0;      // over every open so far
  uint64_t compactions_ = 0;
};

TEST_F(ModelTest, RandomOperationsMatchAMapModel) {
  const uint64_t seed = kvring::test::TestSeed("ModelTest.RandomOperationsMatchAMapModel");
  rnd_ = std::make_unique<base::Random>(seed);
  options_ = test::SmallOptions(&env_);
  options_.memtable_bytes = 16 << 10;
  options_.target_file_bytes = 16 << 10;
  options_.max_bytes_level1 = 64 << 10;
  options_.block_cache_bytes = 64 << 10;
  options_.merkle.leaf_bits = 8;
  Open();

  Model model;
  std::vector<std::pair<const Snapshot*, Model>> snapshots;
  const int steps = 20000 * test::TestScale();
  for (int step = 0; step < steps; step++) {
    SCOPED_TRACE("step " + std::to_string(step) + " seed " + std::to_string(seed));
    const uint64_t op = rnd_->Uniform(1000);
    if (op < 400) {
      std::string k = RandomKey(), v = rnd_->RandomString(rnd_->Uniform(300));
      ASSERT_TRUE(db_->Put(WriteOptions(), k, v).ok());
      model[k] = v;
    } else if (op < 550) {
      std::string k = RandomKey();
      ASSERT_TRUE(db_->Delete(WriteOptions(), k).ok());
      model.erase(k);
    } else if (op < 600) {
      WriteBatch batch;
      Model after = model;
      for (int i = 0, n = static_cast<int>(rnd_->Range(1, 10)); i < n; i++) {
        std::string k = RandomKey();
        if (rnd_->OneIn(3)) {
          batch.Delete(k);
          after.erase(k);
        } else {
          std::string v = rnd_->RandomString(rnd_->Uniform(100));
          batch.Put(k, v);
          after[k] = v;
        }
      }
      ASSERT_TRUE(db_->Write(WriteOptions(), &batch).ok());
      model = std::move(after);
    } else if (op < 620) {
      CheckMerkle(model);
    } else if (op < 625) {
      RandomSplits();
    } else if (op < 800) {
      std::string k = RandomKey();
      auto it = model.find(k);
      ASSERT_EQ(it == model.end() ? "NOT_FOUND" : it->second, test::Get(db_.get(), k)) << k;
    } else if (op < 850) {
      std::string start = rnd_->OneIn(4) ? "" : RandomKey();
      std::string upper = RandomKey();
      CheckScan(model, nullptr, start, rnd_->OneIn(2) ? &upper : nullptr);
    } else if (op < 870) {
      if (snapshots.size() < 5) snapshots.emplace_back(db_->GetSnapshot(), model);
    } else if (op < 890) {
      if (!snapshots.empty()) {
        size_t i = rnd_->Uniform(snapshots.size());
        db_->ReleaseSnapshot(snapshots[i].first);
        snapshots.erase(snapshots.begin() + static_cast<long>(i));
      }
    } else if (op < 950) {
      if (!snapshots.empty()) {
        auto& [snap, snap_model] = snapshots[rnd_->Uniform(snapshots.size())];
        std::string k = RandomKey();
        auto it = snap_model.find(k);
        ASSERT_EQ(it == snap_model.end() ? "NOT_FOUND" : it->second, test::Get(db_.get(), k, snap));
        if (rnd_->OneIn(4)) CheckScan(snap_model, snap, "", nullptr);
      }
    } else if (op < 970) {
      ASSERT_TRUE(db_->Flush().ok());
    } else if (op < 985) {
      std::string a = RandomKey(), b = RandomKey();
      if (b < a) std::swap(a, b);
      ASSERT_TRUE(db_->CompactRange(rnd_->OneIn(3) ? nullptr : &a, rnd_->OneIn(3) ? nullptr : &b).ok());
    } else {
      for (auto& [snap, m] : snapshots) db_->ReleaseSnapshot(snap);
      snapshots.clear();
      Open();
      ASSERT_EQ("", test::CheckMerkleLeaves(db_.get(), model));
    }
  }
  CheckScan(model, nullptr, "", nullptr);
  ASSERT_EQ("", test::CheckMerkleLeaves(db_.get(), model));
  for (auto& [snap, m] : snapshots) {
    CheckScan(m, snap, "", nullptr);
    db_->ReleaseSnapshot(snap);
  }
  Open();  // adds the last open's counters
  EXPECT_GT(flushes_, 10u);
  EXPECT_GT(compactions_, 0u);
}

}  // namespace
}  // namespace kvring::lsm
