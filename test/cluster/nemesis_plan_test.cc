// The nemesis's fault schedule (test/util/nemesis_faults.h): drawn from the seed
// alone, faults of every kind, never two process faults on one node at once nor
// more than two nodes stopped, every fault healed within the run; and the
// iptables rules of each partition cut exactly the links it names.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "test/util/nemesis_faults.h"

namespace kvring::test {
namespace {

std::vector<std::string> Texts(const std::vector<Fault>& plan) {
  std::vector<std::string> out;
  for (const Fault& f : plan) out.push_back(FaultText(f));
  return out;
}

const std::vector<std::string> kHosts = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"};

// The (source, destination) pairs a fault's rules drop (whatever the chain).
std::set<std::pair<std::string, std::string>> Dropped(const Fault& f) {
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& rule : RulesFor(f, kHosts)) pairs.insert({rule[2], rule[4]});
  return pairs;
}

TEST(NemesisPlan, TheScheduleIsAFunctionOfTheSeed) {
  const FaultPlanOptions a{.seed = 17, .duration_ms = 120'000};
  FaultPlanOptions b = a;
  b.seed = 18;
  EXPECT_EQ(Texts(PlanFaults(a)), Texts(PlanFaults(a)));
  EXPECT_NE(Texts(PlanFaults(a)), Texts(PlanFaults(b)));
  EXPECT_GE(PlanFaults(a).size(), 20u);
}

TEST(NemesisPlan, FaultsNeverStackOnANodeAndAllHealWithinTheRun) {
  std::set<FaultKind> seen;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    const FaultPlanOptions o{.seed = seed, .duration_ms = 60'000, .disk_full_node = 4, .power_loss = true};
    const std::vector<Fault> plan = PlanFaults(o);
    for (size_t i = 0; i < plan.size(); ++i) {
      const Fault& f = plan[i];
      seen.insert(f.kind);
      EXPECT_LT(f.start_ms, f.end_ms) << FaultText(f);
      EXPECT_LE(f.end_ms, o.duration_ms) << FaultText(f);
      if (f.kind == FaultKind::kDiskFull) {
        EXPECT_EQ(std::vector<int>{4}, f.nodes);
      }
      if (IsNetworkFault(f.kind)) continue;
      int stopped = 0;
      for (size_t j = 0; j < plan.size(); ++j) {
        const Fault& g = plan[j];
        const bool overlap = g.start_ms <= f.start_ms && f.start_ms < g.end_ms;
        if (!overlap || IsNetworkFault(g.kind)) continue;
        if (j != i) {
          EXPECT_NE(f.nodes, g.nodes) << "seed " << seed << ": " << FaultText(f) << " / " << FaultText(g);
        }
        stopped += g.kind == FaultKind::kPause || g.kind == FaultKind::kKill || g.kind == FaultKind::kPowerLoss;
      }
      EXPECT_LE(stopped, 2) << "seed " << seed << " at " << FaultText(f);
    }
  }
  EXPECT_EQ(std::size(kAllFaultKinds), seen.size()) << "200 seeds drew every kind";
}

TEST(NemesisPlan, WithoutTheNamespaceOnlyProcessFaultsArePlanned) {
  for (const Fault& f : PlanFaults({.seed = 3, .duration_ms = 300'000, .network = false})) {
    EXPECT_FALSE(IsNetworkFault(f.kind)) << FaultText(f);
    EXPECT_NE(FaultKind::kDiskFull, f.kind) << FaultText(f);
  }
}

TEST(NemesisPlan, PartitionRulesCutExactlyTheirLinks) {
  Fault minority{.kind = FaultKind::kPartitionMinority, .nodes = {1, 3}};
  auto cut = Dropped(minority);
  EXPECT_EQ(12u, cut.size());  // 2 x 3 links, both ways
  EXPECT_FALSE(cut.count({"127.0.0.2", "127.0.0.4"})) << "the minority still sees itself";
  EXPECT_TRUE(cut.count({"127.0.0.4", "127.0.0.1"}));

  Fault bridge{.kind = FaultKind::kPartitionBridge, .nodes = {0, 1, 2, 3, 4}};
  cut = Dropped(bridge);
  EXPECT_EQ(8u, cut.size());  // {n1,n2} x {n3,n4}, both ways
  for (const auto& [src, dst] : cut) EXPECT_TRUE(src != "127.0.0.5" && dst != "127.0.0.5") << "n5 is the bridge";

  Fault ring{.kind = FaultKind::kPartitionRing, .nodes = {0, 1, 2, 3, 4}};
  cut = Dropped(ring);
  EXPECT_EQ(10u, cut.size());  // each node loses the two nodes not next to it
  EXPECT_FALSE(cut.count({"127.0.0.1", "127.0.0.2"}));
  EXPECT_FALSE(cut.count({"127.0.0.1", "127.0.0.5"}));
  EXPECT_TRUE(cut.count({"127.0.0.1", "127.0.0.3"}));
}

TEST(NemesisPlan, OneWayFaultsUseOneChainAndOneDirection) {
  for (const auto& rule : RulesFor({.kind = FaultKind::kOneWayIn, .nodes = {2}}, kHosts)) {
    EXPECT_EQ("INPUT", rule[0]);
    EXPECT_EQ("127.0.0.3", rule[4]) << "only what n3 receives";
  }
  for (const auto& rule : RulesFor({.kind = FaultKind::kOneWayOut, .nodes = {2}}, kHosts)) {
    EXPECT_EQ("OUTPUT", rule[0]);
    EXPECT_EQ("127.0.0.3", rule[2]) << "only what n3 sends";
  }
  const auto loss = RulesFor({.kind = FaultKind::kPacketLoss, .nodes = {0}, .param = 25}, kHosts);
  ASSERT_EQ(8u, loss.size());
  EXPECT_NE(loss[0].end(), std::find(loss[0].begin(), loss[0].end(), "0.25"));
}

}  // namespace
}  // namespace kvring::test
