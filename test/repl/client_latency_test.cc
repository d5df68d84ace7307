// test/repl/client_latency_test.cc — the clients' latency as background work
// sees it: ClientLatencySampler's per-tick means, LatencyBase's verdict, and
// AnswerPacer, which holds a node's answers to its peers' streams and exchanges
// back while its clients pay (and only then).
#include "repl/client_latency.h"

#include <gtest/gtest.h>

#include <utility>

#include "repl/answer_pacer.h"

namespace kvring::repl {
namespace {

TEST(ClientLatencySamplerTest, GivesTheMeanOfEachTicksRequestsAndNothingForTooFew) {
  ClientLatencySampler sampler(20);
  EXPECT_FALSE(sampler.Sample()) << "no counter";
  std::pair<uint64_t, uint64_t> answered{1000, 5'000'000};
  sampler.MeasureWith([&] { return answered; });
  EXPECT_FALSE(sampler.Sample()) << "the first call only starts counting";
  answered = {1100, 5'000'000 + 100 * 800};
  EXPECT_EQ(800u, sampler.Sample());
  answered = {1110, 5'080'000 + 10 * 90'000};
  EXPECT_FALSE(sampler.Sample()) << "10 requests: noise";
  answered = {1150, 5'980'000 + 40 * 1000};
  EXPECT_EQ(1000u, sampler.Sample()) << "the 10 skipped count no more";
}

TEST(LatencyBaseTest, TheLowestRecentMeanIsTheBaseAndOnlyMeansPastTheFactorExceedIt) {
  LatencyBase base({.factor = 1.5, .floor_us = 300, .history_us = 1'000'000, .min_samples = 3});
  base.Add(0, 2000);
  base.Add(100'000, 1000);
  EXPECT_FALSE(base.Exceeded(10'000)) << "two samples: no verdict";
  base.Add(200'000, 1400);
  EXPECT_EQ(1000u, base.base_us());
  EXPECT_FALSE(base.Exceeded(1500));
  EXPECT_TRUE(base.Exceeded(1501));
  base.Add(1'150'000, 1400);  // the 1000 of t=100 ms is older than the history
  EXPECT_EQ(1400u, base.base_us());
  LatencyBase tiny({.factor = 1.5, .floor_us = 300, .history_us = 1'000'000, .min_samples = 1});
  tiny.Add(0, 20);
  EXPECT_FALSE(tiny.Exceeded(450)) << "bases under the floor count as the floor";
  EXPECT_TRUE(tiny.Exceeded(451));
}

class AnswerPacerTest : public ::testing::Test {
 protected:
  // Ten ticks of 100 ms at `mean_us`: the history a verdict needs.
  void Settle(AnswerPacer* p, uint64_t mean_us, bool busy) {
    for (int i = 0; i < 10; i++) Tick(p, mean_us, busy);
  }
  void Tick(AnswerPacer* p, uint64_t mean_us, bool busy) {
    now_ += 100'000;
    p->OnClientLatency(now_, mean_us, busy);
  }
  uint64_t now_ = 0;
};

TEST_F(AnswerPacerTest, HoldsBackWhileClientsPayDoublingToItsBoundAndLetsGoWhenTheyRecover) {
  AnswerPacer p({.first_delay_us = 20'000, .max_delay_us = 200'000});
  Settle(&p, 1000, /*busy=*/true);
  EXPECT_EQ(0u, p.delay_us()) << "clients at their base";
  Tick(&p, 1600, true);
  EXPECT_EQ(20'000u, p.delay_us());
  Tick(&p, 1600, true);
  EXPECT_EQ(40'000u, p.delay_us());
  for (int i = 0; i < 5; i++) Tick(&p, 5000, true);
  EXPECT_EQ(200'000u, p.delay_us()) << "bounded";
  Tick(&p, 1200, true);
  EXPECT_EQ(100'000u, p.delay_us()) << "halved once the clients recover";
  for (int i = 0; i < 4; i++) Tick(&p, 1200, true);  // 50, 25, 12.5 ms, then under 10: none
  EXPECT_EQ(0u, p.delay_us()) << "below half the first delay: none";
}

TEST_F(AnswerPacerTest, SlowClientsWhileNothingWasAnsweredAreNotTheBackgroundWorksFault) {
  AnswerPacer p({.first_delay_us = 20'000, .max_delay_us = 200'000});
  Settle(&p, 1000, /*busy=*/false);
  for (int i = 0; i < 5; i++) Tick(&p, 9000, /*busy=*/false);
  EXPECT_EQ(0u, p.delay_us());
  EXPECT_EQ(1000u, p.client_base_us());
}

// Through Tick: the clients' counter is sampled every tick, and a tick counts as
// busy only when an answer was served since the last one.
TEST(AnswerPacerTickTest, AnswersServedUnderSlowClientsRaiseTheDelayAndItDecaysWithoutThem) {
  AnswerPacer pacer;
  std::pair<uint64_t, uint64_t> answered{0, 0};
  pacer.MeasureClientsWith([&] { return answered; });
  uint64_t now = 0;
  auto tick = [&](uint64_t mean_us) {
    answered.first += 100;
    answered.second += 100 * mean_us;
    now += 100'000;
    pacer.Tick(now);
  };
  for (int i = 0; i < 12; i++) tick(1000);
  for (int i = 0; i < 3; i++) tick(4000);
  EXPECT_EQ(0u, pacer.delay_us()) << "slow clients, but nothing answered";
  pacer.Served();
  tick(4000);
  const uint64_t delay = pacer.delay_us();
  EXPECT_EQ(20'000u, delay) << "an answer served while the clients paid";
  pacer.Served();
  tick(4000);
  EXPECT_EQ(2 * delay, pacer.delay_us());
  tick(4000);
  EXPECT_EQ(delay, pacer.delay_us()) << "nothing served since: the delay decays";
}

}  // namespace
}  // namespace kvring::repl
