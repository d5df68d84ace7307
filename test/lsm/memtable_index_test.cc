// Tests of the memtable's point-lookup hash index (lsm/memtable_index.h), alone
// and inside a MemTable: newest-entry lookups, snapshots older than the indexed
// entry, an index that fills up, a randomized versioned model, and readers
// running against the single writer.
#include "lsm/memtable_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/hash.h"
#include "base/random.h"
#include "lsm/memtable.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

// Entries for the bare index: a one-byte length, then the user key (followed
// by nothing: the index only reads the user key through UserKeyOf).
std::string_view RawUserKey(const char* entry) { return {entry + 1, static_cast<size_t>(entry[0])}; }

class Entries {
 public:
  const char* Make(const std::string& key, const std::string& tag) {
    auto e = std::make_unique<std::string>();
    e->push_back(static_cast<char>(key.size()));
    *e += key + tag;
    owned_.push_back(std::move(e));
    return owned_.back()->data();
  }

 private:
  std::vector<std::unique_ptr<std::string>> owned_;
};

TEST(MemTableIndex, FindsTheLastUpsertedEntryOfEachKey) {
  MemTableIndex index(64, &RawUserKey);
  Entries entries;
  const char* a1 = entries.Make("a", "1");
  const char* b1 = entries.Make("b", "1");
  const char* a2 = entries.Make("a", "2");
  ASSERT_TRUE(index.Upsert(base::Hash64("a"), "a", a1));
  ASSERT_TRUE(index.Upsert(base::Hash64("b"), "b", b1));
  EXPECT_EQ(a1, index.Find(base::Hash64("a"), "a"));
  ASSERT_TRUE(index.Upsert(base::Hash64("a"), "a", a2));
  EXPECT_EQ(a2, index.Find(base::Hash64("a"), "a"));
  EXPECT_EQ(b1, index.Find(base::Hash64("b"), "b"));
  EXPECT_EQ(nullptr, index.Find(base::Hash64("c"), "c"));
  EXPECT_EQ(2u, index.keys());
  EXPECT_FALSE(index.full());
}

TEST(MemTableIndex, KeysWithTheSameSlotAndTagAreTellApartByTheirBytes) {
  MemTableIndex index(16, &RawUserKey);
  Entries entries;
  const uint64_t same_hash = 0xabcd000000000003ull;  // same start slot, same tag
  const char* x = entries.Make("x", "");
  const char* y = entries.Make("y", "");
  ASSERT_TRUE(index.Upsert(same_hash, "x", x));
  ASSERT_TRUE(index.Upsert(same_hash, "y", y));
  EXPECT_EQ(x, index.Find(same_hash, "x"));
  EXPECT_EQ(y, index.Find(same_hash, "y"));
  EXPECT_EQ(nullptr, index.Find(same_hash, "z"));
}

TEST(MemTableIndex, AFullIndexRefusesNewKeysButStillUpdatesAndFindsOldOnes) {
  MemTableIndex index(8, &RawUserKey);  // 8 slots: at most 6 keys
  ASSERT_EQ(6u, index.max_keys());
  Entries entries;
  std::vector<const char*> first;
  for (int i = 0; i < 6; i++) {
    const std::string key = "key" + std::to_string(i);
    first.push_back(entries.Make(key, "v1"));
    ASSERT_TRUE(index.Upsert(base::Hash64(key), key, first.back())) << i;
  }
  EXPECT_FALSE(index.full());
  const char* extra = entries.Make("key6", "v1");
  EXPECT_FALSE(index.Upsert(base::Hash64("key6"), "key6", extra));
  EXPECT_TRUE(index.full());
  EXPECT_EQ(nullptr, index.Find(base::Hash64("key6"), "key6"));
  // Probes for absent keys still end (two slots stay empty).
  for (int i = 0; i < 100; i++) {
    const std::string key = "absent" + std::to_string(i);
    EXPECT_EQ(nullptr, index.Find(base::Hash64(key), key));
  }
  const char* newer = entries.Make("key3", "v2");
  EXPECT_TRUE(index.Upsert(base::Hash64("key3"), "key3", newer));
  EXPECT_EQ(newer, index.Find(base::Hash64("key3"), "key3"));
  EXPECT_EQ(first[0], index.Find(base::Hash64("key0"), "key0"));
}

