// kvctl plan (cmd/kvctl/plan_command.h) over RING and CLUSTER_STATUS replies built
// here: the argument forms, the refusal while another change runs, the rebuilt
// ring checked against the node's fingerprint, and the text and JSON a user
// reads. The live-node form is in kvctl_commands_test.cc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cmd/common/text.h"
#include "cmd/kvctl/plan_command.h"
#include "ring/ownership.h"

namespace kvring::cmd::kvctl {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ring::NodeInfo Node(const std::string& id, const std::string& rack = "rack1") {
  ring::NodeInfo node;
  node.id = id;
  node.address = id + ".kv:7000";
  node.rack = rack;
  return node;
}

// The RING reply of a node whose ring has `nodes`, vnodes_per_weight and N as given.
repl::RingDescription Describe(const std::vector<ring::NodeInfo>& nodes, uint32_t vnodes_per_weight, int n) {
  ring::RingOptions options;
  options.vnodes_per_weight = vnodes_per_weight;
  options.replication = ring::ReplicationSpec::Total(n);
  auto built = ring::Ring::Build(nodes, options, 7);
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  repl::RingDescription desc;
  desc.version = 7;
  desc.replication = options.replication.ToString();
  desc.fingerprint = (*built)->Fingerprint();
  for (const ring::NodeOwnership& o : ring::ComputeOwnership(**built).nodes) {
    desc.members.push_back(repl::RingMember{o.node, o.vnodes, o.replica, o.primary});
  }
  return desc;
}

// CLUSTER_STATUS: every member normal and up, `bytes` and `keys` of load each;
// the first is the answering node.
std::vector<repl::MemberReport> Reports(const std::vector<ring::NodeInfo>& nodes, uint64_t bytes, uint64_t keys) {
  std::vector<repl::MemberReport> out;
  for (const ring::NodeInfo& node : nodes) {
    repl::MemberReport m;
    m.state.node = node;
    m.state.load_bytes = bytes;
    m.state.load_keys = keys;
    m.self = out.empty();
    out.push_back(m);
  }
  return out;
}

std::vector<ring::NodeInfo> ThreeNodes() { return {Node("n1"), Node("n2"), Node("n3", "rack2")}; }

ring::MembershipChange Parse(const std::vector<std::string>& args, const ring::NodeInfo& node = {}) {
  auto change = ParsePlanChange(args, node, "n1");
  EXPECT_TRUE(change.ok()) << change.status().ToString();
  return change.ok() ? *change : ring::MembershipChange{};
}

TEST(KvctlPlan, EachFormOfThePlanCommandNamesItsChange) {
  EXPECT_EQ("join of n4", Parse({"join"}, Node("n4")).ToString());
  EXPECT_EQ("decommission of n1", Parse({"decommission"}).ToString()) << "the node kvctl talks to";
  EXPECT_EQ("decommission of n2", Parse({"decommission", "n2"}).ToString());
  EXPECT_EQ("removenode of n3", Parse({"removenode", "n3"}).ToString());
  EXPECT_EQ("replace of n3 by n5", Parse({"replace", "n3"}, Node("n5")).ToString());
  EXPECT_EQ("set-weight of n2 to 1.5", Parse({"set-weight", "n2", "1.5"}).ToString());
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {}, {"join"}, {"removenode"}, {"set-weight", "n2"}, {"set-weight", "n2", "heavy"}, {"grow"}}) {
    auto change = ParsePlanChange(bad, ring::NodeInfo{}, "n1");
    EXPECT_TRUE(change.status().IsInvalidArgument()) << (bad.empty() ? "(none)" : bad[0]);
    EXPECT_TRUE(Contains(change.status().message(), "usage: plan join --id ID")) << change.status().message();
  }
}

TEST(KvctlPlan, APlanWhileAMemberIsJoiningIsRefusedNamingTheJoin) {
  std::vector<repl::MemberReport> members = Reports(ThreeNodes(), 1000, 10);
  repl::MemberReport joining = members.back();
  joining.state.node = Node("n9");
  joining.state.status = repl::MemberStatus::kJoining;
  members.push_back(joining);
  auto report = PlanFromCluster(Describe(ThreeNodes(), 4, 3), members, Parse({"decommission", "n2"}), 1 << 20);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.status().IsBusy());
  EXPECT_EQ(
      "decommission of n2 refused: join of n9 is still running; one membership change at a time (wait until "
      "it completes)",
      report.status().message());
}

TEST(KvctlPlan, ARingThatDoesNotRebuildToTheNodesFingerprintIsRefused) {
  repl::RingDescription desc = Describe(ThreeNodes(), 4, 3);
  desc.fingerprint ^= 1;
  auto report = PlanFromCluster(desc, Reports(ThreeNodes(), 0, 0), Parse({"removenode", "n3"}), 1 << 20);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(Contains(report.status().message(), "does not match its fingerprint")) << report.status().message();
}

