#include "lsm/skiplist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "base/hash.h"
#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

struct U64Compare {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : a > b ? 1 : 0; }
};
using List = SkipList<uint64_t, U64Compare>;

TEST(SkipList, EmptyListHasNothing) {
  Arena arena;
  List list(U64Compare(), &arena);
  EXPECT_FALSE(list.Contains(10));
  List::Iterator it(&list);
  it.SeekToFirst();
  EXPECT_FALSE(it.Valid());
  it.Seek(100);
  EXPECT_FALSE(it.Valid());
}

TEST(SkipList, InsertedKeysIterateInOrderAndSeekFindsLowerBound) {
  Arena arena;
  List list(U64Compare(), &arena);
  base::Random rnd(test::TestSeed("SkipList.InsertedKeysIterateInOrderAndSeekFindsLowerBound"));
  std::set<uint64_t> model;
  for (int i = 0; i < 2000; i++) {
    uint64_t k = rnd.Uniform(5000);
    if (model.insert(k).second) list.Insert(k);
  }
  for (uint64_t k = 0; k < 5000; k++) EXPECT_EQ(model.count(k) == 1, list.Contains(k));
  List::Iterator it(&list);
  it.SeekToFirst();
  for (uint64_t k : model) {
    ASSERT_TRUE(it.Valid());
    EXPECT_EQ(k, it.key());
    it.Next();
  }
  EXPECT_FALSE(it.Valid());
  for (int i = 0; i < 200; i++) {
    uint64_t target = rnd.Uniform(5100);
    it.Seek(target);
    auto lb = model.lower_bound(target);
    if (lb == model.end()) {
      EXPECT_FALSE(it.Valid());
    } else {
      ASSERT_TRUE(it.Valid());
      EXPECT_EQ(*lb, it.key());
    }
  }
}

// Ascending runs take the append shortcut (no search); keys that land in the
// middle afterwards, and new ascending runs past them, must still link right.
TEST(SkipList, AscendingAppendsMixedWithMiddleInsertsStayOrdered) {
  Arena arena;
  List list(U64Compare(), &arena);
  base::Random rnd(test::TestSeed("SkipList.AscendingAppendsMixedWithMiddleInsertsStayOrdered"));
  std::set<uint64_t> model;
  uint64_t next = 1000;
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < 300; i++) {  // an ascending run past everything so far
      next += 1 + rnd.Uniform(3);
      model.insert(next);
      list.Insert(next);
    }
    for (int i = 0; i < 50; i++) {  // then keys anywhere below the end
      uint64_t k = rnd.Uniform(next);
      if (model.insert(k).second) list.Insert(k);
    }
  }
  for (uint64_t k = 0; k <= next + 1; k += 1 + rnd.Uniform(5)) ASSERT_EQ(model.count(k) == 1, list.Contains(k)) << k;
  List::Iterator it(&list);
  it.SeekToFirst();
  for (uint64_t k : model) {
    ASSERT_TRUE(it.Valid());
    ASSERT_EQ(k, it.key());
    it.Next();
  }
  EXPECT_FALSE(it.Valid());
  it.Seek(next);
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(next, it.key());
}

// A key carries a check of its own index, so a reader can tell a fully visible
// node from a torn one: key = index << 32 | (Mix64(index) & 0xffffffff).
uint64_t MakeKey(uint64_t index) { return (index << 32) | (base::Mix64(index) & 0xffffffffu); }
bool KeyIsIntact(uint64_t key) { return (key & 0xffffffffu) == (base::Mix64(key >> 32) & 0xffffffffu); }

TEST(SkipList, ConcurrentReadersSeeAConsistentListWhileOneWriterInserts) {
  Arena arena;
  List list(U64Compare(), &arena);
  base::Random rnd(test::TestSeed("SkipList.ConcurrentReadersSeeAConsistentListWhileOneWriterInserts"));
  constexpr uint64_t kKeys = 20000;
  std::vector<uint64_t> order(kKeys);
  for (uint64_t i = 0; i < kKeys; i++) order[i] = i;
  for (uint64_t i = kKeys - 1; i > 0; i--) std::swap(order[i], order[rnd.Uniform(i + 1)]);

  std::atomic<uint64_t> published{0};  // order[0, published) are inserted
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto reader = [&](uint64_t seed) {
    base::Random r(seed);
    size_t last_count = 0;
    while (!done.load(std::memory_order_acquire)) {
      const uint64_t n = published.load(std::memory_order_acquire);
      // Everything published before the scan started is found.
      for (int i = 0; i < 20 && n > 0; i++) {
        if (!list.Contains(MakeKey(order[r.Uniform(n)]))) failures++;
      }
      List::Iterator it(&list);
      size_t count = 0;
      uint64_t prev = 0;
      for (it.SeekToFirst(); it.Valid(); it.Next()) {
        uint64_t k = it.key();
        if (!KeyIsIntact(k) || (count > 0 && k <= prev)) failures++;
        prev = k;
        count++;
      }
      if (count < n || count < last_count) failures++;
      last_count = count;
    }
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; t++) readers.emplace_back(reader, rnd.Next64());
  for (uint64_t i = 0; i < kKeys; i++) {
    list.Insert(MakeKey(order[i]));
    published.store(i + 1, std::memory_order_release);
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_EQ(0, failures.load());
}

}  // namespace
}  // namespace kvring::lsm
