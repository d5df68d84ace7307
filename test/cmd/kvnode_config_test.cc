#include "cmd/kvnode/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "cmd/common/flags.h"
#include "test/util/test_util.h"

namespace kvring::cmd::kvnode {
namespace {

using base::Status;

Status Parse(std::vector<std::string> args, NodeConfig* c) {
  args.insert(args.begin(), "kvnode");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  std::string text;
  return ParseNodeConfig(static_cast<int>(argv.size()), argv.data(), c, &help, &text);
}

TEST(NodeConfig, FlagsSetEveryDocumentedField) {
  NodeConfig c;
  ASSERT_TRUE(Parse({"--id", "n1", "--listen", "127.0.0.1:7001", "--data", "/tmp/x", "--sync", "always",
                     "--seeds", "127.0.0.1:7002,127.0.0.1:7003", "--dc", "east", "--rack", "r2",
                     "--weight", "2", "--n", "3", "--r", "ONE", "--w=ALL", "--memtable", "8m"},
                    &c)
                  .ok());
  EXPECT_EQ("n1", c.id);
  EXPECT_EQ("127.0.0.1:7001", c.listen);
  EXPECT_EQ(lsm::SyncMode::kAlways, c.sync);
  EXPECT_EQ((std::vector<std::string>{"127.0.0.1:7002", "127.0.0.1:7003"}), c.seeds);
  EXPECT_EQ("east", c.dc);
  EXPECT_EQ("r2", c.rack);
  EXPECT_DOUBLE_EQ(2.0, c.weight);
  EXPECT_EQ("ONE", c.r);
  EXPECT_EQ("ALL", c.w);
  EXPECT_EQ(8u << 20, c.memtable_bytes);
}

TEST(NodeConfig, BadValuesNameTheFlag) {
  NodeConfig c1, c2, c3, c4;
  Status s = Parse({"--data", "/tmp/x", "--sync", "sometimes"}, &c1);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(std::string::npos, s.message().find("--sync")) << s.ToString();
  s = Parse({"--data", "/tmp/x", "--n", "three"}, &c2);
  EXPECT_NE(std::string::npos, s.message().find("--n")) << s.ToString();
  s = Parse({"--bogus", "1"}, &c3);
  EXPECT_NE(std::string::npos, s.message().find("unknown flag --bogus")) << s.ToString();
  s = Parse({"--listen", "127.0.0.1:1"}, &c4);
  EXPECT_NE(std::string::npos, s.message().find("--data")) << s.ToString();
}

TEST(NodeConfig, ConnectionLimitsHaveTheDocumentedDefaultsAndFlags) {
  NodeConfig defaults;
  ASSERT_TRUE(Parse({"--data", "/tmp/x"}, &defaults).ok());
  EXPECT_EQ(1024, defaults.max_inflight_per_connection);
  EXPECT_EQ(1u << 20, defaults.reply_soft_limit_bytes);
  EXPECT_EQ(64u << 20, defaults.reply_hard_limit_bytes);
  EXPECT_EQ(10000, defaults.frame_timeout_ms);
  EXPECT_EQ(5000, defaults.hello_timeout_ms);
  EXPECT_EQ(256u << 20, defaults.max_partial_frame_bytes);
  NodeConfig c;
  ASSERT_TRUE(Parse({"--data", "/tmp/x", "--max-inflight-per-connection", "64", "--reply-soft-limit", "512k",
                     "--reply-hard-limit", "32m", "--frame-timeout-ms", "2000", "--hello-timeout-ms", "0",
                     "--max-partial-frames", "1g"},
                    &c)
                  .ok());
  EXPECT_EQ(64, c.max_inflight_per_connection);
  EXPECT_EQ(512u << 10, c.reply_soft_limit_bytes);
  EXPECT_EQ(32u << 20, c.reply_hard_limit_bytes);
  EXPECT_EQ(2000, c.frame_timeout_ms);
  EXPECT_EQ(0, c.hello_timeout_ms);
  EXPECT_EQ(1u << 30, c.max_partial_frame_bytes);
}

TEST(NodeConfig, AHardReplyLimitThatCannotHoldOneLargestReplyIsRefused) {
  NodeConfig c1, c2, c3;
  Status s = Parse({"--data", "/tmp/x", "--reply-hard-limit", "8m"}, &c1);  // under 1m + the 16m frame limit
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("--reply-hard-limit")) << s.ToString();
  EXPECT_TRUE(Parse({"--data", "/tmp/x", "--reply-hard-limit", "0"}, &c2).ok());  // no limit
  s = Parse({"--data", "/tmp/x", "--max-inflight-per-connection", "0"}, &c3);
  EXPECT_NE(std::string::npos, s.message().find("--max-inflight-per-connection")) << s.ToString();
}

TEST(NodeConfig, ConfigFileGivesDefaultsAndFlagsOverride) {
  test::TempDir dir;
  std::string path = dir.Sub("node.conf");
  std::ofstream(path) << "# a node\nid = from-file\nlisten = 127.0.0.1:7100\ndata = " << dir.path()
                      << "\nsync = always   # durable\n";
  NodeConfig c;
  ASSERT_TRUE(Parse({"--config", path, "--id", "from-flag"}, &c).ok());
  EXPECT_EQ("from-flag", c.id);
  EXPECT_EQ("127.0.0.1:7100", c.listen);
  EXPECT_EQ(lsm::SyncMode::kAlways, c.sync);
}

TEST(NodeConfig, ConfigFileErrorsNameFileAndLine) {
  test::TempDir dir;
  std::string path = dir.Sub("bad.conf");
  std::ofstream(path) << "data = /tmp\nnot a setting\n";
  NodeConfig c;
  Status s = Parse({"--config", path}, &c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string::npos, s.message().find(path + ":2")) << s.ToString();
}

TEST(NodeConfig, HelpMentionsEveryRequiredFlag) {
  NodeConfig c;
  std::vector<std::string> args = {"kvnode", "--help"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  std::string text;
  ASSERT_TRUE(ParseNodeConfig(2, argv.data(), &c, &help, &text).ok());
  EXPECT_TRUE(help);
  for (const char* flag : {"--id", "--listen", "--data", "--sync", "--config", "--seeds", "--dc", "--rack",
                           "--weight", "--n", "--r", "--w"}) {
    EXPECT_NE(std::string::npos, text.find(std::string(flag) + " ")) << flag;
  }
}

TEST(ByteSize, ParsesSuffixes) {
  uint64_t b;
  ASSERT_TRUE(ParseByteSize("64", &b));
  EXPECT_EQ(64u, b);
  ASSERT_TRUE(ParseByteSize("32MiB", &b));
  EXPECT_EQ(32u << 20, b);
  ASSERT_TRUE(ParseByteSize("1g", &b));
  EXPECT_EQ(1ull << 30, b);
  EXPECT_FALSE(ParseByteSize("12q", &b));
  EXPECT_FALSE(ParseByteSize("", &b));
}

}  // namespace
}  // namespace kvring::cmd::kvnode

