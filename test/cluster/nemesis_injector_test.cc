// The nemesis's fault injector (test/util/nemesis_injector.h) on a real kvnode:
// a pause stops it answering until healed, a kill fault is restarted on heal and
// is no crash, but a node that dies when no fault killed it is recorded as a
// crash and started again; the control files reach the node.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "base/env.h"
#include "node/test_hooks.h"
#include "test/cluster/cluster_test_util.h"
#include "test/util/nemesis_injector.h"

namespace kvring::test {
namespace {

class NemesisInjectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<KvnodeProcess>(dir_.path(), KvnodeOptions{.extra_flags = {"--test-fault-files"}});
    KV_ASSERT_OK(node_->Start());
    injector_ = std::make_unique<FaultInjector>(FaultInjectorOptions{
        .nodes = {node_.get()}, .hosts = {"127.0.0.1"}, .log = [this](const std::string& l) { log_.push_back(l); }});
  }
  base::Status Ping(uint64_t timeout_ms = 1000) { return KvClient(node_->address(), timeout_ms).Ping(); }

  TempDir dir_;
  std::unique_ptr<KvnodeProcess> node_;
  std::unique_ptr<FaultInjector> injector_;
  std::vector<std::string> log_;
};

TEST_F(NemesisInjectorTest, APauseStopsTheNodeUntilHealed) {
  const Fault pause{.kind = FaultKind::kPause, .nodes = {0}, .start_ms = 0, .end_ms = 1000};
  KV_ASSERT_OK(injector_->Apply(pause));
  EXPECT_TRUE(Ping(300).IsTimedOut());
  KV_ASSERT_OK(injector_->Heal(pause));
  KV_EXPECT_OK(Ping());
  ASSERT_EQ(2u, log_.size());
  EXPECT_NE(std::string::npos, log_[0].find("apply")) << log_[0];
  EXPECT_NE(std::string::npos, log_[1].find("heal  ")) << log_[1];
}

TEST_F(NemesisInjectorTest, AKillFaultIsNoCrashAndHealRestartsTheNode) {
  KvClient client(node_->address());
  KV_ASSERT_OK(client.Put("k", "v"));
  const Fault kill{.kind = FaultKind::kKill, .nodes = {0}};
  KV_ASSERT_OK(injector_->Apply(kill));
  EXPECT_FALSE(node_->running());
  injector_->CheckForCrashes();
  EXPECT_TRUE(injector_->crashes().empty());
  KV_ASSERT_OK(injector_->Heal(kill));
  KvClient after(node_->address());
  EXPECT_EQ("", CheckReadable(after, {{"k", "v"}}, kOne));
}

TEST_F(NemesisInjectorTest, ANodeThatDiesUnbiddenIsRecordedAsACrashAndRestarted) {
  ASSERT_EQ(0, ::kill(node_->pid(), SIGKILL));  // behind the injector's back, by pid
  ASSERT_TRUE(WaitFor([&] { return !node_->running(); }, 5000));
  injector_->CheckForCrashes();
  ASSERT_EQ(1u, injector_->crashes().size());
  EXPECT_NE(std::string::npos, injector_->crashes()[0].find("n1 exited on its own")) << injector_->crashes()[0];
  EXPECT_NE(std::string::npos, injector_->crashes()[0].find("signal 9")) << injector_->crashes()[0];
  EXPECT_TRUE(node_->running());
  KV_EXPECT_OK(Ping());
}

TEST_F(NemesisInjectorTest, ProcessFaultsWriteAndRemoveTheNodesControlFiles) {
  const std::string offset = base::JoinPath(node_->data_dir(), node::kTestClockOffsetFile);
  const Fault skew{.kind = FaultKind::kClockSkew, .nodes = {0}, .param = -42000};
  KV_ASSERT_OK(injector_->Apply(skew));
  std::string text;
  KV_ASSERT_OK(base::ReadFileToString(base::Env::Default(), offset, &text));
  EXPECT_EQ("-42000", text);
  KV_ASSERT_OK(injector_->Heal(skew));
  EXPECT_FALSE(base::Env::Default()->FileExists(offset));
  const Fault sync{.kind = FaultKind::kSyncErrors, .nodes = {0}};
  KV_ASSERT_OK(injector_->Apply(sync));
  EXPECT_TRUE(base::Env::Default()->FileExists(base::JoinPath(node_->data_dir(), node::kTestFailSyncsFile)));
  KV_ASSERT_OK(injector_->HealEverything());
  EXPECT_FALSE(base::Env::Default()->FileExists(base::JoinPath(node_->data_dir(), node::kTestFailSyncsFile)));
}

}  // namespace
}  // namespace kvring::test
