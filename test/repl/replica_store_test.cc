// repl/replica_store's MergeBatch: each key merged as Merge would (concurrent
// versions kept as siblings, nothing newer overwritten), a key repeated in one
// batch, unchanged keys not rewritten, batches of many chunks, a set too large to
// read back refused, and coordinated writes racing a batch on the I/O pool
// (TSan runs this suite): every one of them survives.
#include "repl/replica_store.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/thread_pool.h"
#include "lsm/engine.h"
#include "test/repl/repl_test_util.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using base::Status;
using testing::QueueExecutor;

// A set written by `actor` alone: one sibling holding value.
SiblingSet WrittenBy(std::string_view actor, std::string_view value) {
  SiblingSet set;
  testing::BlindPut(&set, actor, value);
  return set;
}

class ReplicaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lsm::Options options;
    ASSERT_TRUE(lsm::DB::Open(options, dir_.path(), &db_).ok());
    store_ = std::make_unique<ReplicaStore>(db_.get(), &io_, "self", VersioningOptions(), /*max_set_bytes=*/64 << 10,
                                            base::SystemClock::Get(), base::Logger::Null());
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
  }

  // MergeBatch, run until it reports.
  Status MergeAll(std::vector<ReplicaStore::KeyedSet> entries, std::vector<SiblingSet>* merged = nullptr) {
    std::optional<Status> result;
    store_->MergeBatch(&ex_, std::move(entries), [&](Status s, std::vector<SiblingSet> sets) {
      result = s;
      if (merged != nullptr) *merged = std::move(sets);
    });
    EXPECT_TRUE(ex_.RunUntil([&] { return result.has_value(); }));
    return result.value_or(Status::TimedOut("MergeBatch never reported"));
  }
  // The live values of `key` here, "a,b" ("" when absent).
  std::string ValuesOf(std::string_view key) {
    std::optional<std::string> values;
    store_->Read(&ex_, key, [&](Status s, std::optional<SiblingSet> set) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      values = set ? testing::Values(*set) : "";
    });
    EXPECT_TRUE(ex_.RunUntil([&] { return values.has_value(); }));
    return values.value_or("?");
  }
  void MustMerge(std::string_view key, const SiblingSet& set) {
    std::optional<Status> result;
    store_->Merge(
        &ex_, key, set, [](Status, const SiblingSet&) {}, [&](Status s) { result = s; });
    ASSERT_TRUE(ex_.RunUntil([&] { return result.has_value(); }));
    ASSERT_TRUE(result->ok()) << result->ToString();
  }

  test::TempDir dir_;
  std::unique_ptr<lsm::DB> db_;
  base::ThreadPool io_{2};
  QueueExecutor ex_;
  std::unique_ptr<ReplicaStore> store_;
};

TEST_F(ReplicaStoreTest, ABatchMergesEachKeyAsMergeWouldAndKeepsConcurrentVersions) {
  MustMerge("a", WrittenBy("n1", "one"));
  std::vector<SiblingSet> merged;
  ASSERT_TRUE(MergeAll({{"a", WrittenBy("n2", "two")}, {"b", WrittenBy("n2", "bee")}}, &merged).ok());
  EXPECT_EQ("one,two", ValuesOf("a"));  // concurrent: both kept
  EXPECT_EQ("bee", ValuesOf("b"));
  ASSERT_EQ(2u, merged.size());
  EXPECT_EQ("one,two", testing::Values(merged[0]));  // what the replica holds now
  EXPECT_EQ("bee", testing::Values(merged[1]));
  EXPECT_EQ(3u, store_->stats().writes);  // the Merge and the batch's two keys
}

TEST_F(ReplicaStoreTest, ANewerVersionReplacesWhatItSawAndAnOlderOneChangesNothing) {
  SiblingSet old_set = WrittenBy("n1", "old");
  SiblingSet newer = old_set;
  testing::BlindPut(&newer, "n1", "new");
  MustMerge("k", newer);
  ASSERT_TRUE(MergeAll({{"k", old_set}}).ok());  // a stale copy streamed late
  EXPECT_EQ("new", ValuesOf("k"));
  EXPECT_EQ(1u, store_->stats().merges_unchanged);
  EXPECT_EQ(1u, store_->stats().writes);  // not rewritten
}

TEST_F(ReplicaStoreTest, AKeyTwiceInOneBatchKeepsBothSets) {
  std::vector<SiblingSet> merged;
  ASSERT_TRUE(MergeAll({{"k", WrittenBy("n1", "x")}, {"k", WrittenBy("n2", "y")}}, &merged).ok());
  EXPECT_EQ("x,y", ValuesOf("k"));
  EXPECT_EQ("x", testing::Values(merged[0]));
  EXPECT_EQ("x,y", testing::Values(merged[1]));
}

TEST_F(ReplicaStoreTest, ABatchOfManyChunksIsMergedWhole) {
  std::vector<ReplicaStore::KeyedSet> entries;
  const size_t n = 5 * ReplicaStore::kMergeChunk + 7;
  for (size_t i = 0; i < n; i++) entries.push_back({"key" + std::to_string(i), WrittenBy("n2", std::to_string(i))});
  ASSERT_TRUE(MergeAll(std::move(entries)).ok());
  for (size_t i = 0; i < n; i++) ASSERT_EQ(std::to_string(i), ValuesOf("key" + std::to_string(i))) << i;
}

TEST_F(ReplicaStoreTest, ASetTooLargeToReadBackFailsTheBatchNamingItsKey) {
  // A merge may reach twice max_set_bytes (128 KiB here), no more.
  Status s = MergeAll({{"small", WrittenBy("n1", "ok")}, {"huge", WrittenBy("n1", std::string(200 << 10, 'v'))}});
  EXPECT_TRUE(s.IsTooLarge()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("huge")) << s.ToString();
  EXPECT_EQ("", ValuesOf("huge"));
  EXPECT_EQ(1u, store_->stats().merges_refused_size);
}

// Coordinated writes (on the executor's thread) race batches merging other
// actors' versions of the same keys on the I/O pool: the stripe locks keep every
// write of both, none overwritten by a read-modify-write that had not seen it.
TEST_F(ReplicaStoreTest, CoordinatedWritesRacingABatchLoseNothing) {
  constexpr int kKeys = 600;
  std::vector<ReplicaStore::KeyedSet> entries;
  for (int i = 0; i < kKeys; i++) entries.push_back({"k" + std::to_string(i), WrittenBy("peer", "p")});
  std::optional<Status> batch;
  store_->MergeBatch(&ex_, std::move(entries), [&](Status s, std::vector<SiblingSet>) { batch = s; });
  int durable = 0;
  for (int i = 0; i < kKeys; i++) {
    store_->Coordinate(
        &ex_, "k" + std::to_string(i), WriteKind::kPut, "c", VersionVector(), /*overwrite=*/false,
        [](Status s, const SiblingSet&) { EXPECT_TRUE(s.ok()) << s.ToString(); },
        [&](Status s) {
          EXPECT_TRUE(s.ok()) << s.ToString();
          durable++;
        });
    if (i % 50 == 0) ex_.RunQueued();
  }
  ASSERT_TRUE(ex_.RunUntil([&] { return batch.has_value() && durable == kKeys; }));
  ASSERT_TRUE(batch->ok()) << batch->ToString();
  for (int i = 0; i < kKeys; i++) {
    const std::string values = ValuesOf("k" + std::to_string(i));
    ASSERT_TRUE(values == "c,p" || values == "p,c") << "k" << i << ": " << values;
  }
}

}  // namespace
}  // namespace kvring::repl