TEST(MemTableIndex, ZeroSlotsDisablesIt) {
  MemTableIndex index(0, &RawUserKey);
  Entries entries;
  EXPECT_TRUE(index.full());
  EXPECT_FALSE(index.Upsert(base::Hash64("a"), "a", entries.Make("a", "")));
  EXPECT_EQ(nullptr, index.Find(base::Hash64("a"), "a"));
  EXPECT_EQ(0u, index.bytes());
}

std::string Lookup(const MemTable* mem, std::string_view key, SequenceNumber seq) {
  std::string value;
  switch (mem->Get(LookupKey(key, seq), &value)) {
    case MemTable::GetResult::kAbsent: return "ABSENT";
    case MemTable::GetResult::kDeleted: return "DELETED";
    case MemTable::GetResult::kFound: return value;
  }
  return "?";
}

TEST(MemTableWithIndex, SnapshotsOlderThanTheIndexedEntryWalkTheSkipList) {
  MemTable* mem = new MemTable(4096, 1024);
  mem->Add(1, ValueKind::kValue, "k", "v1");
  mem->Add(3, ValueKind::kValue, "k", "v3");
  mem->Add(5, ValueKind::kDeletion, "k", "");
  mem->Add(7, ValueKind::kValue, "k", "v7");  // the indexed entry
  EXPECT_EQ("v7", Lookup(mem, "k", kMaxSequenceNumber));
  EXPECT_EQ("v7", Lookup(mem, "k", 7));
  EXPECT_EQ("DELETED", Lookup(mem, "k", 6));
  EXPECT_EQ("v3", Lookup(mem, "k", 4));
  EXPECT_EQ("v1", Lookup(mem, "k", 2));
  EXPECT_EQ("ABSENT", Lookup(mem, "k", 0));
  EXPECT_EQ("ABSENT", Lookup(mem, "j", kMaxSequenceNumber));
  EXPECT_FALSE(mem->index_full());
  EXPECT_GE(mem->ApproximateMemoryUsage(), 1024u * 8);  // the slots count in the budget
  mem->Unref();
}

// A versioned model: every (key, sequence) written, checked at random
// snapshots, with an index big enough for all keys and one that fills early.
void CheckAgainstVersionedModel(size_t index_slots, const char* test_name) {
  base::Random rnd(test::TestSeed(test_name));
  MemTable* mem = new MemTable(4096, index_slots);
  // key -> sequence -> value ("" = deleted)
  std::map<std::string, std::map<SequenceNumber, std::string>> model;
  SequenceNumber seq = 0;
  for (int i = 0; i < 4000; i++) {
    const std::string key = "k" + std::to_string(rnd.Uniform(400));
    if (rnd.OneIn(5)) {
      mem->Add(++seq, ValueKind::kDeletion, key, "");
      model[key][seq] = "";
    } else {
      const std::string v = "v" + std::to_string(seq + 1) + rnd.RandomString(rnd.Range(0, 30));
      mem->Add(++seq, ValueKind::kValue, key, v);
      model[key][seq] = v;
    }
  }
  for (int i = 0; i < 20000; i++) {
    const std::string key = "k" + std::to_string(rnd.Uniform(450));  // some never written
    const SequenceNumber snap = rnd.OneIn(2) ? seq : rnd.Uniform(seq + 1);
    std::string expected = "ABSENT";
    auto k = model.find(key);
    if (k != model.end()) {
      auto v = k->second.upper_bound(snap);
      if (v != k->second.begin()) expected = std::prev(v)->second.empty() ? "DELETED" : std::prev(v)->second;
    }
    ASSERT_EQ(expected, Lookup(mem, key, snap)) << key << " at " << snap;
  }
  // The iterator yields every version in internal-key order (user key, newest
  // first), chained versions included, and Seek lands on the first version >=
  // its target.
  std::vector<std::string> all;  // internal keys in order
  for (const auto& [key, versions] : model) {
    for (auto v = versions.rbegin(); v != versions.rend(); ++v) {
      all.push_back(MakeInternalKey(key, v->first, v->second.empty() ? ValueKind::kDeletion : ValueKind::kValue));
    }
  }
  auto it = mem->NewIterator();
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), n++) {
    ASSERT_LT(n, all.size());
    ASSERT_EQ(all[n], std::string(it->key())) << "position " << n;
  }
  ASSERT_EQ(all.size(), n);
  for (int i = 0; i < 3000; i++) {
    const std::string key = "k" + std::to_string(rnd.Uniform(450));
    const std::string target = MakeLookupKey(key, rnd.Uniform(seq + 2));
    it->Seek(target);
    auto want = std::lower_bound(all.begin(), all.end(), target, [](const std::string& a, const std::string& b) {
      return CompareInternalKeys(a, b) < 0;
    });
    if (want == all.end()) {
      ASSERT_FALSE(it->Valid()) << "seek " << key;
    } else {
      ASSERT_TRUE(it->Valid()) << "seek " << key;
      ASSERT_EQ(*want, std::string(it->key())) << "seek " << key;
    }
  }
  it.reset();
  mem->Unref();
}

