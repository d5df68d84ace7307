// ImpactByKind over a hand-made history: completions are attributed to every
// fault in force when they completed (and to "none" outside all), final reads
// are left out, and the window is the longest stretch inside a fault without a
// success anywhere, edges included.
#include "test/util/fault_impact.h"

#include <gtest/gtest.h>

namespace kvring::test {
namespace {

constexpr uint64_t kOrigin = 1'000'000;  // µs on the history's clock at plan time 0

HistoryEvent Done(EventType type, uint64_t ms_after_origin, bool final_read = false) {
  HistoryEvent e;
  e.type = type;
  e.time_us = kOrigin + ms_after_origin * 1000;
  e.final_read = final_read;
  return e;
}

TEST(FaultImpactTest, CountsEachCompletionUnderEveryFaultInForceAndFindsTheLongestWindow) {
  const std::vector<Fault> plan = {
      {.kind = FaultKind::kPause, .nodes = {0}, .start_ms = 1000, .end_ms = 3000},
      {.kind = FaultKind::kKill, .nodes = {1}, .start_ms = 2000, .end_ms = 5000},
  };
  const std::vector<HistoryEvent> events = {
      Done(EventType::kOk, 500),     // none
      Done(EventType::kOk, 1200),    // pause: window 1000..1200 = 200
      Done(EventType::kFail, 1500),  // pause
      Done(EventType::kInfo, 2500),  // pause + kill
      Done(EventType::kOk, 2600),    // pause + kill: pause's window 1200..2600 = 1400
      Done(EventType::kOk, 4000),    // kill: 2600..4000 = 1400, then 4000..5000 = 1000
      Done(EventType::kOk, 6000),    // none
      Done(EventType::kOk, 2700, /*final_read=*/true),  // ignored
  };
  auto rows = ImpactByKind(plan, kOrigin, events);
  ASSERT_EQ(3u, rows.size());
  EXPECT_EQ(1u, rows["pause"].faults);
  EXPECT_EQ(2u, rows["pause"].ok);
  EXPECT_EQ(1u, rows["pause"].failed);
  EXPECT_EQ(1u, rows["pause"].unknown);
  EXPECT_EQ(1400u, rows["pause"].longest_gap_ms);
  EXPECT_EQ(2u, rows["kill"].ok);
  EXPECT_EQ(1u, rows["kill"].unknown);
  EXPECT_EQ(1400u, rows["kill"].longest_gap_ms);
  EXPECT_EQ(0u, rows["none"].faults);
  EXPECT_EQ(2u, rows["none"].ok);
  EXPECT_NE(std::string::npos, ImpactTable(rows).find("| pause | 1 | 4 | 50.0% | 1 | 1 | 1400 | 1400 |"))
      << ImpactTable(rows);
}

TEST(FaultImpactTest, AFaultWithNoSuccessIsOneWindowAsLongAsTheFault) {
  const std::vector<Fault> plan = {{.kind = FaultKind::kPartitionOne, .nodes = {2}, .start_ms = 0, .end_ms = 4000}};
  auto rows = ImpactByKind(plan, kOrigin, {Done(EventType::kFail, 100), Done(EventType::kOk, 4500)});
  EXPECT_EQ(4000u, rows["partition-one"].longest_gap_ms);
  EXPECT_EQ(1u, rows["partition-one"].failed);
}

}  // namespace
}  // namespace kvring::test
