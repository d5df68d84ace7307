// A network partition between two nodes of a 3-node cluster (N=3): nodes listen
// on 127.0.0.1, 127.0.0.2 and 127.0.0.3 inside a private network namespace, and
// iptables drops the traffic of one address pair (kvnode binds its outgoing
// node-to-node connections to its own listen address). Writes with W=2 still
// succeed through every node, the receipts show which replicas acknowledged, a
// write that needs the cut replica names it, and after healing every
// acknowledged write is readable everywhere.
//
// Needs root, unshare and iptables; elsewhere it is skipped. The test re-runs its
// own binary inside `unshare --net` (with KV_NETNS_CHILD=1), so nothing outside
// the namespace sees the rules.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "test/cluster/cluster_test_util.h"
#include "test/util/netns.h"

namespace kvring::test {
namespace {

constexpr char kChildEnv[] = "KV_NETNS_CHILD";
constexpr char kClientSource[] = "127.0.0.9";  // the test's own traffic: never cut

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Drops (or, with add=false, stops dropping) packets between two hosts, both ways.
base::Status CutLink(const std::string& a, const std::string& b, bool add) {
  const std::string iptables = FindProgram("iptables");
  for (const auto& [src, dst] : {std::pair{a, b}, std::pair{b, a}}) {
    ProgramResult r = RunProgram({iptables, add ? "-I" : "-D", "INPUT", "-s", src, "-d", dst, "-j", "DROP"});
    if (r.exit_code != 0) return base::Status::IOError("iptables " + src + " -> " + dst + ": " + r.err);
  }
  return base::Status::OK();
}

void RunInsideTheNamespace();

TEST(ClusterPartitionTest, WritesSucceedThroughEveryNodeWhenOneLinkIsCut) {
  if (std::getenv(kChildEnv) != nullptr) {
    RunInsideTheNamespace();
    return;
  }
  if (::geteuid() != 0) GTEST_SKIP() << "partition test skipped: needs root (unshare --net, iptables)";
  const std::string unshare = FindProgram("unshare"), iptables = FindProgram("iptables"), ip = FindProgram("ip");
  if (unshare.empty() || iptables.empty() || ip.empty()) {
    GTEST_SKIP() << "partition test skipped: needs unshare, iptables and ip (apt-get install iptables iproute2)";
  }
  ProgramResult probe = RunProgram({unshare, "--net", "--", iptables, "-L", "-n"});
  if (probe.exit_code != 0) {
    GTEST_SKIP() << "partition test skipped: iptables does not work in a private network namespace here: "
                 << probe.err;
  }
  // Re-run this test inside a fresh network namespace with loopback up.
  const std::string script = ip + " link set lo up && exec env " + kChildEnv +
                             "=1 \"$0\" --gtest_filter=ClusterPartitionTest.WritesSucceedThroughEveryNodeWhenOneLinkIsCut";
  ProgramResult run = RunProgram({unshare, "--net", "--", "/bin/sh", "-c", script, SelfPath()}, "", 300'000);
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(0, run.exit_code) << "inside the namespace:\n" << run.out << run.err;
  EXPECT_TRUE(Contains(run.out, "[  PASSED  ] 1 test")) << "the test did not run inside the namespace:\n" << run.out;
}

void RunInsideTheNamespace() {
  Cluster cluster({.nodes = 3,
                   .n = 3,
                   .hosts = {"127.0.0.1", "127.0.0.2", "127.0.0.3"},
                   .extra_flags = {"--request-timeout-ms", "1000"},
                   .client_source = kClientSource});
  KV_ASSERT_OK(cluster.Start());
  std::map<std::string, std::string> acked;
  for (int i = 0; i < 10; ++i) {
    KV_ASSERT_OK(cluster.client(i % 3).Put(Key("before", i), Value("before", i), kAll));
    acked[Key("before", i)] = Value("before", i);
  }

  // Cut n1 <-> n2. n3 still reaches both.
  KV_ASSERT_OK(CutLink("127.0.0.1", "127.0.0.2", true));
  auto acks_of = [](const WriteResult& w) {
    std::vector<std::string> a = w.acks;
    std::sort(a.begin(), a.end());
    return a;
  };
  for (int i = 0; i < 10; ++i) {
    const std::string key = Key("cut", i), value = Value("cut", i);
    const size_t via = static_cast<size_t>(i) % 3;
    auto put = cluster.client(via).Put(key, value, kTwo);
    KV_ASSERT_OK(put);
    acked[key] = value;
    // n1 and n2 cannot reach each other: their writes are acknowledged with n3.
    if (via == 0) {
      EXPECT_EQ((std::vector<std::string>{"n1", "n3"}), acks_of(*put)) << key;
    } else if (via == 1) {
      EXPECT_EQ((std::vector<std::string>{"n2", "n3"}), acks_of(*put)) << key;
    } else {
      EXPECT_GE(put->acks.size(), 2u) << key;
    }
  }
  // A write that needs all three replicas fails through n1 and names n2.
  auto all = cluster.client(0).Put("cut-all", "v", kAll);
  ASSERT_FALSE(all.ok());
  EXPECT_TRUE(Contains(all.status().message(), "quorum not reached")) << all.status().ToString();
  EXPECT_TRUE(Contains(all.status().message(), "n2")) << all.status().ToString();
  EXPECT_FALSE(Contains(all.status().message(), "n3")) << all.status().ToString();
  // R=2 reads work through every node.
  for (size_t via = 0; via < 3; ++via) EXPECT_EQ("", CheckReadable(cluster.client(via), acked, kTwo));

  // Heal: n1 reaches n2 again (after its RPC client reconnects) and W=ALL works.
  KV_ASSERT_OK(CutLink("127.0.0.1", "127.0.0.2", false));
  std::string last;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto put = cluster.client(0).Put("healed", "v", kAll);
        last = put.ok() ? "" : put.status().ToString();
        return put.ok();
      },
      kClusterSettleTimeoutMs))
      << "W=ALL through n1 still fails after healing: " << last;
  for (size_t via = 0; via < 3; ++via) EXPECT_EQ("", CheckReadable(cluster.client(via), acked, kTwo));
}

}  // namespace
}  // namespace kvring::test
