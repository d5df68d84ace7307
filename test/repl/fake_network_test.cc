// Tests of the seeded in-process network (test/util/fake_transport.h) that the
// coordinator and membership tests run on: the transport contract (done exactly
// once, never inside Call), deadlines and late replies, drops, partitions in both
// modes, down nodes, reachability reports, the clock, and determinism.
#include "test/util/fake_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "repl/failure_detector.h"

namespace kvring::test {
namespace {

using base::Status;

constexpr char kA[] = "10.0.0.1:7000";
constexpr char kB[] = "10.0.0.2:7000";
constexpr uint8_t kEcho = 0x41;

ring::NodeInfo NodeAt(const std::string& address) {
  ring::NodeInfo n;
  n.id = "n" + address.substr(7, 1);
  n.address = address;
  return n;
}

// What one call's callback saw.
struct Seen {
  int calls = 0;
  Status status;
  std::string payload;
  uint64_t at_us = 0;
};

class FakeNetworkTest : public ::testing::Test {
 protected:
  explicit FakeNetworkTest(FakeNetworkOptions options = {}) : net_(options) {
    a_ = net_.Endpoint(kA);
    b_ = net_.Endpoint(kB);
    a_->SetFailureDetector(&a_liveness_);
    a_liveness_.SetMembers({ring::NodeInfo{"b", kB}});
    b_->SetHandler([](uint8_t, std::string_view body, FakeReply reply) { reply(Status::OK(), "echo:" + std::string(body)); });
  }

  std::shared_ptr<Seen> CallB(const std::string& body, uint64_t timeout_ms = 500) {
    auto seen = std::make_shared<Seen>();
    a_->Call(NodeAt(kB), kEcho, body, timeout_ms, [this, seen](const Status& s, std::string_view payload) {
      seen->calls++;
      seen->status = s;
      seen->payload.assign(payload);
      seen->at_us = net_.now();
    });
    return seen;
  }

