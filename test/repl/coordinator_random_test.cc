// A seeded randomized test of the coordinator: the simulator's run
// (test/util/sim_run.h: 5 simulated nodes, N=3, clients through random
// coordinators while links delay, drop and reorder messages, partitions come and
// go and nodes go down and come back; then every fault heals and each key is read
// at ALL twice), with its checks and the history checker's. build/kvsim runs the
// same over many seeds.
// The test runs 8 rounds (seeds seed..seed+7) and prints the seed and what each
// round did; KV_SEED=N replays it exactly.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "test/util/sim_run.h"
#include "test/util/test_util.h"

namespace kvring::repl {
namespace {

using testing::RunSimulation;
using testing::SimRunResult;

SimRunResult RandomRun(uint64_t seed, int steps) { return RunSimulation({.seed = seed, .steps = steps}); }

TEST(CoordinatorRandomized, NoAcknowledgedWriteIsLostUnderRandomDelaysDropsPartitionsAndDownNodes) {
  const uint64_t seed = test::TestSeed("CoordinatorRandomized");
  for (uint64_t round = 0; round < 8 && !::testing::Test::HasFailure(); ++round) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
    SimRunResult run = RandomRun(seed + round, 500);
    std::fprintf(stderr, "  round %llu: %s\n", static_cast<unsigned long long>(round),
                 testing::SimRunSummary(run).c_str());
    // The run must have been a hard one, or it proves little.
    EXPECT_GT(run.acknowledged, 20u);
    EXPECT_GT(run.failed, 0u);
    EXPECT_GT(run.network.timeouts, 0u);
    EXPECT_GT(run.network.refused + run.network.lost, 0u);
    EXPECT_EQ(0u, run.network.duplicate_replies);
    EXPECT_GT(run.check.counts.final_reads, 0u) << "the checker saw no final read: it checked no loss";
  }
}

TEST(CoordinatorRandomized, ARunReplaysExactlyFromItsSeed) {
  const uint64_t seed = test::TestSeed("CoordinatorRandomizedReplay");
  SimRunResult first = RandomRun(seed, 150);
  SimRunResult second = RandomRun(seed, 150);
  EXPECT_EQ(first.trace.size(), second.trace.size());
  EXPECT_TRUE(first.trace == second.trace) << "the same seed delivered messages differently";
  EXPECT_EQ(first.final_state, second.final_state);
  EXPECT_EQ(first.acknowledged, second.acknowledged);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  SimRunResult other = RandomRun(seed + 1, 150);
  EXPECT_FALSE(first.trace == other.trace) << "another seed should run differently";
  EXPECT_NE(first.trace_hash, other.trace_hash);
}

}  // namespace
}  // namespace kvring::repl
