// repl/node_state: the bytes of DATA/node_state (docs/formats/node_state.md) and
// the start-up rule that keeps a node's dots unique: the actor epoch is raised at
// every start after a run that did not stop cleanly, even across a power loss in
// the middle of writing the file.
#include "repl/node_state.h"

#include <gtest/gtest.h>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/fault_env.h"

namespace kvring::repl {
namespace {

// docs/formats/node_state.md, worked example: node n1, generation 7, epoch 3, clean.
const std::string kExample("KVNS\x01\x02n1\x07\x03\x01\xce\x85\xe3\x2f", 15);
constexpr char kPath[] = "/data/node_state";

TEST(NodeState, ExampleEncodesToTheDocumentedBytesAndBack) {
  std::string bytes;
  EncodeNodeState(NodeState{"n1", 7, 3, true}, &bytes);
  EXPECT_EQ(kExample, bytes);
  auto back = DecodeNodeState(kExample);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((NodeState{"n1", 7, 3, true}), *back);
}

TEST(NodeState, DamageIsCorruptionNamingWhatIsWrongAndANewerVersionIsNotSupported) {
  std::string flipped = kExample;
  flipped[7] ^= 0x20;  // the id's second byte
  EXPECT_NE(DecodeNodeState(flipped).status().message().find("checksum"), std::string::npos);
  EXPECT_NE(DecodeNodeState("KVNX" + kExample.substr(4)).status().message().find("magic"), std::string::npos);
  EXPECT_TRUE(DecodeNodeState(kExample.substr(0, 6)).status().IsCorruption());
  std::string newer = kExample.substr(0, kExample.size() - 4);
  newer[4] = 2;
  base::PutFixed32(&newer, base::crc32c::Mask(base::crc32c::Value(newer.data(), newer.size())));
  EXPECT_EQ(base::Status::Code::kNotSupported, DecodeNodeState(newer).status().code());
}

TEST(NodeState, ActorIsTheNodeIdInEpochOneThenCarriesTheEpoch) {
  EXPECT_EQ("n1", ActorId("n1", 1));
  EXPECT_EQ("n1#2", ActorId("n1", 2));
  EXPECT_EQ("127.0.0.1:7000#14", ActorId("127.0.0.1:7000", 14));
}

class NodeStateFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDir("/data").ok()); }

  NodeState Start(bool new_epoch = false, bool has_data = false) {
    NodeStateFile file(&env_, kPath);
    auto state = file.Begin("n1", new_epoch, has_data, now_micros_);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    last_ = std::make_unique<NodeStateFile>(std::move(file));
    return state.ok() ? state.value() : NodeState();
  }
  void StopCleanly() { ASSERT_TRUE(last_->MarkClean().ok()); }

  NodeState OnDisk() {
    std::string bytes;
    EXPECT_TRUE(base::ReadFileToString(&env_, kPath, &bytes).ok());
    auto state = DecodeNodeState(bytes);
    return state.ok() ? state.value() : NodeState();
  }

  base::FaultEnv env_;
  uint64_t now_micros_ = 0;  // the wall clock Begin sees
  std::unique_ptr<NodeStateFile> last_;
};

TEST_F(NodeStateFileTest, AFirstStartIsEpochOneGenerationOne) {
  NodeState s = Start();
  EXPECT_EQ(1u, s.epoch);
  EXPECT_EQ(1u, s.generation);
  EXPECT_FALSE(s.clean);
}

TEST_F(NodeStateFileTest, ACleanStopKeepsTheEpochAndEveryStartRaisesTheGeneration) {
  Start();
  StopCleanly();
  NodeState s = Start();
  EXPECT_EQ(1u, s.epoch);
  EXPECT_EQ(2u, s.generation);
}

TEST_F(NodeStateFileTest, AStartAfterAnUncleanStopRaisesTheEpoch) {
  Start();  // killed: never marked clean
  NodeState s = Start();
  EXPECT_EQ(2u, s.epoch);
  EXPECT_EQ(2u, s.generation);
  s = Start();
  EXPECT_EQ(3u, s.epoch);
}

TEST_F(NodeStateFileTest, NewEpochIsRaisedEvenAfterACleanStop) {
  Start();
  StopCleanly();
  EXPECT_EQ(2u, Start(/*new_epoch=*/true).epoch);
}

TEST_F(NodeStateFileTest, APowerLossRightAfterStartStillCountsAsUnclean) {
  Start();
  StopCleanly();
  Start();  // durably marked not clean before any write is coordinated
  env_.SimulatePowerLoss();
  EXPECT_EQ(2u, Start().epoch);
}

TEST_F(NodeStateFileTest, DataWithoutAStateFileGetsAnEpochNoEarlierStartCanHaveUsed) {
  now_micros_ = 1'700'000'000'000'000;
  NodeState s = Start(/*new_epoch=*/false, /*has_data=*/true);
  EXPECT_EQ(1'700'000'000u, s.epoch);
}

TEST_F(NodeStateFileTest, TheGenerationIsTheWallClockInMillisecondsUnlessTheLastOneWasLarger) {
  now_micros_ = 1'700'000'000'000'000;
  EXPECT_EQ(1'700'000'000'000u, Start().generation);
  now_micros_ -= 60'000'000;  // the clock went back a minute
  EXPECT_EQ(1'700'000'000'001u, Start().generation);
}

// A full disk: the state stays in memory (pending), and a crash before it could
// be persisted cannot make a later start reuse its generation or its epoch.
TEST_F(NodeStateFileTest, OnAFullDiskTheStateIsPendingAndNoLaterStartReusesItsGenerationOrEpoch) {
  now_micros_ = 1'700'000'000'000'000;
  const NodeState first = Start();  // killed: never marked clean
  env_.SetSpaceLimit(env_.BytesStored());
  now_micros_ += 5'000;
  const NodeState full = Start();
  EXPECT_TRUE(last_->pending());
  EXPECT_GT(full.generation, first.generation);
  EXPECT_EQ(first.epoch + 1, full.epoch);
  EXPECT_EQ(first, OnDisk());  // nothing written
  now_micros_ += 5'000;  // killed again, restarted on the still full disk
  const NodeState again = Start();
  EXPECT_GT(again.generation, full.generation);
  EXPECT_EQ(full.epoch, again.epoch);  // never used for a write: the same actor is safe
  EXPECT_TRUE(last_->PersistPending().IsNoSpace());
  env_.SetSpaceLimit(base::FaultEnv::kUnlimited);
  ASSERT_TRUE(last_->PersistPending().ok());
  EXPECT_FALSE(last_->pending());
  EXPECT_EQ(again, OnDisk());
}

TEST_F(NodeStateFileTest, ADirectoryOfAnotherNodeIsRefused) {
  Start();
  NodeStateFile other(&env_, kPath);
  auto s = other.Begin("n2", false, false, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsInvalidArgument());
  EXPECT_NE(s.status().message().find("belongs to node 'n1'"), std::string::npos) << s.status().ToString();
}

TEST_F(NodeStateFileTest, ADamagedStateFileStopsTheStartNamingTheFile) {
  Start();
  ASSERT_TRUE(env_.WriteRaw(kPath, "garbage").ok());
  NodeStateFile file(&env_, kPath);
  auto s = file.Begin("n1", false, false, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsCorruption());
  EXPECT_NE(s.status().message().find(kPath), std::string::npos) << s.status().ToString();
}

}  // namespace
}  // namespace kvring::repl