TEST(KvctlPlan, TheVnodeCountPerWeightIsRecoveredFromTheRingReply) {
  std::vector<ring::NodeInfo> nodes = ThreeNodes();
  nodes[1].weight = 0.5;
  for (uint32_t vpw : {1u, 3u, 256u}) {
    auto report = PlanFromCluster(Describe(nodes, vpw, 3), Reports(nodes, 0, 0), Parse({"join"}, Node("n4")), 1);
    ASSERT_TRUE(report.ok()) << vpw << ": " << report.status().ToString();
  }
}

TEST(KvctlPlan, TextShowsBytesPerPairTheTotalTheEtaAndTheSurvivalTable) {
  const uint64_t load = 300ull << 20;
  auto report = PlanFromCluster(Describe(ThreeNodes(), 4, 3), Reports(ThreeNodes(), load, 3000),
                                Parse({"join"}, Node("n4", "rack2")), kDefaultStreamRate);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const ring::TransferPlan& t = report->plan.transfers;
  ASSERT_FALSE(t.pairs.empty());
  const std::string text = PlanText(*report);
  EXPECT_EQ(0u, text.find("plan: join of n4 on ring version 7 (replication 3, 3 nodes, 12 virtual nodes)\n")) << text;
  for (const ring::PairTransfer& p : t.pairs) {
    EXPECT_EQ("n4", p.destination);
    EXPECT_TRUE(Contains(text, "  " + p.source)) << text;
  }
  EXPECT_TRUE(Contains(text, FormatBytes(static_cast<double>(t.bytes)) + "\n")) << "the total line\n" << text;
  EXPECT_TRUE(Contains(text, "  ETA " + FormatSeconds(static_cast<double>(t.bytes) / kDefaultStreamRate) +
                                 " at 32.0 MiB/s per node: n4 streams the most"))
      << text;
  // n1, n2 in rack1 and n3, n4 in rack2: any node can fail, a rack cannot.
  EXPECT_TRUE(Contains(text, "  any one node         QUORUM        yes (4 nodes tried)\n")) << text;
  EXPECT_TRUE(Contains(text, "  any one rack         QUORUM        NO (")) << text;
  EXPECT_TRUE(Contains(text,
                       "note: sizes are estimates: each node's load (kvctl status) split over the ranges it "
                       "replicates in proportion to their token span\n"))
      << text;
  // n1..n3 each hold the whole ring, so n4's share of it comes from their loads.
  EXPECT_GT(t.bytes, load / 2);
  EXPECT_LE(t.bytes, load);
}

TEST(KvctlPlan, JsonCarriesTheSameNumbersAsTheText) {
  auto report = PlanFromCluster(Describe(ThreeNodes(), 4, 3), Reports(ThreeNodes(), 1 << 20, 1000),
                                Parse({"decommission", "n2"}), kDefaultStreamRate);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const std::string json = PlanJson(*report);
  const ring::TransferPlan& t = report->plan.transfers;
  EXPECT_EQ(0u, json.find("{\"change\": \"decommission of n2\", \"ring_version\": 7, \"replication\": \"3\", "
                          "\"nodes\": 3, \"vnodes\": 12, \"arcs_changing\": 12, \"transfers\": {\"pairs\": [], "
                          "\"ranges\": 0, \"keys\": 0, \"bytes\": 0, \"lost_ranges\": [], \"stream_rate\": 33554432, "
                          "\"busiest\": \"\", \"busiest_bytes\": 0, \"eta_seconds\": 0.000}, \"survival\": ["))
      << json;
  EXPECT_EQ(0u, t.bytes) << "two nodes left for N = 3: ranges only lose a replica";
  EXPECT_TRUE(Contains(json,
                       "{\"failure\": \"node\", \"level\": \"QUORUM\", \"survives\": false, \"cases\": 2, "
                       "\"failing\": 2, \"first\": {\"failed\": \"n1\", \"range\": \""))
      << json;
  EXPECT_TRUE(Contains(json, "\"alive\": 1, \"needed\": 2}")) << json;
  EXPECT_EQ('\n', json.back());
}

TEST(KvctlPlan, ADownMemberThePlanStreamsFromIsNoted) {
  std::vector<repl::MemberReport> members = Reports(ThreeNodes(), 1 << 20, 1000);
  members.push_back(members.back());
  members.back().state.node = Node("n4");
  std::vector<ring::NodeInfo> four = ThreeNodes();
  four.push_back(Node("n4"));
  members[1].liveness = repl::Liveness::kDown;  // n2
  auto report = PlanFromCluster(Describe(four, 4, 3), members, Parse({"decommission", "n2"}), kDefaultStreamRate);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const std::string text = PlanText(*report);
  EXPECT_TRUE(Contains(text, "note: n2 is down (as n1 sees it) but is the planned source of ")) << text;
  EXPECT_TRUE(Contains(text, "; for a node gone for good, plan removenode n2\n")) << text;
}

}  // namespace
}  // namespace kvring::cmd::kvctl
