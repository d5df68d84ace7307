// test/repl/client_latency_test.cc — the clients' latency as background work
// sees it: ClientLatencySampler's per-tick means, and StreamPacer, which holds a
// source's STREAM_READ answers back while its clients pay (and only then), fed
// through StreamSource::Tick by batches it really served from an engine.
#include "repl/client_latency.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "base/fault_env.h"
#include "lsm/engine.h"
#include "repl/replica_store.h"
#include "repl/stream_messages.h"
#include "repl/stream_source.h"
#include "test/repl/repl_test_util.h"

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

class StreamPacerTest : public ::testing::Test {
 protected:
  // Ten ticks of 100 ms at `mean_us`: the history a verdict needs.
  void Settle(StreamPacer* p, uint64_t mean_us, bool streaming) {
    for (int i = 0; i < 10; i++) Tick(p, mean_us, streaming);
  }
  void Tick(StreamPacer* p, uint64_t mean_us, bool streaming) {
    now_ += 100'000;
    p->OnClientLatency(now_, mean_us, streaming);
  }
  uint64_t now_ = 0;
};

TEST_F(StreamPacerTest, HoldsBackWhileClientsPayDoublingToItsBoundAndLetsGoWhenTheyRecover) {
  StreamPacer p({.first_delay_us = 20'000, .max_delay_us = 200'000});
  Settle(&p, 1000, /*streaming=*/true);
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

TEST_F(StreamPacerTest, SlowClientsWithoutStreamsAreNotTheStreamsFault) {
  StreamPacer p({.first_delay_us = 20'000, .max_delay_us = 200'000});
  Settle(&p, 1000, /*streaming=*/false);
  for (int i = 0; i < 5; i++) Tick(&p, 9000, /*streaming=*/false);
  EXPECT_EQ(0u, p.delay_us());
  EXPECT_EQ(1000u, p.client_base_us());
}

// Through StreamSource: a tick counts as streaming only when a batch was served
// since the last one, and the pacer's delay is what the caller holds answers by.
TEST(StreamSourcePacingTest, ServedBatchesUnderSlowClientsRaiseTheReplyDelay) {
  base::FaultEnv env;
  std::unique_ptr<lsm::DB> db;
  lsm::Options options;
  options.env = &env;
  ASSERT_TRUE(lsm::DB::Open(options, "/db", &db).ok());
  for (int i = 0; i < 100; i++) {
    ASSERT_TRUE(db->Put(lsm::WriteOptions(), StorageKey("k" + std::to_string(i)), "v").ok());
  }
  testing::QueueExecutor loop, io;
  StreamSource source(db.get(), &io);
  std::pair<uint64_t, uint64_t> answered{0, 0};
  source.MeasureClientsWith([&] { return answered; });
  uint64_t now = 0;
  auto tick = [&](uint64_t mean_us) {
    answered.first += 100;
    answered.second += 100 * mean_us;
    now += 100'000;
    source.Tick(now);
  };
  for (int i = 0; i < 12; i++) tick(1000);
  for (int i = 0; i < 3; i++) tick(4000);
  EXPECT_EQ(0u, source.reply_delay_us()) << "slow clients, but no stream served";
  std::string body;
  EncodeStreamRead(&body, StreamReadRequest{.range = ring::TokenRange{}, .max_bytes = 1 << 20}  /* start == end: the full ring */);
  bool replied = false;
  source.Handle(&loop, body, [&](base::Status s, std::string) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    replied = true;
  });
  ASSERT_TRUE(io.RunUntil([&] { return source.batches_served() == 1; }));
  ASSERT_TRUE(loop.RunUntil([&] { return replied; }));
  tick(4000);
  const uint64_t delay = source.reply_delay_us();
  EXPECT_GT(delay, 0u) << "a batch served while the clients paid";
  tick(4000);
  EXPECT_EQ(delay / 2, source.reply_delay_us()) << "no batch since: the delay decays";
}

}  // namespace
}  // namespace kvring::repl
