#include "lsm/cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

// Values are heap ints; the deleter records which ones died.
std::vector<int>* g_deleted = nullptr;  // test-only, reset by the fixture

void DeleteInt(std::string_view /*key*/, void* value) {
  auto* v = static_cast<int*>(value);
  if (g_deleted != nullptr) g_deleted->push_back(*v);
  delete v;
}

std::string Key(int k) {
  std::string s;
  base::PutFixed32(&s, static_cast<uint32_t>(k));
  return s;
}

class CacheTest : public ::testing::Test {
 protected:
  CacheTest() { g_deleted = &deleted_; }
  ~CacheTest() override { g_deleted = nullptr; }

  // Inserts and releases at once.
  void Put(Cache* cache, int key, int value, size_t charge = 1) {
    cache->Release(cache->Insert(Key(key), new int(value), charge, DeleteInt));
  }
  // The value for key, or -1.
  int Get(Cache* cache, int key) {
    Cache::Handle* h = cache->Lookup(Key(key));
    if (h == nullptr) return -1;
    int v = *static_cast<int*>(Cache::Value(h));
    cache->Release(h);
    return v;
  }

  std::vector<int> deleted_;
};

TEST_F(CacheTest, LookupFindsWhatWasInsertedAndCountsHitsAndMisses) {
  Cache cache(1000);
  EXPECT_EQ(-1, Get(&cache, 1));
  Put(&cache, 1, 101);
  Put(&cache, 2, 102);
  EXPECT_EQ(101, Get(&cache, 1));
  EXPECT_EQ(102, Get(&cache, 2));
  EXPECT_EQ(2u, cache.hits());
  EXPECT_EQ(1u, cache.misses());
  EXPECT_EQ(2u, cache.TotalCharge());
}

TEST_F(CacheTest, InsertReplacesAndTheOldValueDies) {
  Cache cache(1000);
  Put(&cache, 1, 101);
  Put(&cache, 1, 201);
  EXPECT_EQ(201, Get(&cache, 1));
  EXPECT_EQ(std::vector<int>{101}, deleted_);
  EXPECT_EQ(1u, cache.TotalCharge());
}

TEST_F(CacheTest, EvictsLeastRecentlyUsedByCharge) {
  Cache cache(100, /*num_shard_bits=*/0);
  for (int i = 0; i < 10; ++i) Put(&cache, i, i, 10);  // exactly full
  EXPECT_EQ(100u, cache.TotalCharge());
  Get(&cache, 0);                 // 0 becomes most recent
  Put(&cache, 100, 100, 25);      // needs 25: evicts 1, 2, 3
  EXPECT_EQ(0, Get(&cache, 0));
  EXPECT_EQ(-1, Get(&cache, 1));
  EXPECT_EQ(-1, Get(&cache, 2));
  EXPECT_EQ(-1, Get(&cache, 3));
  EXPECT_EQ(4, Get(&cache, 4));
  EXPECT_LE(cache.TotalCharge(), 100u);
  std::sort(deleted_.begin(), deleted_.end());
  EXPECT_EQ((std::vector<int>{1, 2, 3}), deleted_);
}

