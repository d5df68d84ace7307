// Tests of what kvctl repair and kvctl status print about a repair job and the
// last full anti-entropy comparison, and of --range parsing
// (cmd/kvctl/repair_text.h).
#include "cmd/kvctl/repair_text.h"

#include <gtest/gtest.h>

namespace kvring::cmd::kvctl {
namespace {

repl::RepairProgress Running() {
  repl::RepairProgress p;
  p.state = repl::RepairState::kRunning;
  p.job = 3;
  p.ranges_total = 768;
  p.ranges_done = 384;
  p.ranges_differing = 12;
  p.leaves_differing = 40;
  p.keys_received = 1000;
  p.bytes_received = 2 * 1024 * 1024;
  p.elapsed_us = 2'000'000;
  p.detail = "comparing with n1";
  return p;
}

TEST(KvctlRepairText, ARangeIsTwoTokensAndBecomesTheIntervalAfterTheFirst) {
  repl::PrefixInterval i;
  ASSERT_TRUE(ParseTokenRange("10:20", &i).ok());
  EXPECT_EQ((repl::PrefixInterval{11, 21}), i);
  ASSERT_TRUE(ParseTokenRange("0x10:0xffffffffffffffff", &i).ok());
  EXPECT_EQ((repl::PrefixInterval{17, 0}), i) << "to the end of the ring";
  EXPECT_EQ("--range 20:10: T1 must be below T2 (a range across 2^64 is two repairs)",
            ParseTokenRange("20:10", &i).message());
  EXPECT_TRUE(ParseTokenRange("10", &i).IsInvalidArgument());
  EXPECT_TRUE(ParseTokenRange("a:b", &i).IsInvalidArgument());
  EXPECT_TRUE(ParseTokenRange("-1:5", &i).IsInvalidArgument());
}

TEST(KvctlRepairText, AProgressLineHasRangesKeysBytesRateAndEta) {
  EXPECT_EQ("n3 repair 3: 384/768 ranges (12 differed, 40 leaves), 1000 keys (0 sent, 1000 received), 2.0 MiB "
            "exchanged at 1.0 MiB/s, ETA 2.0 s [comparing with n1]",
            ProgressLine("n3", Running()));
}

TEST(KvctlRepairText, TheSummarySaysHowItEndedAndHowLongItTook) {
  repl::RepairProgress p = Running();
  p.state = repl::RepairState::kDone;
  p.ranges_done = 768;
  p.detail.clear();
  EXPECT_EQ("n3 repair 3 done in 2.0 s: 768/768 ranges (12 differed, 40 leaves), 1000 keys (0 sent, 1000 received), "
            "2.0 MiB exchanged at 1.0 MiB/s",
            ProgressLine("n3", p));
}

TEST(KvctlRepairText, TheLastFullComparisonSaysWhenAndWhatItFound) {
  repl::RepairProgress p;
  EXPECT_EQ("never", LastFullText(p, 0));
  p.last_full_wall_us = 1'700'000'000'000'000ull;
  p.last_full_ranges_differing = 2;
  p.last_full_keys_repaired = 5;
  EXPECT_EQ("2023-11-14T22:13:20.000Z (12 s ago): 2 ranges differed, 5 keys repaired",
            LastFullText(p, p.last_full_wall_us + 12'000'000));
  EXPECT_EQ("{\"last_full\": \"2023-11-14T22:13:20.000Z\", \"ranges_differing\": 2, \"keys_repaired\": 5, "
            "\"repair_job\": 0, \"repair_state\": \"none\"}",
            LastFullJson(p));
}

}  // namespace
}  // namespace kvring::cmd::kvctl
