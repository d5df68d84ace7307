// The failure detector's rules (repl/failure_detector.h) on a ManualClock, with
// the probes' outcomes fed by hand: silence makes a suspect, a refused connection
// at once; a suspect goes down only after a direct probe sent after its last
// evidence failed and a second member agreed; any evidence brings it back up; a
// tick that runs late (this node stalled) accuses nobody.
#include "repl/failure_detector.h"
#include "repl/prober.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kvring::repl {
namespace {

constexpr uint64_t kMs = 1000;

ring::NodeInfo Node(const std::string& id) { return ring::NodeInfo{id, "10.0.0." + id.substr(1) + ":7000"}; }

class FailureDetectorTest : public ::testing::Test {
 protected:
  FailureDetectorTest() : detector_(&clock_, DetectorOptions(), "n1") {
    detector_.SetMembers({Node("n1"), Node("n2"), Node("n3"), Node("n4")});
  }

  // Runs the probe timer for `ms` at its period, answering every probe as `answer`
  // says (nullptr: probes stay unanswered); returns the plans.
  std::vector<ProbePlan> Run(uint64_t ms, const std::function<bool(const std::string&)>& reached = nullptr) {
    std::vector<ProbePlan> plans;
    for (uint64_t t = 0; t < ms; t += 500) {
      clock_.Advance(500 * kMs);
      ProbePlan plan = detector_.Tick();
      for (const auto& n : plan.direct) {
        if (reached) detector_.OnDirectProbe(n.id, reached(n.id), plan.sent_us, plan.epoch);
      }
      plans.push_back(std::move(plan));
    }
    return plans;
  }
  // n2's heartbeat keeps moving (gossip), n3 and n4 answer probes.
  void KeepAlive(const std::vector<std::string>& ids) {
    for (const auto& id : ids) detector_.ReportHeartbeat(id);
  }

