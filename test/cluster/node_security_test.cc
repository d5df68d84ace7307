// A node's cluster secret and protected mode, on real kvnode processes: without a
// secret a node refuses to listen where other machines can reach it; a secret file
// that is short or readable by others is refused; the secret keys client contexts,
// so a context of a cluster with another secret is refused as forged.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "test/cluster/cluster_test_util.h"

namespace kvring::test {
namespace {

std::string WriteSecret(const TempDir& dir, const std::string& name, const std::string& content, mode_t mode) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path, std::ios::trunc) << content;
  EXPECT_EQ(0, ::chmod(path.c_str(), mode));
  return path;
}

ProgramResult RunKvnode(const TempDir& dir, std::vector<std::string> flags) {
  std::vector<std::string> argv = {BinaryPath("kvnode"), "--data", dir.path() + "/data"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return RunProgram(argv, "", 10'000);
}

TEST(NodeSecurityTest, WithoutASecretANodeRefusesToListenBeyondLoopback) {
  TempDir dir;
  ProgramResult r = RunKvnode(dir, {"--listen", "0.0.0.0:0"});
  EXPECT_EQ(1, r.exit_code) << r.ToString();
  EXPECT_NE(std::string::npos, r.err.find("--listen 0.0.0.0:0 is reachable from other machines and no --secret-file"))
      << r.ToString();
}

TEST(NodeSecurityTest, AShortOrOpenSecretFileIsRefusedNamingTheFix) {
  TempDir dir;
  ProgramResult open = RunKvnode(
      dir, {"--listen", "127.0.0.1:0", "--secret-file", WriteSecret(dir, "open", std::string(32, 's'), 0644)});
  EXPECT_EQ(1, open.exit_code) << open.ToString();
  EXPECT_NE(std::string::npos, open.err.find("chmod 600")) << open.ToString();
  ProgramResult short_secret =
      RunKvnode(dir, {"--listen", "127.0.0.1:0", "--secret-file", WriteSecret(dir, "short", "hunter2\n", 0600)});
  EXPECT_EQ(1, short_secret.exit_code) << short_secret.ToString();
  EXPECT_NE(std::string::npos, short_secret.err.find("7 bytes, at least 16")) << short_secret.ToString();
}

TEST(NodeSecurityTest, TheSecretKeysContextsSoAnotherClustersContextIsRefused) {
  TempDir dir;
  KvnodeOptions a;
  a.id = "a1";
  a.extra_flags = {"--secret-file", WriteSecret(dir, "a", "secret of cluster a, 32 bytes..", 0600)};
  KvnodeOptions b;
  b.id = "b1";
  b.extra_flags = {"--secret-file", WriteSecret(dir, "b", "secret of cluster b, 32 bytes..", 0600)};
  KvnodeProcess node_a(dir.path(), a), node_b(dir.path(), b);
  KV_ASSERT_OK(node_a.Start());
  KV_ASSERT_OK(node_b.Start());
  KvClient client_a(node_a.address()), client_b(node_b.address());
  KV_ASSERT_OK(client_a.Put("k", "a"));
  KV_ASSERT_OK(client_b.Put("k", "b"));
  auto from_a = client_a.Get("k");
  auto from_b = client_b.Get("k");
  KV_ASSERT_OK(from_a);
  KV_ASSERT_OK(from_b);
  // Cluster b's context for the same key, sent to cluster a.
  auto forged = client_a.Put("k", "x", net::kConsistencyDefault, from_b->context);
  ASSERT_FALSE(forged.ok());
  EXPECT_TRUE(forged.status().IsInvalidArgument()) << forged.status().ToString();
  EXPECT_NE(std::string::npos, forged.status().message().find("forged")) << forged.status().ToString();
  KV_ASSERT_OK(client_a.Put("k", "a2", net::kConsistencyDefault, from_a->context));
  auto after = client_a.Get("k");
  KV_ASSERT_OK(after);
  EXPECT_EQ(std::vector<std::string>{"a2"}, after->values());
}

}  // namespace
}  // namespace kvring::test
