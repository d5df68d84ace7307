// The nemesis harness itself (build/kvnemesis, test/util/nemesis_run.h): a
// short run with a fixed seed over real kvnodes under faults comes out clean
// and removes its run directory; and a run that drops one acknowledged write
// from its final reads (--plant-lost-write) fails, says which write, keeps the
// run directory, and the history it kept convicts it under build/kvcheck too.
// A harness that cannot fail would prove nothing.
// As root the runs use the private network namespace (network faults too);
// elsewhere kvnemesis says so and runs the faults that need no privileges.
#include <gtest/gtest.h>

#include <regex>
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

uint64_t Number(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return 0;
  return std::stoull(m[1].str());
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
  EXPECT_GT(Number(run.out, R"(\((\d+) acknowledged)"), 100u) << run.out;
  EXPECT_GT(Number(run.out, R"(final reads: (\d+) of)"), 10u) << run.out;
  EXPECT_TRUE(Children(dir).empty()) << "a clean run removes its run directory";
}

TEST(ClusterNemesisTest, APlantedLostWriteFailsTheRunKeepsItsDirectoryAndConvictsItsHistory) {
  TempDir dir;
  ProgramResult run = Nemesis(dir, {"--seed", "12", "--seconds", "3", "--no-faults", "--plant-lost-write"});
  ASSERT_FALSE(run.timed_out) << run.ToString();
  EXPECT_EQ(1, run.exit_code) << run.ToString();
  EXPECT_TRUE(Contains(run.out, "planted: dropped the acknowledged value")) << run.out;
  EXPECT_TRUE(Contains(run.out, "violations: 1 (lost 1)")) << run.out;
  EXPECT_TRUE(Contains(run.out, "kvnemesis: seed 12: FAILED")) << run.out;
  std::smatch kept;
  ASSERT_TRUE(std::regex_search(run.out, kept, std::regex("run directory kept: (\\S+)"))) << run.out;
  const std::string run_dir = kept[1].str();
  for (const char* file : {"history.jsonl", "faults.log", "n1.log", "n5.log"}) {
    EXPECT_TRUE(base::Env::Default()->FileExists(run_dir + "/" + file)) << file;
  }
  ProgramResult check = RunProgram({BinaryPath("kvcheck"), run_dir + "/history.jsonl"});
  EXPECT_EQ(1, check.exit_code) << check.ToString();
  EXPECT_TRUE(Contains(check.out, "violations: 1 (lost 1)")) << check.out;
}

}  // namespace
}  // namespace kvring::test