TEST(MemTableWithIndex, RandomOpsAtRandomSnapshotsMatchAVersionedModel) {
  CheckAgainstVersionedModel(1024, "MemTableWithIndex.RandomOpsAtRandomSnapshotsMatchAVersionedModel");
}

TEST(MemTableWithIndex, AFullIndexStillAnswersEveryKeyCorrectly) {
  // 64 slots take 48 of the 400 keys; the rest walk the skiplist.
  CheckAgainstVersionedModel(64, "MemTableWithIndex.AFullIndexStillAnswersEveryKeyCorrectly");
}

// Op i has sequence i + 1 and writes key i % kKeys; every 7th op is a deletion,
// the others store the sequence as the value. So the answer for (key, snapshot)
// follows from arithmetic and readers can check it while the writer runs.
constexpr uint64_t kKeys = 300;
std::string KeyOf(uint64_t j) { return "key" + std::to_string(j); }
std::string ExpectedAt(uint64_t j, SequenceNumber snap) {
  if (snap < j + 1) return "ABSENT";
  const uint64_t last_op = j + (snap - 1 - j) / kKeys * kKeys;  // largest op <= snap - 1 with op % kKeys == j
  return last_op % 7 == 6 ? "DELETED" : std::to_string(last_op + 1);
}

void RunConcurrentReaders(size_t index_slots, const char* test_name) {
  base::Random rnd(test::TestSeed(test_name));
  MemTable* mem = new MemTable(8192, index_slots);
  constexpr uint64_t kOps = 30000;
  std::atomic<SequenceNumber> published{0};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto reader = [&](uint64_t seed) {
    base::Random r(seed);
    while (!done.load(std::memory_order_acquire)) {
      const SequenceNumber latest = published.load(std::memory_order_acquire);
      const SequenceNumber snap = r.OneIn(3) && latest > 0 ? r.Uniform(latest + 1) : latest;
      const uint64_t j = r.Uniform(kKeys);
      if (Lookup(mem, KeyOf(j), snap) != ExpectedAt(j, snap)) failures++;
    }
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; t++) readers.emplace_back(reader, rnd.Next64());
  for (uint64_t op = 0; op < kOps; op++) {
    const std::string key = KeyOf(op % kKeys);
    if (op % 7 == 6) {
      mem->Add(op + 1, ValueKind::kDeletion, key, "");
    } else {
      mem->Add(op + 1, ValueKind::kValue, key, std::to_string(op + 1));
    }
    published.store(op + 1, std::memory_order_release);  // like the DB's last sequence
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(0, failures.load());
  for (uint64_t j = 0; j < kKeys; j++) ASSERT_EQ(ExpectedAt(j, kOps), Lookup(mem, KeyOf(j), kOps)) << j;
  mem->Unref();
}

TEST(MemTableWithIndex, ConcurrentReadersSeeEveryPublishedVersionWhileOneWriterAdds) {
  RunConcurrentReaders(1024, "MemTableWithIndex.ConcurrentReadersSeeEveryPublishedVersionWhileOneWriterAdds");
}

TEST(MemTableWithIndex, ConcurrentReadersStayCorrectWhenTheIndexFillsUnderThem) {
  RunConcurrentReaders(256, "MemTableWithIndex.ConcurrentReadersStayCorrectWhenTheIndexFillsUnderThem");
}

}  // namespace
}  // namespace kvring::lsm
