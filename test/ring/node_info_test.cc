#include "ring/node_info.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace kvring::ring {
namespace {

NodeInfo Node(const std::string& id, const std::string& address) {
  NodeInfo node;
  node.id = id;
  node.address = address;
  return node;
}

TEST(NodeInfo, DefaultsAreDc1Rack1WeightOne) {
  const NodeInfo node;
  EXPECT_EQ("dc1", node.dc);
  EXPECT_EQ("rack1", node.rack);
  EXPECT_EQ(1.0, node.weight);
  EXPECT_EQ("n1 (127.0.0.1:7000, dc1/rack1, weight 1)", Node("n1", "127.0.0.1:7000").ToString());
}

TEST(ParsePort, AcceptsHostPortAndBracketedIpv6) {
  EXPECT_EQ(7000, *ParsePort("127.0.0.1:7000"));
  EXPECT_EQ(1, *ParsePort("kv-1.example.com:1"));
  EXPECT_EQ(65535, *ParsePort("[::1]:65535"));
}

TEST(ParsePort, RejectsMalformedAddressesNamingTheProblem) {
  struct Case {
    const char* address;
    const char* why;
  };
  for (const Case& c : {Case{"127.0.0.1", "no ':'"}, Case{":7000", "empty host"}, Case{"h:", "1..65535"},
                        Case{"h:0", "1..65535"}, Case{"h:65536", "1..65535"}, Case{"h:70x", "1..65535"},
                        Case{"::1:7000", "brackets"}, Case{"[::1:7000", "unclosed"}}) {
    base::Result<int> port = ParsePort(c.address);
    ASSERT_FALSE(port.ok()) << c.address;
    EXPECT_TRUE(port.status().IsInvalidArgument());
    EXPECT_NE(std::string::npos, port.status().message().find(c.why)) << port.status().ToString();
    EXPECT_NE(std::string::npos, port.status().message().find(c.address)) << port.status().ToString();
  }
}

TEST(ValidateNode, RejectsEachBadFieldWithTheNodeNamed) {
  NodeInfo ok = Node("n1", "h:1");
  EXPECT_TRUE(ValidateNode(ok).ok());

  NodeInfo bad = ok;
  bad.id = "";
  EXPECT_NE(std::string::npos, ValidateNode(bad).message().find("node id is empty"));
  bad = ok;
  bad.id = "n 1";
  EXPECT_NE(std::string::npos, ValidateNode(bad).message().find("space"));
  bad = ok;
  bad.dc = "";
  EXPECT_NE(std::string::npos, ValidateNode(bad).message().find("dc is empty"));
  bad = ok;
  bad.dc = "dc1:2";
  EXPECT_NE(std::string::npos, ValidateNode(bad).message().find("contains ':' or ','"));
  bad = ok;
  bad.rack = "r\t1";
  EXPECT_NE(std::string::npos, ValidateNode(bad).message().find("rack"));
  for (double w : {0.0, -1.0, 65.0, std::nan("")}) {
    bad = ok;
    bad.weight = w;
    base::Status s = ValidateNode(bad);
    EXPECT_NE(std::string::npos, s.message().find("weight")) << w;
    EXPECT_NE(std::string::npos, s.message().find("node \"n1\"")) << s.ToString();
  }
  bad = ok;
  bad.address = "nowhere";
  EXPECT_NE(std::string::npos, ValidateNode(bad).message().find("node \"n1\""));
}

TEST(ValidateMembers, RejectsDuplicateIdsAndAddresses) {
  EXPECT_TRUE(ValidateMembers({Node("a", "h:1"), Node("b", "h:2")}).ok());
  base::Status dup_id = ValidateMembers({Node("a", "h:1"), Node("a", "h:2")});
  EXPECT_TRUE(dup_id.IsInvalidArgument());
  EXPECT_NE(std::string::npos, dup_id.message().find("\"a\" appears twice"));
  base::Status dup_addr = ValidateMembers({Node("a", "h:1"), Node("b", "h:1")});
  EXPECT_NE(std::string::npos, dup_addr.message().find("h:1 is given to two nodes"));
  EXPECT_TRUE(ValidateMembers({}).ok());
}

}  // namespace
}  // namespace kvring::ring
