#include "lsm/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "base/random.h"
#include "test/util/test_util.h"

namespace kvring::lsm {
namespace {

TEST(Arena, AllocationsKeepTheirBytesAndUsageBoundsThem) {
  Arena arena;
  base::Random rnd(test::TestSeed("Arena.AllocationsKeepTheirBytesAndUsageBoundsThem"));
  std::vector<std::pair<char*, size_t>> allocated;
  size_t total = 0;
  for (int i = 0; i < 5000; i++) {
    size_t n = rnd.OneIn(50) ? rnd.Range(1, 6000) : rnd.Range(1, 40);
    char* p = rnd.OneIn(2) ? arena.AllocateAligned(n) : arena.Allocate(n);
    for (size_t j = 0; j < n; j++) p[j] = static_cast<char>(i % 256);
    allocated.emplace_back(p, n);
    total += n;
    EXPECT_GE(arena.memory_usage(), total);
  }
  for (size_t i = 0; i < allocated.size(); i++) {
    auto [p, n] = allocated[i];
    for (size_t j = 0; j < n; j++) ASSERT_EQ(static_cast<char>(i % 256), p[j]);
  }
  // Small allocations waste little: usage stays within 25% of what was asked.
  EXPECT_LE(arena.memory_usage(), total + total / 4 + 8192);
}

TEST(Arena, AlignedAllocationsAreAligned) {
  Arena arena;
  for (int i = 0; i < 1000; i++) {
    arena.Allocate(static_cast<size_t>(i % 7 + 1));
    char* p = arena.AllocateAligned(static_cast<size_t>(i % 13 + 1));
    EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % 8);
  }
}

}  // namespace
}  // namespace kvring::lsm
