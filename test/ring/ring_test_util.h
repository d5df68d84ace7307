// test/ring/ring_test_util.h — member lists and small helpers shared by the ring tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "ring/ring.h"

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

}  // namespace kvring::ring::testing