namespace kvring::cmd::kvnode {
namespace {

TEST(NodeConfig, LoneNodeDefaultsToOneReplicaButKeepsAnExplicitN) {
  NodeConfig lone, explicit_n, clustered;
  ASSERT_TRUE(Parse({"--data", "/tmp/x"}, &lone).ok());
  EXPECT_EQ(1, lone.n);
  ASSERT_TRUE(Parse({"--data", "/tmp/x", "--n", "3"}, &explicit_n).ok());
  EXPECT_EQ(3, explicit_n.n);
  ASSERT_TRUE(Parse({"--data", "/tmp/x", "--seeds", "127.0.0.1:7001"}, &clustered).ok());
  EXPECT_EQ(3, clustered.n);
}

TEST(NodeConfig, TestHookFlagsParseButStayOutOfTheHelp) {
  NodeConfig c;
  ASSERT_TRUE(Parse({"--data", "/tmp/x", "--test-clock-offset-ms", "-300000", "--test-fault-files",
                     "--test-fail-syncs-after", "12"},
                    &c)
                  .ok());
  EXPECT_EQ(-300000, c.test_clock_offset_ms);
  EXPECT_TRUE(c.test_fault_files);
  EXPECT_EQ(12, c.test_fail_syncs_after);
  NodeConfig defaults;
  ASSERT_TRUE(Parse({"--data", "/tmp/x"}, &defaults).ok());
  EXPECT_EQ(0, defaults.test_clock_offset_ms);
  EXPECT_FALSE(defaults.test_fault_files);
  EXPECT_EQ(-1, defaults.test_fail_syncs_after);
  std::vector<std::string> args = {"kvnode", "--help"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  bool help = false;
  std::string text;
  NodeConfig h;
  ASSERT_TRUE(ParseNodeConfig(2, argv.data(), &h, &help, &text).ok());
  EXPECT_TRUE(help);
  EXPECT_NE(std::string::npos, text.find("--sync")) << text;
  EXPECT_EQ(std::string::npos, text.find("--test-")) << "the test-only flags are hidden:\n" << text;
}

}  // namespace
}  // namespace kvring::cmd::kvnode
