// kvctl as a process (fork/exec with pipes) against a real single kvnode: put
// from an argument and from stdin, get, del, ping, stats, receipts with -v,
// --base64, --help, plan, and the exit codes scripts rely on (0 found, 1 not
// found, 2 error).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cmd/common/text.h"
#include "test/util/kvnode_process.h"
#include "test/util/test_util.h"

namespace kvring::test {
namespace {

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class KvctlCommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    node_ = new KvnodeProcess(dir_->path(), KvnodeOptions{});
    base::Status s = node_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  static void TearDownTestSuite() {
    delete node_;
    delete dir_;
  }

  // kvctl --host NODE args..., with `input` on stdin.
  static ProgramResult Kvctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {BinaryPath("kvctl"), "--host", node_->address()});
    return RunProgram(args, input);
  }

  static TempDir* dir_;
  static KvnodeProcess* node_;
};

TempDir* KvctlCommandsTest::dir_ = nullptr;
KvnodeProcess* KvctlCommandsTest::node_ = nullptr;

TEST_F(KvctlCommandsTest, PutFromAnArgumentThenGetPrintsTheValue) {
  ProgramResult put = Kvctl({"put", "greeting", "hello world"});
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  ProgramResult get = Kvctl({"get", "greeting"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  EXPECT_EQ("hello world\n", get.out);
}

// (From branch coord.)
TEST_F(KvctlCommandsTest, PerDcLevelsAreAcceptedInAnyCase) {
  ProgramResult put = Kvctl({"--w", "local_quorum", "put", "dc-level", "v"});
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  ProgramResult get = Kvctl({"--r", "Local_One", "get", "dc-level"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  EXPECT_EQ("v\n", get.out);
  EXPECT_EQ(0, Kvctl({"--r", "EACH_QUORUM", "get", "dc-level"}).exit_code);
  ProgramResult bad = Kvctl({"--r", "LOCAL", "get", "dc-level"});
  EXPECT_EQ(2, bad.exit_code);
  EXPECT_NE(std::string::npos, bad.err.find("--r: 'LOCAL' is not ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM"))
      << bad.ToString();
}

TEST_F(KvctlCommandsTest, PutReadsTheValueFromStdinWhenNoneIsGiven) {
  const std::string value = "line one\nline two\n";
  ProgramResult put = Kvctl({"put", "from-stdin"}, value);
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  ProgramResult get = Kvctl({"--base64", "get", "from-stdin"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  EXPECT_EQ(cmd::Base64Encode(value) + "\n", get.out) << "stdin must be stored byte for byte";
}

TEST_F(KvctlCommandsTest, Base64PrintsBinaryValuesExactly) {
  std::string binary("\0\x01\x02\xff\xfe\n\0end", 10);
  ProgramResult put = Kvctl({"put", "binary"}, binary);
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  ProgramResult get = Kvctl({"get", "--base64", "binary"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  std::string decoded;
  ASSERT_TRUE(cmd::Base64Decode(get.out.substr(0, get.out.size() - 1), &decoded)) << get.out;
  EXPECT_EQ(binary, decoded);
}

TEST_F(KvctlCommandsTest, GetOfAMissingKeyExitsOneAndSaysNotFound) {
  ProgramResult get = Kvctl({"get", "no-such-key"});
  EXPECT_EQ(1, get.exit_code) << get.ToString();
  EXPECT_EQ("", get.out);
  EXPECT_TRUE(Contains(get.err, "not found")) << get.ToString();
}

TEST_F(KvctlCommandsTest, DelThenGetExitsOne) {
  ASSERT_EQ(0, Kvctl({"put", "short-lived", "x"}).exit_code);
  ProgramResult del = Kvctl({"del", "short-lived"});
  ASSERT_EQ(0, del.exit_code) << del.ToString();
  EXPECT_EQ(1, Kvctl({"get", "short-lived"}).exit_code);
}

TEST_F(KvctlCommandsTest, VerbosePutAndDelPrintTheReceipt) {
  ProgramResult put = Kvctl({"put", "-v", "receipt", "v"});
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  EXPECT_TRUE(Contains(put.out, "put acknowledged by 1 replica(s): n1")) << put.ToString();
  ProgramResult del = Kvctl({"--verbose", "del", "receipt"});
  ASSERT_EQ(0, del.exit_code) << del.ToString();
  EXPECT_TRUE(Contains(del.out, "delete acknowledged by 1 replica(s): n1")) << del.ToString();
}

TEST_F(KvctlCommandsTest, VerboseGetShowsTheClockAndContext) {
  ASSERT_EQ(0, Kvctl({"put", "clocked", "v"}).exit_code);
  ProgramResult get = Kvctl({"get", "-v", "clocked"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  EXPECT_TRUE(Contains(get.out, "v\n")) << get.ToString();
  EXPECT_TRUE(Contains(get.out, "clock n1:")) << get.ToString();
  EXPECT_TRUE(Contains(get.out, "context: ")) << get.ToString();
}

// The text after "context: " on a line of kvctl's output.
std::string ContextLine(const std::string& out) {
  size_t at = out.find("context: ");
  if (at == std::string::npos) return "";
  size_t end = out.find('\n', at);
  return out.substr(at + 9, end - at - 9);
}

TEST_F(KvctlCommandsTest, JsonGetOfAMissingKeyPrintsItsContextAndAPutWithItCreatesTheKey) {
  ProgramResult get = Kvctl({"get", "--json", "json-missing"});
  EXPECT_EQ(1, get.exit_code) << get.ToString();
  const std::string prefix = "{\"values\": [], \"clocks\": [], \"context\": \"";
  ASSERT_EQ(0u, get.out.rfind(prefix, 0)) << get.ToString();
  const std::string context = get.out.substr(prefix.size(), get.out.find('"', prefix.size()) - prefix.size());
  EXPECT_FALSE(context.empty()) << get.ToString();
  ProgramResult put = Kvctl({"put", "--context", context, "json-missing", "created"});
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  EXPECT_EQ("created\n", Kvctl({"get", "json-missing"}).out);
}

TEST_F(KvctlCommandsTest, APutWithoutContextKeepsTheOldValueAsASiblingAndOverwriteReplacesBoth) {
  ASSERT_EQ(0, Kvctl({"put", "twice", "first"}).exit_code);
  ASSERT_EQ(0, Kvctl({"put", "twice", "second"}).exit_code);
  ProgramResult get = Kvctl({"get", "twice"});
  ASSERT_EQ(0, get.exit_code) << get.ToString();
  EXPECT_TRUE(Contains(get.out, "2 siblings")) << get.ToString();
  EXPECT_TRUE(Contains(get.out, "first") && Contains(get.out, "second")) << get.ToString();
  ASSERT_EQ(0, Kvctl({"put", "--overwrite", "twice", "third"}).exit_code);
  EXPECT_EQ("third\n", Kvctl({"get", "twice"}).out);
}

TEST_F(KvctlCommandsTest, VerbosePutPrintsTheNewVersionAndAContextThatSupersedesIt) {
  ProgramResult put = Kvctl({"put", "-v", "chained", "v1"});
  ASSERT_EQ(0, put.exit_code) << put.ToString();
  EXPECT_TRUE(Contains(put.out, "version n1:1 []")) << put.ToString();
  const std::string context = ContextLine(put.out);
  ASSERT_FALSE(context.empty()) << put.ToString();
  ProgramResult next = Kvctl({"put", "-v", "--context", context, "chained", "v2"});
  ASSERT_EQ(0, next.exit_code) << next.ToString();
  EXPECT_TRUE(Contains(next.out, "version n1:2 [n1:1]")) << next.ToString();
  EXPECT_EQ("v2\n", Kvctl({"get", "chained"}).out);
}

TEST_F(KvctlCommandsTest, DelWithoutContextDeletesWhatItReadsAndSaysHowMuch) {
  ASSERT_EQ(0, Kvctl({"put", "two-values", "a"}).exit_code);
  ASSERT_EQ(0, Kvctl({"put", "two-values", "b"}).exit_code);
  ProgramResult del = Kvctl({"del", "-v", "two-values"});
  ASSERT_EQ(0, del.exit_code) << del.ToString();
  EXPECT_TRUE(Contains(del.out, "deleting 2 value(s)")) << del.ToString();
  EXPECT_EQ(1, Kvctl({"get", "two-values"}).exit_code);
}

TEST_F(KvctlCommandsTest, PingAndStatsAnswer) {
  ProgramResult ping = Kvctl({"ping"});
  ASSERT_EQ(0, ping.exit_code) << ping.ToString();
  EXPECT_TRUE(Contains(ping.out, "PONG from n1")) << ping.ToString();
  ProgramResult stats = Kvctl({"stats"});
  ASSERT_EQ(0, stats.exit_code) << stats.ToString();
  EXPECT_TRUE(Contains(stats.out, "node n1\n")) << stats.ToString();
  EXPECT_TRUE(Contains(stats.out, "requests ")) << stats.ToString();
}

TEST_F(KvctlCommandsTest, AnUnreachableHostExitsTwoNamingIt) {
  const std::string closed = "127.0.0.1:" + std::to_string(PickFreePort());
  ProgramResult get = RunProgram({BinaryPath("kvctl"), "--host", closed, "--timeout", "2000", "get", "k"});
  EXPECT_EQ(2, get.exit_code) << get.ToString();
  EXPECT_TRUE(Contains(get.err, closed)) << get.ToString();
}

TEST_F(KvctlCommandsTest, HostComesFromKvringHostWhenNotGiven) {
  // RunProgram passes our environment on; set it for the child only via env(1).
  ProgramResult ping = RunProgram({"/usr/bin/env", "KVRING_HOST=" + node_->address(), BinaryPath("kvctl"), "ping"});
  EXPECT_EQ(0, ping.exit_code) << ping.ToString();
  EXPECT_TRUE(Contains(ping.out, node_->address())) << ping.ToString();
}

TEST_F(KvctlCommandsTest, BadUsageExitsTwoWithAMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--no-such-flag", "get", "k"}, "no-such-flag"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{}, "no command"},
      {{"get"}, "wrong number of arguments"},
      {{"get", "a", "b"}, "wrong number of arguments"},
      {{"--w", "SOME", "put", "k", "v"}, "--w"},
      {{"--r", "0", "get", "k"}, "--r"},
      {{"--context", "%%%", "put", "k", "v"}, "--context"},
  };
  for (const auto& c : cases) {
    ProgramResult r = Kvctl(c.args);
    EXPECT_EQ(2, r.exit_code) << r.ToString();
    EXPECT_TRUE(Contains(r.err, c.says)) << "expected '" << c.says << "' in: " << r.ToString();
  }
}

TEST_F(KvctlCommandsTest, AnOverLimitValueExitsTwoWithTheNodesError) {
  ProgramResult put = Kvctl({"put", "big"}, std::string(2 << 20, 'v'));  // over the 1 MiB default
  EXPECT_EQ(2, put.exit_code) << put.ToString();
  EXPECT_TRUE(Contains(put.err, "exceeds the limit")) << put.ToString();
}

TEST_F(KvctlCommandsTest, HelpMentionsEveryCommandAndExitsZero) {
  ProgramResult help = RunProgram({BinaryPath("kvctl"), "--help"});
  ASSERT_EQ(0, help.exit_code) << help.ToString();
  for (const char* command : {"get", "put", "del", "ping", "stats", "ring", "status", "plan"}) {
    EXPECT_TRUE(Contains(help.out, std::string("  ") + command + " ")) << command << " missing from:\n" << help.out;
  }
  for (const char* flag : {"--host", "--json", "--base64", "--context", "--local", "--r", "--w"}) {
    EXPECT_TRUE(Contains(help.out, flag)) << flag << " missing from:\n" << help.out;
  }
  EXPECT_TRUE(Contains(help.out, "Exit codes")) << help.out;
}

TEST_F(KvctlCommandsTest, PlanJoinShowsWhatMovesToTheNewNodeAndChangesNothing) {
  ASSERT_EQ(0, Kvctl({"put", "planned", "v"}).exit_code);
  ProgramResult plan =
      Kvctl({"plan", "join", "--id", "n2", "--address", "127.0.0.1:1", "--stream-rate", "1MiB", "--json"});
  ASSERT_EQ(0, plan.exit_code) << plan.ToString();
  EXPECT_EQ(0u, plan.out.find("{\"change\": \"join of n2\", \"ring_version\": ")) << plan.ToString();
  // One node with N = 1: n2 takes its share of the ring from n1.
  EXPECT_TRUE(Contains(plan.out, "\"pairs\": [{\"source\": \"n1\", \"destination\": \"n2\", ")) << plan.ToString();
  EXPECT_TRUE(Contains(plan.out, "\"stream_rate\": 1048576,")) << plan.ToString();
  ProgramResult ring = Kvctl({"ring"});
  ASSERT_EQ(0, ring.exit_code) << ring.ToString();
  EXPECT_TRUE(Contains(ring.out, "1 node(s)")) << "a plan changes nothing\n" << ring.ToString();
  ProgramResult twice = Kvctl({"plan", "join", "--id", "n1", "--address", "127.0.0.1:1"});
  EXPECT_EQ(2, twice.exit_code) << twice.ToString();
  EXPECT_EQ("kvctl: join of n1: \"n1\" is already a member\n", twice.err);
}

}  // namespace
}  // namespace kvring::test
