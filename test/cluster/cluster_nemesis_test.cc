// The nemesis harness itself (build/kvnemesis, test/util/nemesis_run.h): a
// short run with a fixed seed over real kvnodes under faults comes out clean
// and removes its run directory; and a run that drops one acknowledged write
// from its final reads (--plant-lost-write) fails, says which write, keeps the
// run directory, and the history it kept convicts it under build/kvcheck too.
// A harness that cannot fail would prove nothing.
// As root the runs use the private network namespace (network faults too);
// elsewhere kvnemesis says so and runs the faults that need no privileges.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "base/env.h"
#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

constexpr uint64_t kRunTimeoutMs = 240'000;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ProgramResult Nemesis(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("kvnemesis"));
  args.insert(args.end(), {"--dir", dir.path()});
  return RunProgram(args, "", kRunTimeoutMs);
}

// The number right after `before` in text (0 when absent).
uint64_t NumberAfter(const std::string& text, const std::string& before) {
  const size_t at = text.find(before);
  return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + before.size(), nullptr, 10);
}

// The word right after `before` in text ("" when absent).
std::string WordAfter(const std::string& text, const std::string& before) {
  const size_t at = text.find(before);
  if (at == std::string::npos) return "";
  const size_t from = at + before.size();
  return text.substr(from, text.find_first_of(" \n", from) - from);
}

std::vector<std::string> Children(const TempDir& dir) {
  std::vector<std::string> names;
  base::Env::Default()->GetChildren(dir.path(), &names).IgnoreError();
  return names;
}

TEST(ClusterNemesisTest, AShortRunWithAFixedSeedIsCleanAndRemovesItsDirectory) {
  TempDir dir;
  ProgramResult run = Nemesis(dir, {"--seed", "12", "--seconds", "10"});
  ASSERT_FALSE(run.timed_out) << run.ToString();
  EXPECT_EQ(0, run.exit_code) << run.ToString();
  EXPECT_TRUE(Contains(run.out, "kvnemesis: seed 12: clean")) << run.out;
  EXPECT_TRUE(Contains(run.out, "result: clean")) << run.out;
  EXPECT_TRUE(Contains(run.out, "reproduce: build/kvnemesis --seed 12 --seconds 10")) << run.out;
  EXPECT_FALSE(Contains(run.out, "faults applied: none")) << run.out;
  EXPECT_GT(NumberAfter(run.out, "writes ("), 100u) << "acknowledged writes:\n" << run.out;
  EXPECT_GT(NumberAfter(run.out, "final reads: "), 10u) << run.out;
  EXPECT_TRUE(Children(dir).empty()) << "a clean run removes its run directory";
}

// Regression: without --seed every run used seed 1 (the options' default), so
// `make soak` repeated one schedule. A seed comes from the clock, and the re-run
// inside the namespace keeps it.
TEST(ClusterNemesisTest, ARunWithoutASeedDrawsOneAndPrintsIt) {
  TempDir dir;
  ProgramResult run = Nemesis(dir, {"--seconds", "1", "--no-faults"});
  ASSERT_FALSE(run.timed_out) << run.ToString();
  EXPECT_EQ(0, run.exit_code) << run.ToString();
  const uint64_t seed = NumberAfter(run.out, "kvnemesis: seed ");
  EXPECT_GT(seed, 1u) << run.out;
  EXPECT_TRUE(Contains(run.out, "rerun: build/kvnemesis --seed " + std::to_string(seed) + " ")) << run.out;
  EXPECT_TRUE(Contains(run.out, "kvnemesis: seed " + std::to_string(seed) + ": clean")) << run.out;
}

TEST(ClusterNemesisTest, APlantedLostWriteFailsTheRunKeepsItsDirectoryAndConvictsItsHistory) {
  TempDir dir;
  ProgramResult run = Nemesis(dir, {"--seed", "12", "--seconds", "3", "--no-faults", "--plant-lost-write"});
  ASSERT_FALSE(run.timed_out) << run.ToString();
  EXPECT_EQ(1, run.exit_code) << run.ToString();
  EXPECT_TRUE(Contains(run.out, "planted: dropped the acknowledged value")) << run.out;
  EXPECT_TRUE(Contains(run.out, "violations: 1 (lost 1)")) << run.out;
  EXPECT_TRUE(Contains(run.out, "kvnemesis: seed 12: FAILED")) << run.out;
  const std::string run_dir = WordAfter(run.out, "run directory kept: ");
  ASSERT_FALSE(run_dir.empty()) << run.out;
  for (const char* file : {"history.jsonl", "faults.log", "n1.log", "n5.log"}) {
    EXPECT_TRUE(base::Env::Default()->FileExists(run_dir + "/" + file)) << file;
  }
  ProgramResult check = RunProgram({BinaryPath("kvcheck"), run_dir + "/history.jsonl"});
  EXPECT_EQ(1, check.exit_code) << check.ToString();
  EXPECT_TRUE(Contains(check.out, "violations: 1 (lost 1)")) << check.out;
}

}  // namespace
}  // namespace kvring::test
