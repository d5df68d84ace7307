// A 3-node cluster with TLS on for clients and between nodes (--tls, one
// self-signed certificate for 127.0.0.1 that is also the CA): writes at QUORUM
// through each node read back through every node; kvctl and kvbench with
// --tls-ca work and a client without TLS is refused in plain words; a node
// killed with kill -9 misses writes that reach it by hinted handoff over TLS
// after its restart. Every test reads back everything it had acknowledged.
// Skips when the openssl command (which makes the certificate) is missing.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "net/tls.h"
#include "test/cluster/cluster_test_util.h"
#include "test/util/tls_certs.h"

namespace kvring::test {
namespace {

constexpr uint64_t kHandoffTimeoutMs = 60'000;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ClusterTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveOpenssl()) GTEST_SKIP() << "the openssl command is missing: cannot make the test certificate";
    ASSERT_TRUE(MakeSelfSignedCert(files_.path(), "node", &cert_)) << "openssl req failed";
    auto tls = net::TlsContext::ForClient(cert_.cert);
    KV_ASSERT_OK(tls);
    ClusterOptions o{.nodes = 3, .n = 3, .sync = "always"};
    o.extra_flags = {"--tls", "--tls-cert", cert_.cert, "--tls-key", cert_.key, "--tls-ca", cert_.cert};
    o.tls = std::move(tls).value();
    cluster_ = std::make_unique<Cluster>(o);
    KV_ASSERT_OK(cluster_->Start());
  }

  // Puts count keys at QUORUM through node `via`, recording what was acknowledged.
  void PutThrough(size_t via, const std::string& prefix, int count, std::map<std::string, std::string>* acked) {
    for (int i = 0; i < count; ++i) {
      auto put = cluster_->client(via).Put(Key(prefix, i), Value(prefix, i), kQuorum);
      ASSERT_TRUE(put.ok()) << Key(prefix, i) << ": " << put.status().ToString();
      (*acked)[Key(prefix, i)] = Value(prefix, i);
    }
  }
  void ExpectReadableEverywhere(const std::map<std::string, std::string>& acked) {
    for (size_t i = 0; i < cluster_->size(); ++i) {
      EXPECT_EQ("", CheckReadable(cluster_->client(i), acked, kQuorum)) << "through " << cluster_->node(i).id();
    }
  }
  int64_t HintsPending() {
    int64_t total = 0;
    for (size_t i = 0; i < cluster_->size(); ++i) {
      if (cluster_->node(i).running()) total += StatsCounter(cluster_->client(i), "hints_pending");
    }
    return total;
  }

  TempDir files_;  // outlives the cluster
  TlsFiles cert_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ClusterTlsTest, QuorumWritesThroughEachNodeReadBackThroughEveryNode) {
  std::map<std::string, std::string> acked;
  for (size_t via = 0; via < cluster_->size(); ++via) PutThrough(via, "tls" + std::to_string(via), 100, &acked);
  ExpectReadableEverywhere(acked);
  for (size_t i = 0; i < cluster_->size(); ++i) {
    EXPECT_TRUE(Contains(cluster_->node(i).LogTail(200), "TLS on ")) << cluster_->node(i).LogTail(20);
  }
}

TEST_F(ClusterTlsTest, KvctlAndKvbenchWithTlsCaWorkAndPlainClientsAreRefused) {
  const std::string host = cluster_->node(1).address();
  const std::string kvctl = BinaryPath("kvctl"), kvbench = BinaryPath("kvbench");
  ProgramResult put = RunProgram({kvctl, "--host", host, "--tls-ca", cert_.cert, "--w", "QUORUM", "put", "k", "v1"});
  EXPECT_EQ(0, put.exit_code) << put.ToString();
  ProgramResult get = RunProgram({kvctl, "--host", host, "--tls-ca", cert_.cert, "--r", "QUORUM", "get", "k"});
  EXPECT_EQ(0, get.exit_code) << get.ToString();
  EXPECT_EQ("v1\n", get.out);
  ProgramResult plain = RunProgram({kvctl, "--host", host, "get", "k"});
  EXPECT_EQ(2, plain.exit_code) << plain.ToString();
  EXPECT_TRUE(Contains(plain.err, "this port requires TLS")) << plain.ToString();

  const std::string json = files_.Sub("bench.json");
  ProgramResult bench = RunProgram({kvbench, "--target", "kv://" + host, "--tls-ca", cert_.cert, "--duration", "1",
                                    "--warmup", "0", "--keys", "200", "--connections", "4", "--pipeline", "8",
                                    "--quiet", "--json", json}, "", 60'000);
  EXPECT_EQ(0, bench.exit_code) << bench.ToString();
  std::stringstream report;
  report << std::ifstream(json).rdbuf();
  EXPECT_TRUE(Contains(report.str(), "\"errors\": 0,")) << report.str();
  EXPECT_TRUE(Contains(report.str(), "\"preload_errors\": 0")) << report.str();
  ProgramResult bench_plain = RunProgram({kvbench, "--target", "kv://" + host, "--duration", "1", "--quiet"});
  EXPECT_NE(0, bench_plain.exit_code) << bench_plain.ToString();
  EXPECT_TRUE(Contains(bench_plain.out + bench_plain.err, "requires TLS")) << bench_plain.ToString();
  std::map<std::string, std::string> acked{{"k", "v1"}};
  EXPECT_EQ("", CheckReadable(cluster_->client(0), acked, kAll));
}

TEST_F(ClusterTlsTest, KillNineAndHintedHandoffOverTlsLoseNothingAcknowledged) {
  std::map<std::string, std::string> acked;
  PutThrough(0, "before", 100, &acked);
  cluster_->node(2).Kill();
  KV_ASSERT_OK(cluster_->WaitUntilSeenDown(0, 2));
  KV_ASSERT_OK(cluster_->WaitUntilSeenDown(1, 2));
  PutThrough(0, "during0", 150, &acked);
  PutThrough(1, "during1", 150, &acked);
  // n3 missed every one of them (a hint is stored once its call to n3 failed: just after the ack).
  EXPECT_TRUE(WaitFor([&] { return HintsPending() >= 300; }, 10'000)) << HintsPending() << " hints";
  KV_ASSERT_OK(cluster_->node(2).Restart());
  EXPECT_TRUE(WaitFor([&] { return HintsPending() == 0; }, kHandoffTimeoutMs))
      << HintsPending() << " hints still pending\n" << cluster_->LogTails(10);
  size_t missing = 0;
  for (const auto& [key, value] : acked) {
    auto local = cluster_->client(2).GetLocal(key);
    if (!local.ok() || local->values() != std::vector<std::string>{value}) ++missing;
  }
  EXPECT_EQ(0u, missing) << missing << " of " << acked.size() << " keys did not reach n3's own store";
  ExpectReadableEverywhere(acked);
}

}  // namespace
}  // namespace kvring::test