  FakeNetwork net_;
  FakeEndpoint* a_;
  FakeEndpoint* b_;
  repl::FailureDetector a_liveness_{net_.clock()};
};

TEST_F(FakeNetworkTest, AReplyComesBackThroughTheQueueNeverInsideCall) {
  const uint64_t start = net_.now();
  auto seen = CallB("hi");
  EXPECT_EQ(0, seen->calls) << "done ran inside Call";
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
  EXPECT_TRUE(seen->status.ok()) << seen->status.ToString();
  EXPECT_EQ("echo:hi", seen->payload);
  EXPECT_EQ(start + 200, seen->at_us);  // 100 µs each way (the default link)
  EXPECT_EQ(1u, b_->received(kEcho));
  EXPECT_EQ(start + 200, net_.now()) << "the finished call's deadline must not move the clock";
}

TEST_F(FakeNetworkTest, EvenARefusedCallCompletesOutsideCall) {
  net_.SetDown(kB);
  auto seen = CallB("hi");
  EXPECT_EQ(0, seen->calls);
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
}

TEST_F(FakeNetworkTest, AHandlerMayAnswerLater) {
  FakeReply saved;
  b_->SetHandler([&](uint8_t, std::string_view, FakeReply reply) { saved = reply; });
  auto seen = CallB("hi");
  net_.RunFor(50'000);
  ASSERT_TRUE(saved != nullptr);
  EXPECT_EQ(0, seen->calls);
  saved(Status::NoSpace("disk full"), {});
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
  EXPECT_TRUE(seen->status.IsNoSpace()) << seen->status.ToString();
  EXPECT_FALSE(a_liveness_.IsDown(kB)) << "a peer that answers an error is up";
}

TEST_F(FakeNetworkTest, ACallWithoutAReplyTimesOutOnceAtItsDeadlineAndTheLateReplyIsDropped) {
  FakeReply saved;
  b_->SetHandler([&](uint8_t, std::string_view, FakeReply reply) { saved = reply; });
  const uint64_t start = net_.now();
  auto seen = CallB("hi", 500);
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
  EXPECT_TRUE(seen->status.IsTimedOut());
  EXPECT_EQ("request to 10.0.0.2:7000 timed out after 500ms", seen->status.message());
  EXPECT_EQ(start + 500'000, seen->at_us);
  saved(Status::OK(), "too late");
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls) << "a late reply must not run done again";
  EXPECT_EQ(1u, net_.stats().late_replies);
  EXPECT_FALSE(a_liveness_.IsDown(kB)) << "a timeout is no evidence of down";
}

TEST_F(FakeNetworkTest, ADroppedRequestIsNeverHandledAndTimesOut) {
  net_.SetLinkFaults(kA, kB, {.drop_probability = 1});
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_TRUE(seen->status.IsTimedOut()) << seen->status.ToString();
  EXPECT_EQ(0u, b_->received(kEcho));
}

TEST_F(FakeNetworkTest, ADroppedReplyTimesOutAfterTheRequestWasHandled) {
  net_.SetLinkFaults(kB, kA, {.drop_probability = 1});
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_TRUE(seen->status.IsTimedOut()) << seen->status.ToString();
  EXPECT_EQ(1u, b_->received(kEcho));
}

TEST_F(FakeNetworkTest, ARefusingPartitionFailsAtOnceAndMarksThePeerDown) {
  net_.Partition({kA}, {kB});
  const uint64_t start = net_.now();
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_TRUE(seen->status.IsUnavailable());
  EXPECT_EQ("connection to 10.0.0.2:7000 failed: connect: No route to host", seen->status.message());
  EXPECT_EQ(start, seen->at_us);
  EXPECT_EQ(0u, b_->received(kEcho));
  // A refused connection is reported: the detector suspects B at its next tick
  // (down needs a probe and a second opinion: repl/failure_detector.h).
  a_liveness_.Tick();
  EXPECT_EQ(repl::Liveness::kSuspect, a_liveness_.StateOf("b"));
  EXPECT_EQ(seen->status.message(), a_liveness_.Get("b").reason);
  net_.Heal();
  seen = CallB("again");
  net_.RunUntilIdle();
  EXPECT_TRUE(seen->status.ok());
  EXPECT_FALSE(a_liveness_.IsDown(kB)) << "a peer that answers again is up again";
}

TEST_F(FakeNetworkTest, ABlackHolePartitionTimesOutAndSaysNothingOfDown) {
  net_.SetPartitionMode(PartitionMode::kBlackHole);
  net_.Partition({kA}, {kB});
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_TRUE(seen->status.IsTimedOut()) << seen->status.ToString();
  EXPECT_EQ(0u, b_->received(kEcho));
  EXPECT_FALSE(a_liveness_.IsDown(kB));
}

TEST_F(FakeNetworkTest, APartitionBlocksOnlyTheDirectionsItNames) {
  net_.SetPartitionMode(PartitionMode::kBlackHole);
  net_.Block(kB, kA);  // replies from B are lost; requests still reach it
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_TRUE(seen->status.IsTimedOut());
  EXPECT_EQ(1u, b_->received(kEcho));
  EXPECT_TRUE(net_.IsBlocked(kB, kA));
  EXPECT_FALSE(net_.IsBlocked(kA, kB));
}

TEST_F(FakeNetworkTest, ADownNodeIsRefusedUntilItComesBack) {
  net_.SetDown(kB);
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_EQ("connection to 10.0.0.2:7000 failed: connect: Connection refused", seen->status.message());
  a_liveness_.Tick();
  EXPECT_EQ(repl::Liveness::kSuspect, a_liveness_.StateOf("b"));
  EXPECT_EQ(0u, b_->received(kEcho));
  net_.SetDown(kB, false);
  seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_TRUE(seen->status.ok()) << seen->status.ToString();
  EXPECT_FALSE(a_liveness_.IsDown(kB));
}

TEST_F(FakeNetworkTest, ANodeGoingDownLosesTheCallsInFlightToIt) {
  FakeReply saved;
  b_->SetHandler([&](uint8_t, std::string_view, FakeReply reply) { saved = reply; });
  auto seen = CallB("hi");
  net_.RunFor(1000);
  ASSERT_TRUE(saved != nullptr);
  net_.SetDown(kB);
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
  EXPECT_EQ("connection to 10.0.0.2:7000 lost: peer closed the connection", seen->status.message());
  saved(Status::OK(), "from beyond");
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
}

TEST_F(FakeNetworkTest, AnUnknownAddressIsRefused) {
  auto seen = std::make_shared<Seen>();
  a_->Call(NodeAt("10.0.0.9:7000"), kEcho, "", 500, [seen](const Status& s, std::string_view) {
    seen->calls++;
    seen->status = s;
  });
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
  EXPECT_EQ("connection to 10.0.0.9:7000 failed: connect: Connection refused", seen->status.message());
}

TEST_F(FakeNetworkTest, AScriptedLinkDelaysOneDirectionOnly) {
  net_.SetLinkFaults(kB, kA, {.min_delay_us = 300'000, .max_delay_us = 300'000});
  const uint64_t start = net_.now();
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_EQ(start + 100 + 300'000, seen->at_us);
}

TEST_F(FakeNetworkTest, ASecondReplyFromAHandlerIsIgnoredAndCounted) {
  b_->SetHandler([](uint8_t, std::string_view, FakeReply reply) {
    reply(Status::OK(), "one");
    reply(Status::OK(), "two");
  });
  auto seen = CallB("hi");
  net_.RunUntilIdle();
  EXPECT_EQ(1, seen->calls);
  EXPECT_EQ("one", seen->payload);
  EXPECT_EQ(1u, net_.stats().duplicate_replies);
}

TEST_F(FakeNetworkTest, PostRunsAtTheCurrentTimeAfterWhatIsAlreadyQueued) {
  std::vector<std::string> order;
  const uint64_t start = net_.now();
  a_->Post([&] { order.push_back("first"); });
  a_->Post([&] {
    order.push_back("second");
    a_->Post([&] { order.push_back("fourth"); });
  });
  b_->Post([&] { order.push_back("third"); });
  EXPECT_TRUE(order.empty()) << "Post never runs its function inside Post";
  net_.RunUntilIdle();
  EXPECT_EQ((std::vector<std::string>{"first", "second", "third", "fourth"}), order);
  EXPECT_EQ(start, net_.now());
}

TEST_F(FakeNetworkTest, RunForRunsWhatIsDueAndStopsTheClockThere) {
  net_.SetLinkFaults(kA, kB, {.min_delay_us = 1000, .max_delay_us = 1000});
  const uint64_t start = net_.now();
  auto seen = CallB("hi");
  net_.RunFor(500);
  EXPECT_EQ(0u, b_->received(kEcho));
  EXPECT_EQ(start + 500, net_.now());
  net_.RunFor(1000);
  EXPECT_EQ(1u, b_->received(kEcho));
  EXPECT_EQ(1, seen->calls);
  EXPECT_EQ(start + 1500, net_.now());
}

TEST_F(FakeNetworkTest, RunUntilWaitsForAPostFromAnotherThread) {
  base::ThreadPool pool(1);
  bool done = false;
  pool.Submit([&] { a_->Post([&] { done = true; }); });
  EXPECT_TRUE(net_.RunUntil([&] { return done; }));
}

TEST_F(FakeNetworkTest, RunUntilGivesUpAfterItsSimulatedBudget) {
  FakeReply saved;
  b_->SetHandler([&](uint8_t, std::string_view, FakeReply reply) { saved = reply; });
  auto seen = CallB("hi", 10'000);
  const uint64_t start = net_.now();
  EXPECT_FALSE(net_.RunUntil([&] { return seen->calls > 0; }, 1'000'000));
  EXPECT_LE(net_.now(), start + 1'000'000);
  EXPECT_TRUE(net_.RunUntil([&] { return seen->calls > 0; }));
  EXPECT_TRUE(seen->status.IsTimedOut());
}

// Replies of 40 calls over links with random delays, in arrival order.
std::vector<int> ArrivalOrder(uint64_t seed, std::vector<std::string>* trace) {
  FakeNetwork net({.seed = seed,
                   .faults = {.min_delay_us = 100, .max_delay_us = 20'000, .drop_probability = 0.1},
                   .trace = true});
  FakeEndpoint* a = net.Endpoint(kA);
  net.Endpoint(kB)->SetHandler([](uint8_t, std::string_view body, FakeReply reply) { reply(Status::OK(), body); });
  std::vector<int> order;
  for (int i = 0; i < 40; ++i) {
    a->Call(NodeAt(kB), kEcho, std::to_string(i), 500, [&order, i](const Status& s, std::string_view) {
      if (s.ok()) order.push_back(i);
    });
  }
  net.RunUntilIdle();
  *trace = net.trace();
  return order;
}

TEST(FakeNetwork, RandomDelaysReorderReplies) {
  std::vector<std::string> trace;
  std::vector<int> order = ArrivalOrder(7, &trace);
  ASSERT_GT(order.size(), 20u);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end())) << "40 calls with delays of 0.1-20 ms kept their order";
  EXPECT_LT(order.size(), 40u) << "a drop rate of 10% dropped nothing";
}

TEST(FakeNetwork, TheSameSeedAndTheSameCallsGiveTheSameDeliveryOrder) {
  std::vector<std::string> trace1, trace2, trace3;
  EXPECT_EQ(ArrivalOrder(42, &trace1), ArrivalOrder(42, &trace2));
  EXPECT_EQ(trace1, trace2);
  ArrivalOrder(43, &trace3);
  EXPECT_NE(trace1, trace3) << "another seed should draw other delays";
}

}  // namespace
}  // namespace kvring::test