TEST_F(CacheTest, LowPriorityEntriesAreEvictedFirstUnlessUsedAgain) {
  Cache cache(100, /*num_shard_bits=*/0);
  for (int i = 0; i < 8; ++i) Put(&cache, i, i, 10);  // the working set: 80
  // A "scan": many low-priority entries pass through the remaining room.
  for (int i = 100; i < 150; ++i) {
    cache.Release(cache.Insert(Key(i), new int(i), 10, DeleteInt, Cache::Priority::kLow));
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(i, Get(&cache, i)) << "working set entry " << i << " was flushed";
  EXPECT_LE(cache.TotalCharge(), 100u);
  // A low-priority entry that is looked up again becomes an ordinary one.
  cache.Release(cache.Insert(Key(200), new int(200), 10, DeleteInt, Cache::Priority::kLow));
  EXPECT_EQ(200, Get(&cache, 200));  // promoted; now the most recent
  // Holding 0..7, 200 and the scan's last entry (90 + 10): adding 20 evicts the
  // scan's leftover first, then the least recent ordinary entry, 0.
  Put(&cache, 300, 300, 20);
  EXPECT_EQ(-1, Get(&cache, 149));
  EXPECT_EQ(-1, Get(&cache, 0));
  EXPECT_EQ(1, Get(&cache, 1));
  EXPECT_EQ(200, Get(&cache, 200));
  EXPECT_LE(cache.TotalCharge(), 100u);
}

TEST_F(CacheTest, PinnedEntriesSurviveEvictionAndShrinkBackOnRelease) {
  Cache cache(100, 0);
  Cache::Handle* pinned = cache.Insert(Key(1), new int(1), 60, DeleteInt);
  Put(&cache, 2, 2, 60);  // over budget: 2 is unpinned, so it goes; 1 is pinned
  EXPECT_EQ(1, *static_cast<int*>(Cache::Value(pinned)));
  EXPECT_EQ(-1, Get(&cache, 2));
  Cache::Handle* pinned2 = cache.Insert(Key(3), new int(3), 60, DeleteInt);
  EXPECT_EQ(120u, cache.TotalCharge());  // over budget only while pinned
  cache.Release(pinned);
  EXPECT_LE(cache.TotalCharge(), 100u);
  EXPECT_EQ(-1, Get(&cache, 1));
  cache.Release(pinned2);
  EXPECT_EQ(3, Get(&cache, 3));
}

TEST_F(CacheTest, ErasedEntryStaysValidWhilePinned) {
  Cache cache(100);
  Cache::Handle* h = cache.Insert(Key(7), new int(7), 1, DeleteInt);
  cache.Erase(Key(7));
  EXPECT_EQ(-1, Get(&cache, 7));
  EXPECT_TRUE(deleted_.empty());
  EXPECT_EQ(7, *static_cast<int*>(Cache::Value(h)));
  cache.Release(h);
  EXPECT_EQ(std::vector<int>{7}, deleted_);
  EXPECT_EQ(0u, cache.TotalCharge());
}

TEST_F(CacheTest, ZeroCapacityCachesNothing) {
  Cache cache(0);
  Cache::Handle* h = cache.Insert(Key(1), new int(1), 1, DeleteInt);
  EXPECT_EQ(1, *static_cast<int*>(Cache::Value(h)));
  EXPECT_EQ(-1, Get(&cache, 1));
  cache.Release(h);
  EXPECT_EQ(std::vector<int>{1}, deleted_);
}

TEST_F(CacheTest, EntryLargerThanTheBudgetIsDroppedOnRelease) {
  Cache cache(10, 0);
  Put(&cache, 1, 1, 50);
  EXPECT_EQ(-1, Get(&cache, 1));
  EXPECT_EQ(0u, cache.TotalCharge());
}

TEST_F(CacheTest, DestructionFreesEveryEntry) {
  {
    Cache cache(1000);
    for (int i = 0; i < 50; ++i) Put(&cache, i, i);
  }
  EXPECT_EQ(50u, deleted_.size());
}

TEST_F(CacheTest, NewIdNeverRepeats) {
  Cache cache(10);
  uint64_t a = cache.NewId(), b = cache.NewId();
  EXPECT_NE(a, b);
  EXPECT_NE(0u, a);
}

TEST_F(CacheTest, ManyHashTableResizesKeepEveryEntry) {
  Cache cache(1 << 20, 0);
  for (int i = 0; i < 5000; ++i) Put(&cache, i, i);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(i, Get(&cache, i));
  for (int i = 0; i < 5000; i += 2) cache.Erase(Key(i));
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(i % 2 == 0 ? -1 : i, Get(&cache, i));
}

// Several threads insert, look up, pin and erase random keys; the budget holds
// once everything is released and no value is freed while pinned (ASan/TSan
// catch a use after free or a race).
TEST(CacheConcurrencyTest, ConcurrentUseKeepsBudgetAndValues) {
  const uint64_t seed = test::TestSeed("CacheConcurrencyTest");
  Cache cache(2000);
  std::atomic<bool> bad{false};
  auto worker = [&](uint64_t s) {
    base::Random rnd(s);
    for (int i = 0; i < 20000; ++i) {
      int k = static_cast<int>(rnd.Uniform(500));
      switch (rnd.Uniform(4)) {
        case 0: {
          Cache::Handle* h = cache.Insert(Key(k), new int(k), 1 + rnd.Uniform(20),
                                          [](std::string_view, void* v) { delete static_cast<int*>(v); });
          if (*static_cast<int*>(Cache::Value(h)) != k) bad = true;
          cache.Release(h);
          break;
        }
        case 3:
          cache.Erase(Key(k));
          break;
        default: {
          Cache::Handle* h = cache.Lookup(Key(k));
          if (h != nullptr) {
            if (*static_cast<int*>(Cache::Value(h)) != k) bad = true;
            cache.Release(h);
          }
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, seed + t);
  for (auto& t : threads) t.join();
  EXPECT_FALSE(bad);
  EXPECT_LE(cache.TotalCharge(), 2000u + 16 * 20);  // shard rounding + one entry per shard
  EXPECT_GT(cache.hits() + cache.misses(), 0u);
}

}  // namespace
}  // namespace kvring::lsm
