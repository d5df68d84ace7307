#include "lsm/memtable.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/random.h"
#include "lsm/write_batch.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

class MemTableTest : public ::testing::Test {
 protected:
  ~MemTableTest() override { mem_->Unref(); }

  std::string Get(std::string_view key, SequenceNumber seq) {
    LookupKey lk(key, seq);
    std::string value;
    switch (mem_->Get(lk, &value)) {
      case MemTable::GetResult::kAbsent: return "ABSENT";
      case MemTable::GetResult::kDeleted: return "DELETED";
      case MemTable::GetResult::kFound: return value;
    }
    return "?";
  }

  MemTable* mem_ = new MemTable();
};

TEST_F(MemTableTest, GetSeesNewestVersionAtOrBelowTheSnapshot) {
  mem_->Add(1, ValueKind::kValue, "k", "v1");
  mem_->Add(3, ValueKind::kValue, "k", "v3");
  mem_->Add(5, ValueKind::kDeletion, "k", "");
  mem_->Add(7, ValueKind::kValue, "k", "v7");
  EXPECT_EQ("ABSENT", Get("k", 0));
  EXPECT_EQ("v1", Get("k", 1));
  EXPECT_EQ("v1", Get("k", 2));
  EXPECT_EQ("v3", Get("k", 4));
  EXPECT_EQ("DELETED", Get("k", 5));
  EXPECT_EQ("DELETED", Get("k", 6));
  EXPECT_EQ("v7", Get("k", kMaxSequenceNumber));
  EXPECT_EQ("ABSENT", Get("j", kMaxSequenceNumber));
  EXPECT_EQ("ABSENT", Get("kk", kMaxSequenceNumber));
  EXPECT_EQ(4u, mem_->num_entries());
}

TEST_F(MemTableTest, LongKeysUseTheHeapLookupPath) {
  std::string key(1000, 'q');
  mem_->Add(1, ValueKind::kValue, key, "big");
  EXPECT_EQ("big", Get(key, 10));
}

TEST_F(MemTableTest, IteratorYieldsInternalKeysInOrder) {
  mem_->Add(2, ValueKind::kValue, "b", "b2");
  mem_->Add(1, ValueKind::kValue, "a", "a1");
  mem_->Add(3, ValueKind::kDeletion, "b", "");
  auto it = mem_->NewIterator();
  it->SeekToFirst();
  std::vector<std::string> got;
  for (; it->Valid(); it->Next()) {
    ParsedInternalKey p;
    ASSERT_TRUE(ParseInternalKey(it->key(), &p));
    got.push_back(std::string(p.user_key) + "@" + std::to_string(p.sequence) + "=" + std::string(it->value()));
  }
  EXPECT_EQ((std::vector<std::string>{"a@1=a1", "b@3=", "b@2=b2"}), got);
  it->Seek(MakeLookupKey("b", 2));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("b2", it->value());
}

TEST_F(MemTableTest, IteratorKeepsTheMemTableAlive) {
  mem_->Add(1, ValueKind::kValue, "a", "1");
  auto it = mem_->NewIterator();
  MemTable* other = mem_;
  other->Ref();
  other->Unref();  // still referenced by the fixture and the iterator
  it->SeekToFirst();
  EXPECT_TRUE(it->Valid());
}

TEST_F(MemTableTest, AddBatchRepAssignsConsecutiveSequences) {
  WriteBatch b;
  b.Put("x", "1");
  b.Delete("y");
  b.Put("x", "2");
  b.set_sequence(10);
  ASSERT_TRUE(mem_->AddBatchRep(b.rep()).ok());
  EXPECT_EQ("1", Get("x", 10));
  EXPECT_EQ("DELETED", Get("y", 11));
  EXPECT_EQ("2", Get("x", 12));
  EXPECT_EQ("ABSENT", Get("y", 10));
}

TEST_F(MemTableTest, RandomOpsMatchAMapModel) {
  base::Random rnd(test::TestSeed("MemTableTest.RandomOpsMatchAMapModel"));
  std::map<std::string, std::string> model;  // "" value means deleted
  SequenceNumber seq = 0;
  for (int i = 0; i < 5000; i++) {
    std::string key = "k" + std::to_string(rnd.Uniform(300));
    if (rnd.OneIn(4)) {
      mem_->Add(++seq, ValueKind::kDeletion, key, "");
      model[key] = "";
    } else {
      std::string v = rnd.RandomString(rnd.Range(1, 50));
      mem_->Add(++seq, ValueKind::kValue, key, v);
      model[key] = v;
    }
  }
  for (int k = 0; k < 300; k++) {
    std::string key = "k" + std::to_string(k);
    auto it = model.find(key);
    std::string expected = it == model.end() ? "ABSENT" : it->second.empty() ? "DELETED" : it->second;
    EXPECT_EQ(expected, Get(key, seq)) << key;
  }
  EXPECT_GT(mem_->ApproximateMemoryUsage(), 5000u * 10);
}

}  // namespace
}  // namespace kvring::lsm

namespace kvring::lsm {
namespace {

TEST(MemTableBloom, NeverMissesAnAddedKeyAndRejectsMostOthers) {
  MemTableBloom bloom(16 << 10);  // 128 Kbit for 10,000 keys: ~13 bits per key
  for (int i = 0; i < 10000; i++) bloom.Add("present" + std::to_string(i));
  for (int i = 0; i < 10000; i++) ASSERT_TRUE(bloom.MayContain("present" + std::to_string(i))) << i;
  int false_positives = 0;
  for (int i = 0; i < 10000; i++) false_positives += bloom.MayContain("absent" + std::to_string(i)) ? 1 : 0;
  EXPECT_LT(false_positives, 300);  // < 3%
  MemTableBloom off(0);
  EXPECT_TRUE(off.MayContain("anything"));
}

TEST(MemTableBloom, MemTableWithBloomStillFindsEveryVersion) {
  MemTable* mem = new MemTable(4096);
  mem->Add(1, ValueKind::kValue, "k", "v1");
  mem->Add(2, ValueKind::kDeletion, "k", "");
  std::string value;
  EXPECT_EQ(MemTable::GetResult::kFound, mem->Get(LookupKey("k", 1), &value));
  EXPECT_EQ(MemTable::GetResult::kDeleted, mem->Get(LookupKey("k", 2), &value));
  EXPECT_EQ(MemTable::GetResult::kAbsent, mem->Get(LookupKey("other", 2), &value));
  mem->Unref();
}

}  // namespace
}  // namespace kvring::lsm