  base::ManualClock clock_{1'000'000};
  FailureDetector detector_;
};

TEST_F(FailureDetectorTest, AMemberThatAnswersItsProbesStaysUp) {
  Run(10'000, [](const std::string&) { return true; });
  for (const char* id : {"n2", "n3", "n4"}) EXPECT_EQ(Liveness::kUp, detector_.StateOf(id)) << id;
  EXPECT_TRUE(detector_.Suspected().empty());
}

TEST_F(FailureDetectorTest, SilenceMakesASuspectButNotADownWithoutASecondOpinion) {
  // n3 never answers; the others do, but nobody else has an opinion on n3 yet.
  Run(1500, [](const std::string& id) { return id != "n3"; });
  EXPECT_EQ(Liveness::kSuspect, detector_.StateOf("n3"));
  EXPECT_EQ(std::vector<std::string>{"n3"}, detector_.Suspected());
  EXPECT_NE(std::string::npos, detector_.Get("n3").reason.find("no heartbeat or probe reply"));
  EXPECT_FALSE(detector_.IsDown(Node("n3")));
}

TEST_F(FailureDetectorTest, ASuspectIsDownOnceAHelperCouldNotReachItEither) {
  std::vector<ProbePlan> plans = Run(1500, [](const std::string& id) { return id != "n3"; });
  // Its own probe failed; the indirect probes went out through two up members.
  bool asked = false;
  for (const auto& plan : plans) {
    for (const auto& [target, helpers] : plan.indirect) {
      if (target.id != "n3") continue;
      asked = true;
      EXPECT_EQ(2u, helpers.size());
      for (const auto& h : helpers) EXPECT_NE("n3", h.id);
      detector_.OnIndirectProbe("n3", /*reached=*/false, plan.sent_us, plan.epoch);
    }
  }
  ASSERT_TRUE(asked);
  EXPECT_EQ(Liveness::kDown, detector_.StateOf("n3"));
  EXPECT_TRUE(detector_.IsDown(Node("n3")));
}

TEST_F(FailureDetectorTest, GossipThatAnotherLiveMemberSuspectsItIsASecondOpinionToo) {
  Run(1500, [](const std::string& id) { return id != "n3"; });
  detector_.ReportSuspicions("n2", {"n3"});
  Run(500, [](const std::string& id) { return id != "n3"; });
  EXPECT_EQ(Liveness::kDown, detector_.StateOf("n3"));
  EXPECT_EQ(std::vector<std::string>{"n2"}, detector_.Get("n3").suspected_by);
}

TEST_F(FailureDetectorTest, AHelperThatReachedItBringsItBackUp) {
  std::vector<ProbePlan> plans = Run(1500, [](const std::string& id) { return id != "n3"; });
  for (const auto& plan : plans) {
    for (const auto& [target, helpers] : plan.indirect) {
      if (target.id == "n3") detector_.OnIndirectProbe("n3", /*reached=*/true, plan.sent_us, plan.epoch);
    }
  }
  EXPECT_EQ(Liveness::kUp, detector_.StateOf("n3")) << "only our link to it failed";
}

TEST_F(FailureDetectorTest, ARefusedConnectionMakesASuspectAtTheNextTick) {
  detector_.ReportUnreachable("10.0.0.3:7000", "connect: Connection refused");
  clock_.Advance(10 * kMs);
  detector_.Tick();
  EXPECT_EQ(Liveness::kSuspect, detector_.StateOf("n3"));
  EXPECT_EQ("connect: Connection refused", detector_.Get("n3").reason);
}

TEST_F(FailureDetectorTest, AnyEvidenceBringsADownMemberUpAtOnce) {
  detector_.ReportSuspicions("n2", {"n3"});
  Run(2500, [](const std::string& id) { return id != "n3"; });
  ASSERT_EQ(Liveness::kDown, detector_.StateOf("n3"));
  detector_.ReportAnswered("10.0.0.3:7000");
  EXPECT_EQ(Liveness::kUp, detector_.StateOf("n3"));
  EXPECT_TRUE(detector_.Get("n3").reason.empty());
}

// A heartbeat relayed by gossip may have been raised just before the member
// stopped: it keeps an up member up, but a suspect must answer for itself.
TEST_F(FailureDetectorTest, ARelayedHeartbeatKeepsAMemberUpButBringsNoSuspectBack) {
  for (int i = 0; i < 6; ++i) {
    detector_.ReportRelayedHeartbeat("n3");
    Run(500, [](const std::string& id) { return id != "n3"; });
  }
  EXPECT_EQ(Liveness::kUp, detector_.StateOf("n3")) << "its heartbeat kept moving";
  Run(1500, [](const std::string& id) { return id != "n3"; });
  ASSERT_EQ(Liveness::kSuspect, detector_.StateOf("n3"));
  detector_.ReportRelayedHeartbeat("n3");
  EXPECT_EQ(Liveness::kSuspect, detector_.StateOf("n3")) << "second-hand news of a suspect is no evidence";
  detector_.ReportSuspicions("n2", {"n3"});
  Run(500, [](const std::string& id) { return id != "n3"; });
  detector_.ReportRelayedHeartbeat("n3");
  EXPECT_EQ(Liveness::kDown, detector_.StateOf("n3"));
  detector_.ReportHeartbeat("n3");  // its own gossip reached us
  EXPECT_EQ(Liveness::kUp, detector_.StateOf("n3"));
}

TEST_F(FailureDetectorTest, AProbeSentBeforeTheLastEvidenceIsNotHeldAgainstIt) {
  Run(1000, [](const std::string&) { return true; });
  ProbePlan plan = detector_.Tick();  // nothing silent enough: no probe
  clock_.Advance(600 * kMs);
  plan = detector_.Tick();
  ASSERT_FALSE(plan.direct.empty());
  clock_.Advance(kMs);
  KeepAlive({"n2", "n3", "n4"});  // gossip shows them alive after the probes left
  for (const auto& n : plan.direct) detector_.OnDirectProbe(n.id, false, plan.sent_us, plan.epoch);
  detector_.ReportSuspicions("n2", {"n3"});
  clock_.Advance(600 * kMs);
  detector_.Tick();
  EXPECT_NE(Liveness::kDown, detector_.StateOf("n3"));
}

TEST_F(FailureDetectorTest, ALateTickMeansThisNodeStalledAndNobodyIsAccused) {
  Run(1000, [](const std::string&) { return true; });
  clock_.Advance(5000 * kMs);  // this node was stopped for 5 s
  ProbePlan plan = detector_.Tick();
  EXPECT_EQ(1u, detector_.stalls());
  for (const char* id : {"n2", "n3", "n4"}) EXPECT_EQ(Liveness::kUp, detector_.StateOf(id)) << id;
  // A probe sent before the stall that times out after it is forgotten.
  for (const auto& n : plan.direct) detector_.OnDirectProbe(n.id, false, plan.sent_us, plan.epoch - 1);
  Run(500, [](const std::string&) { return true; });
  for (const char* id : {"n2", "n3", "n4"}) EXPECT_EQ(Liveness::kUp, detector_.StateOf(id)) << id;
}

TEST_F(FailureDetectorTest, WithNobodyElseToAskItsOwnFailedProbesDecide) {
  FailureDetector alone(&clock_, DetectorOptions(), "n1");
  alone.SetMembers({Node("n1"), Node("n2")});
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(500 * kMs);
    ProbePlan plan = alone.Tick();
    for (const auto& n : plan.direct) alone.OnDirectProbe(n.id, false, plan.sent_us, plan.epoch);
  }
  EXPECT_EQ(Liveness::kDown, alone.StateOf("n2"));
}

TEST_F(FailureDetectorTest, AMemberNoLongerListedIsForgottenAndANewOneStartsUp) {
  detector_.SetMembers({Node("n1"), Node("n2"), Node("n5")});
  EXPECT_EQ(Liveness::kUp, detector_.StateOf("n5"));
  EXPECT_EQ("n5", detector_.Get("n5").node.id);
  EXPECT_EQ("", detector_.Get("n3").node.id) << "n3 is no longer watched";
  detector_.ReportUnreachable("10.0.0.3:7000", "refused");  // about a former member: ignored
  clock_.Advance(10 * kMs);
  detector_.Tick();
  EXPECT_TRUE(detector_.Suspected().empty());
}

// Holds every call; the test fails them when it likes (as an RPC client does
// when it is torn down).
class HeldTransport final : public Transport {
 public:
  void Send(const ring::NodeInfo&, uint8_t, std::string, uint64_t, AnsweredCallback done) override {
    held.push_back(std::move(done));
  }
  std::vector<AnsweredCallback> held;
};

// Found by ClusterDiskFullTest under ASan: a node's stop freed the prober before
// its RPC clients, which then failed the probes in flight into freed memory.
TEST_F(FailureDetectorTest, AProbeAnsweredAfterItsProberIsGoneIsDropped) {
  HeldTransport transport;
  auto prober = std::make_unique<Prober>("n1", &detector_, &transport, DetectorOptions());
  for (int i = 0; i < 10 && transport.held.empty(); i++) {
    clock_.Advance(500 * kMs);
    prober->Tick();
  }
  ASSERT_FALSE(transport.held.empty()) << "the prober sent no probe";
  prober.reset();
  for (auto& done : transport.held) done(base::Status::Aborted("connection closed"), "", false);
}

}  // namespace
}  // namespace kvring::repl
