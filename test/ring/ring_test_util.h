// test/ring/ring_test_util.h — member lists and small helpers shared by the ring tests.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "ring/ring.h"
#include "ring/transition.h"

namespace kvring::ring::testing {

// Node `id` at a unique loopback-style address, with the given labels.
inline NodeInfo MakeNode(const std::string& id, const std::string& dc = "dc1", const std::string& rack = "rack1",
                         double weight = 1.0) {
  NodeInfo node;
  node.id = id;
  node.address = id + ".kv:7000";
  node.dc = dc;
  node.rack = rack;
  node.weight = weight;
  return node;
}

// n1..n<count> in dc1/rack1, weight 1.
inline std::vector<NodeInfo> MakeNodes(int count, const std::string& prefix = "n") {
  std::vector<NodeInfo> nodes;
  for (int i = 1; i <= count; ++i) nodes.push_back(MakeNode(prefix + std::to_string(i)));
  return nodes;
}

// Builds a ring the test expects to be valid.
inline std::shared_ptr<const Ring> BuildRing(std::vector<NodeInfo> members, RingOptions options = {}) {
  base::Result<std::shared_ptr<const Ring>> ring = Ring::Build(std::move(members), std::move(options));
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return ring.ok() ? *ring : nullptr;
}

// The transition for a change the test expects to apply; a refusal fails the
// test and stops the binary (nothing after it could run).
inline RingTransition Start(const std::vector<NodeInfo>& members, const MembershipChange& change,
                            const RingOptions& options = {}) {
  base::Result<RingTransition> t = StartChange(members, options, change);
  if (!t.ok()) {
    ADD_FAILURE() << change.ToString() << ": " << t.status().ToString();
    std::abort();
  }
  return std::move(t).value();
}

inline RingOptions WithSpec(const std::string& spec) {
  RingOptions options;
  base::Result<ReplicationSpec> parsed = ReplicationSpec::Parse(spec);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (parsed.ok()) options.replication = *parsed;
  return options;
}

// Ids of a preference list, in order.
inline std::vector<std::string> Ids(const PreferenceList& list) {
  std::vector<std::string> ids;
  for (const NodeInfo* node : list) ids.push_back(node->id);
  return ids;
}

// A random id no other test run is likely to share (so balance tests see fresh rings).
inline std::string RandomId(base::Random& rnd, int i) {
  return "node-" + std::to_string(i) + "-" + std::to_string(rnd.Next64() % 1000000007);
}

// 1..20 nodes with random ids over dc1..dc<1-3>, racks r1..r4, weights 0.5..2.
inline std::vector<NodeInfo> RandomMembers(base::Random& rnd) {
  const int count = 1 + static_cast<int>(rnd.Uniform(20));
  const int dcs = 1 + static_cast<int>(rnd.Uniform(3));
  const double weights[] = {0.5, 1.0, 1.0, 2.0};
  std::vector<NodeInfo> nodes;
  for (int i = 0; i < count; ++i) {
    nodes.push_back(MakeNode(RandomId(rnd, i), "dc" + std::to_string(1 + rnd.Uniform(dcs)),
                             "r" + std::to_string(1 + rnd.Uniform(4)), weights[rnd.Uniform(4)]));
  }
  return nodes;
}

// A total N in 1..6, or a per-DC spec over some of dc1..dc4 (dc4 never has nodes
// in RandomMembers, so it must contribute nothing).
inline ReplicationSpec RandomSpec(base::Random& rnd) {
  if (rnd.OneIn(2)) return ReplicationSpec::Total(1 + static_cast<int>(rnd.Uniform(6)));
  std::vector<ReplicationSpec::DcFactor> factors;
  for (int dc = 1; dc <= 4; ++dc) {
    if (rnd.OneIn(2)) factors.push_back({"dc" + std::to_string(dc), 1 + static_cast<int>(rnd.Uniform(3))});
  }
  if (factors.empty()) factors.push_back({"dc1", 2});
  return *ReplicationSpec::PerDc(factors);
}

}  // namespace kvring::ring::testing
