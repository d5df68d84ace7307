// kvsim — the deterministic cluster simulator from the command line: runs
// test/util/sim_run.h over a range of seeds and says which, if any, failed.
//
//   build/kvsim [--seed S] [--seeds K] [--steps N] [--nodes N] [--dir DIR] [--twice]
//
// --seed: the first seed (default: from the clock, printed); --seeds: how many
// consecutive seeds (1); --steps: client steps per seed (500); --nodes (5);
// --dir: where the history of a failing seed is written (DIR/seed-S.jsonl, for
// build/kvcheck); --twice: run every seed twice and fail unless both runs have the
// same trace hash (determinism). Stops at the first failing seed and prints the
// one-line reproduction. Exit 0 when every seed passed. docs/testing.md, "The
// simulator".
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/env.h"
#include "test/util/history.h"
#include "test/util/sim_run.h"

namespace {

struct Flags {
  uint64_t seed = 0;
  uint64_t seeds = 1;
  int steps = 500;
  int nodes = 5;
  std::string dir;
  bool twice = false;
};

Flags g_flags;

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--twice") {
      f->twice = true;
    } else if (a == "--seed" && has_value) {
      f->seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seeds" && has_value) {
      f->seeds = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--steps" && has_value) {
      f->steps = std::atoi(argv[++i]);
    } else if (a == "--nodes" && has_value) {
      f->nodes = std::atoi(argv[++i]);
    } else if (a == "--dir" && has_value) {
      f->dir = argv[++i];
    } else {
      std::fprintf(stderr, "kvsim: unknown flag or missing value: %s\n", a.c_str());
      return false;
    }
  }
  if (f->seeds < 1 || f->steps < 1 || f->nodes < 3) {
    std::fprintf(stderr, "kvsim: --seeds and --steps must be at least 1, --nodes at least 3\n");
    return false;
  }
  return true;
}

std::string Reproduction(uint64_t seed) {
  return "build/kvsim --seed " + std::to_string(seed) + " --steps " + std::to_string(g_flags.steps) + " --nodes " +
         std::to_string(g_flags.nodes);
}

void KeepHistory(uint64_t seed, const kvring::test::History& history) {
  if (g_flags.dir.empty()) return;
  std::string text = kvring::test::HeaderJson(history.header) + "\n";
  for (const auto& e : history.events) text += kvring::test::EventJson(e) + "\n";
  const std::string path = kvring::base::JoinPath(g_flags.dir, "seed-" + std::to_string(seed) + ".jsonl");
  kvring::base::Status s = kvring::base::Env::Default()->CreateDir(g_flags.dir);
  if (s.ok() || s.IsInvalidArgument() || kvring::base::Env::Default()->FileExists(g_flags.dir)) {
    s = kvring::base::WriteStringToFileAtomic(kvring::base::Env::Default(), text, path);
  }
  std::fprintf(stderr, "kvsim: history %s%s\n", path.c_str(), s.ok() ? "" : (" not written: " + s.ToString()).c_str());
}

// One seed (twice with --twice). False when it failed.
bool RunSeed(uint64_t seed, double* simulated_s) {
  using kvring::repl::testing::RunSimulation;
  const kvring::repl::testing::SimRunOptions options{.seed = seed, .steps = g_flags.steps, .nodes = g_flags.nodes};
  kvring::repl::testing::SimRunResult run = RunSimulation(options);
  *simulated_s += static_cast<double>(run.simulated_us) / 1e6;
  if (g_flags.twice && !::testing::Test::HasFailure()) {
    const uint64_t again = RunSimulation(options).trace_hash;
    EXPECT_EQ(run.trace_hash, again) << "seed " << seed << " ran differently the second time";
  }
  if (!::testing::Test::HasFailure()) return true;
  std::fprintf(stderr, "kvsim: seed %llu FAILED: %s\nreproduce: %s\n", static_cast<unsigned long long>(seed),
               kvring::repl::testing::SimRunSummary(run).c_str(), Reproduction(seed).c_str());
  KeepHistory(seed, run.history);
  return false;
}

TEST(Kvsim, EverySeedKeepsEveryAcknowledgedWrite) {
  const auto start = std::chrono::steady_clock::now();
  double simulated_s = 0;
  uint64_t done = 0;
  for (uint64_t seed = g_flags.seed; done < g_flags.seeds; ++seed, ++done) {
    if (!RunSeed(seed, &simulated_s)) break;
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("kvsim: %llu seed(s) from %llu, %d nodes, %d steps each: %.1f s simulated in %.2f s (%.0fx)%s\n",
              static_cast<unsigned long long>(done + (::testing::Test::HasFailure() ? 1 : 0)),
              static_cast<unsigned long long>(g_flags.seed), g_flags.nodes, g_flags.steps, simulated_s, wall_s,
              wall_s > 0 ? simulated_s / wall_s : 0.0, ::testing::Test::HasFailure() ? ", FAILED" : ", all clean");
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);  // takes its own --gtest_* flags out
  if (!ParseFlags(argc, argv, &g_flags)) return 2;
  if (g_flags.seed == 0) {
    g_flags.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007;
  }
  std::printf("kvsim: first seed %llu (rerun: %s)\n", static_cast<unsigned long long>(g_flags.seed),
              Reproduction(g_flags.seed).c_str());
  return RUN_ALL_TESTS();
}
