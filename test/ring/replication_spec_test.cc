#include "ring/replication_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace kvring::ring {
namespace {

TEST(ReplicationSpec, DefaultIsThreeOverTheCluster) {
  const ReplicationSpec spec;
  EXPECT_FALSE(spec.per_dc());
  EXPECT_EQ(3, spec.total());
  EXPECT_EQ(3, spec.ReplicasIn("anything"));
  EXPECT_EQ("3", spec.ToString());
}

TEST(ReplicationSpec, ParsesATotal) {
  base::Result<ReplicationSpec> spec = ReplicationSpec::Parse(" 5 ");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(ReplicationSpec::Total(5), *spec);
  EXPECT_EQ("5", spec->ToString());
}

TEST(ReplicationSpec, ParsesPerDcCountsAndPrintsThemSortedByDc) {
  base::Result<ReplicationSpec> spec = ReplicationSpec::Parse("west:1, east : 2");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_TRUE(spec->per_dc());
  EXPECT_EQ(3, spec->total());
  EXPECT_EQ(2, spec->ReplicasIn("east"));
  EXPECT_EQ(1, spec->ReplicasIn("west"));
  EXPECT_EQ(0, spec->ReplicasIn("north"));
  EXPECT_EQ("east:2,west:1", spec->ToString());
  base::Result<ReplicationSpec> again = ReplicationSpec::Parse(spec->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*spec, *again);
}

TEST(ReplicationSpec, RejectsBadSpecsWithTheReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {
           Case{"", "empty"},
           Case{"0", "outside 1..16"},
           Case{"17", "outside 1..16"},
           Case{"99999999999999999999", "outside 1..16"},
           Case{"three", "not a number"},
           Case{"-1", "not a number"},
           Case{"dc1:2,", "empty entry"},
           Case{"dc1:2,,dc2:1", "empty entry"},
           Case{"dc1:2,dc2", "has no ':'"},
           Case{":2", "no datacenter name"},
           Case{"dc1:", "missing replica count for dc1"},
           Case{"dc1:x", "\"x\" for dc1 is not a number"},
           Case{"dc1:0", "0 for dc1 is outside"},
           Case{"dc1:2:3", "not a number"},
           Case{"dc 1:2", "contains a space"},
           Case{"dc1:2,dc1:1", "dc1 is named twice"},
           Case{"a:9,b:8", "17 replicas in all"},
       }) {
    base::Result<ReplicationSpec> spec = ReplicationSpec::Parse(c.text);
    ASSERT_FALSE(spec.ok()) << "accepted \"" << c.text << "\"";
    EXPECT_TRUE(spec.status().IsInvalidArgument());
    const std::string& msg = spec.status().message();
    EXPECT_NE(std::string::npos, msg.find(c.why)) << c.text << " -> " << msg;
    EXPECT_NE(std::string::npos, msg.find(std::string("\"") + c.text + "\"")) << msg;
  }
}

TEST(ReplicationSpec, PerDcChecksItsFactors) {
  EXPECT_TRUE(ReplicationSpec::PerDc({{"dc1", 2}, {"dc2", 1}}).ok());
  EXPECT_FALSE(ReplicationSpec::PerDc({}).ok());
  base::Result<ReplicationSpec> bad = ReplicationSpec::PerDc({{"dc1", 2}, {"dc1", 1}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ("replication spec: datacenter dc1 is named twice", bad.status().message());
  EXPECT_FALSE(ReplicationSpec::PerDc({{"d,c", 1}}).ok());
  EXPECT_FALSE(ReplicationSpec::PerDc({{"dc1", 0}}).ok());
}

}  // namespace
}  // namespace kvring::ring
