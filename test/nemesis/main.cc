// kvnemesis — the nemesis harness from the command line (test/util/nemesis_run.h;
// docs/testing.md "The nemesis"): a 5-node kvnode cluster under faults drawn from
// a seed, a recorded history, and the history checker's verdict.
//
//   build/kvnemesis [--seed S] [--seconds N] [--dir DIR] [--keep] [--disk-full] [--power-loss --sync always]
//                   [--workers N] [--think-ms MS] [--sync MODE] [--no-faults]
//                   [--max-skew-s S] [--no-netns] [--plant-lost-write]
//
// As root (with unshare, ip and iptables) it re-runs itself inside a private
// network and mount namespace and adds the network faults; otherwise it says
// why in one line and runs the faults that need no privileges. Prints the seed,
// the schedule, the op counts, the verdict and the reproduction line; exit 0
// when clean, 1 on any violation (the run directory is then kept and printed),
// 2 on a bad command line.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/env.h"
#include "test/util/nemesis_run.h"
#include "test/util/netns.h"

namespace {

constexpr char kNetnsEnv[] = "KV_NEMESIS_NETNS";

struct Flags {
  kvring::test::NemesisOptions run;
  bool keep = false;
  bool no_netns = false;
};

Flags g_flags;

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--keep") f->keep = true;
    else if (a == "--no-netns") f->no_netns = true;
    else if (a == "--disk-full") f->run.disk_full = true;
    else if (a == "--power-loss") f->run.power_loss = true;
    else if (a == "--no-faults") f->run.faults = false;
    else if (a == "--plant-lost-write") f->run.plant_lost_write = true;
    else if (a == "--seed" && has_value) f->run.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--seconds" && has_value) f->run.seconds = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--workers" && has_value) f->run.workers = std::atoi(argv[++i]);
    else if (a == "--think-ms" && has_value) f->run.think_ms = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--sync" && has_value) f->run.sync = argv[++i];
    else if (a == "--max-skew-s" && has_value) f->run.max_skew_s = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--dir" && has_value) f->run.dir = argv[++i];
    else {
      std::fprintf(stderr, "kvnemesis: unknown flag or missing value: %s\n", a.c_str());
      return false;
    }
  }
  if (f->run.power_loss && f->run.sync != "always") {
    // Only --sync always puts a write on disk before it is acknowledged: under
    // interval or none a power loss may take acknowledged writes with it by design.
    std::fprintf(stderr, "kvnemesis: --power-loss needs --sync always (acknowledged means synced only then)\n");
    return false;
  }
  if (f->run.seconds < 1 || f->run.workers < 1) {
    std::fprintf(stderr, "kvnemesis: --seconds and --workers must be at least 1\n");
    return false;
  }
  return true;
}

std::string Reproduction() {
  const auto& r = g_flags.run;
  std::string line = "build/kvnemesis --seed " + std::to_string(r.seed) + " --seconds " + std::to_string(r.seconds);
  if (r.disk_full) line += " --disk-full";
  if (r.power_loss) line += " --power-loss";
  if (!r.network) line += " --no-netns";
  if (!r.faults) line += " --no-faults";
  if (r.plant_lost_write) line += " --plant-lost-write";
  if (r.sync != "interval") line += " --sync " + r.sync;
  if (r.workers != 6) line += " --workers " + std::to_string(r.workers);
  if (r.think_ms != 10) line += " --think-ms " + std::to_string(r.think_ms);
  if (r.max_skew_s != 300) line += " --max-skew-s " + std::to_string(r.max_skew_s);
  return line;
}

// The flags for the re-run inside the namespace: the same, with the seed fixed.
std::vector<std::string> ChildArgs(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  args.insert(args.end(), {"--seed", std::to_string(g_flags.run.seed)});
  return args;
}

TEST(Kvnemesis, NoAcknowledgedWriteLostNoStaleStrictRead) {
  kvring::test::NemesisResult result = kvring::test::RunNemesis(g_flags.run);
  std::printf("%s", kvring::test::NemesisReport(result).c_str());
  EXPECT_TRUE(result.clean()) << "kvnemesis: seed " << g_flags.run.seed << " found violations";
  const bool failed = ::testing::Test::HasFailure();
  std::printf("kvnemesis: seed %llu: %s\nreproduce: %s  (same faults and choices; real processes' timing differs)\n",
              static_cast<unsigned long long>(g_flags.run.seed), failed ? "FAILED" : "clean", Reproduction().c_str());
  if (result.run_dir.empty()) return;
  if (failed || g_flags.keep) {
    std::printf("kvnemesis: run directory kept: %s (history.jsonl, faults.log, n*.log)\n", result.run_dir.c_str());
  } else {
    kvring::base::RemoveDirRecursively(kvring::base::Env::Default(), result.run_dir).IgnoreError();
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);  // takes its own --gtest_* flags out
  g_flags.run.seed = 0;  // none given: one from the clock, below
  if (!ParseFlags(argc, argv, &g_flags)) return 2;
  if (g_flags.run.seed == 0) {
    g_flags.run.seed =
        static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007 + 1;
  }
  const bool inside = std::getenv(kNetnsEnv) != nullptr;
  if (!inside && !g_flags.no_netns) {
    const std::string why = kvring::test::NetnsUnavailableReason();
    if (why.empty()) {
      std::fflush(stdout);
      kvring::base::Status s = kvring::test::ReexecInNamespace(kNetnsEnv, ChildArgs(argc, argv));
      std::fprintf(stderr, "kvnemesis: %s\n", s.ToString().c_str());
      return 2;
    }
    std::printf("kvnemesis: no private network namespace (%s): no network faults, every node on 127.0.0.1\n",
                why.c_str());
  }
  g_flags.run.network = inside;
  if (g_flags.run.disk_full && !inside) {
    std::fprintf(stderr, "kvnemesis: --disk-full needs the private namespaces (root): a tmpfs is mounted there\n");
    return 2;
  }
  std::printf("kvnemesis: seed %llu, %llu s, %d workers%s (rerun: %s)\n",
              static_cast<unsigned long long>(g_flags.run.seed), static_cast<unsigned long long>(g_flags.run.seconds),
              g_flags.run.workers, inside ? ", in a private network namespace" : "", Reproduction().c_str());
  return RUN_ALL_TESTS();
}
