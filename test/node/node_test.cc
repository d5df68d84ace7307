// A whole node built in-process: its engine on the fault-injecting Env, its
// clock a ManualClock, real sockets on loopback. The proof that the node's seams
// (Env, Clock) are real: a client request goes end to end, the reply's bytes are
// the ones docs/protocol.md documents, and a simulated power cut makes the next
// start coordinate under a new actor epoch while every write acknowledged under
// --sync always survives.
#include "node/node.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/fault_env.h"
#include "net/blocking_client.h"
#include "net/protocol.h"
#include "repl/messages.h"
#include "test/util/test_util.h"

namespace kvring::node {
namespace {

using test::Hex;

using base::Status;

class InProcessNodeTest : public ::testing::Test {
 protected:
  InProcessNodeTest() : clock_(0) {}  // wall time 2023-11-14 22:13:20 UTC, as in docs/protocol.md

  NodeOptions Options() const {
    NodeOptions o;
    o.id = "n1";
    o.listen = "127.0.0.1:0";
    o.data_dir = "/data/n1";
    o.n = 1;
    o.sync = lsm::SyncMode::kAlways;
    o.io_threads = 1;
    return o;
  }

  void StartNode() {
    node_ = std::make_unique<Node>(Options(), NodeEnvironment{&env_, &clock_, &logger_});
    Status s = node_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    client_ = std::make_unique<net::BlockingClient>(net::BlockingClientOptions{.id = "test"});
    s = client_->Connect(node_->address(), 5000);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // The machine dies: every file operation fails from now on, so the stop cannot
  // mark the run clean; then the power cut drops whatever was not synced.
  void PowerCut() {
    env_.CrashAfterOps(0);
    node_->Stop().IgnoreError();
    node_.reset();
    env_.SimulatePowerLoss();
  }

  base::Result<net::Reply> Call(net::Opcode op, const std::string& body) {
    return client_->CallForReply(static_cast<uint8_t>(op), body, 5000);
  }
  base::Result<net::Reply> Get(const std::string& key) {
    std::string body;
    net::EncodeGet(&body, net::GetRequest{net::kConsistencyQuorum, 0, key});
    return Call(net::Opcode::kGet, body);
  }
  base::Result<net::Reply> Put(const std::string& key, const std::string& value, const std::string& context) {
    std::string body;
    net::EncodePut(&body, net::PutRequest{net::kConsistencyQuorum, 0, key, value, context});
    return Call(net::Opcode::kPut, body);
  }

  base::FaultEnv env_;
  base::ManualClock clock_;
  base::Logger logger_{2, "n1", base::LogLevel::kWarn};
  std::unique_ptr<Node> node_;
  std::unique_ptr<net::BlockingClient> client_;
};

TEST_F(InProcessNodeTest, AClientCreatesAKeyFromNotFoundAndReadsTheDocumentedBytes) {
  StartNode();
  auto missing = Get("apple");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_TRUE(missing->status.IsNotFound()) << missing->status.ToString();
  // docs/protocol.md section 11, reply 7, after its status and message.
  EXPECT_EQ(Hex(missing->payload), "12 02 00 32 c5 59 d8 1b ff 18 f5 90 cd e3 36 53 9f 12 7b");
  std::string_view context;
  ASSERT_TRUE(net::DecodeNotFoundPayload(missing->payload, &context));
  auto put = Put("apple", "red", std::string(context));
  ASSERT_TRUE(put.ok() && put->status.ok()) << (put.ok() ? put->status.ToString() : put.status().ToString());
  net::WriteReceipt receipt;
  ASSERT_TRUE(net::DecodeWriteReceipt(put->payload, &receipt));
  EXPECT_EQ(Hex(receipt.context), "02 01 02 6e 31 01 80 e2 cf aa 06 88 d7 72 7b df 2b 71 70 9c 71 9e 58 79 40 4d 57");
  EXPECT_EQ(Hex(receipt.clock), "02 6e 31 01 00");
  auto get = Get("apple");
  ASSERT_TRUE(get.ok() && get->status.ok());
  // Reply 9 of docs/protocol.md section 11, after its status byte.
  EXPECT_EQ(Hex(get->payload),
            "01 03 72 65 64 05 02 6e 31 01 00 80 80 f9 c0 c1 c4 82 03 1b "
            "02 01 02 6e 31 01 80 e2 cf aa 06 88 d7 72 7b df 2b 71 70 9c 71 9e 58 79 40 4d 57");
  EXPECT_TRUE(node_->Stop().ok());
}

TEST_F(InProcessNodeTest, APowerCutMakesTheNextStartCoordinateUnderANewEpochAndLosesNoAcknowledgedWrite) {
  StartNode();
  EXPECT_EQ("n1", node_->actor());
  std::vector<std::string> contexts;
  for (int i = 0; i < 20; ++i) {
    auto put = Put("k" + std::to_string(i), "v" + std::to_string(i), "");
    ASSERT_TRUE(put.ok() && put->status.ok());
  }
  PowerCut();
  StartNode();
  EXPECT_EQ("n1#2", node_->actor());
  for (int i = 0; i < 20; ++i) {
    auto get = Get("k" + std::to_string(i));
    ASSERT_TRUE(get.ok() && get->status.ok()) << "k" << i << " lost after the power cut";
    net::GetReply reply;
    ASSERT_TRUE(net::DecodeGetReply(get->payload, &reply));
    ASSERT_EQ(1u, reply.siblings.size());
    EXPECT_EQ("v" + std::to_string(i), reply.siblings[0].value);
  }
  // A write with no context now gets a dot of the new actor: n1:1 is never minted again.
  auto put = Put("k0", "after", "");
  ASSERT_TRUE(put.ok() && put->status.ok());
  net::WriteReceipt receipt;
  ASSERT_TRUE(net::DecodeWriteReceipt(put->payload, &receipt));
  repl::Dot dot;
  repl::VersionVector seen;
  ASSERT_TRUE(repl::DecodeSiblingClock(receipt.clock, &dot, &seen).ok());
  EXPECT_EQ((repl::Dot{"n1#2", 1}), dot);
}

TEST_F(InProcessNodeTest, ACleanStopKeepsTheEpoch) {
  StartNode();
  ASSERT_TRUE(node_->Stop().ok());
  node_.reset();
  StartNode();
  EXPECT_EQ("n1", node_->actor());
}

// Restarted after a power cut on a full disk: it starts, serves what it had
// acknowledged, refuses writes; once space returns (checked every second of
// its clock) it writes its new epoch first and then takes writes under it.
TEST_F(InProcessNodeTest, AStartOnAFullDiskServesReadsAndTakesWritesUnderItsNewEpochOnceSpaceReturns) {
  StartNode();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Put("k" + std::to_string(i), "v", "")->status.ok());
  PowerCut();
  env_.SetSpaceLimit(env_.BytesStored());
  StartNode();
  EXPECT_EQ("n1#2", node_->actor());
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(Get("k" + std::to_string(i))->status.ok()) << i;
  auto refused = Put("k0", "refused", "");
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->status.IsNoSpace()) << refused->status.ToString();
  EXPECT_EQ("this node's disk is full (/data/n1): it serves reads only", refused->status.message());
  env_.SetSpaceLimit(base::FaultEnv::kUnlimited);
  base::Result<net::Reply> put = refused;
  for (int i = 0; i < 500 && put.ok() && !put->status.ok(); ++i) {
    clock_.Advance(100'000);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    put = Put("k0", "after", "");
  }
  ASSERT_TRUE(put.ok() && put->status.ok()) << put->status.ToString();
  net::WriteReceipt receipt;
  ASSERT_TRUE(net::DecodeWriteReceipt(put->payload, &receipt));
  repl::Dot dot;
  repl::VersionVector seen;
  base::Status clock = repl::DecodeSiblingClock(receipt.clock, &dot, &seen);
  // The receipt names the new version (it once came back empty ~1 run in 15: the
  // WAL syncer reported the write durable before the I/O thread delivered
  // applied, and the reply went out before the receipt was filled in).
  ASSERT_TRUE(clock.ok()) << clock.ToString() << " (" << receipt.clock.size() << " bytes)";
  EXPECT_FALSE(receipt.context.empty());
  EXPECT_EQ("n1#2", dot.node);
  // The epoch it wrote with was on disk first: the next unclean start raises it.
  PowerCut();
  StartNode();
  EXPECT_EQ("n1#3", node_->actor());
  auto get = Get("k0");
  ASSERT_TRUE(get.ok() && get->status.ok());
  net::GetReply reply;
  ASSERT_TRUE(net::DecodeGetReply(get->payload, &reply));
  EXPECT_EQ(2u, reply.siblings.size());  // "v" and "after": nothing acknowledged lost
}

}  // namespace
}  // namespace kvring::node
