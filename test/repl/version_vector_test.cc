#include "repl/version_vector.h"

#include <gtest/gtest.h>

#include "base/coding.h"
#include "test/repl/repl_test_util.h"

namespace kvring::repl {
namespace {

using testing::VV;
using testing::D;

TEST(VersionVector, DescendsWhenEveryCounterIsAtLeastAsLarge) {
  EXPECT_TRUE(VV("[n1:2 n2:5]").Descends(VV("[n1:2 n2:4]")));
  EXPECT_TRUE(VV("[n1:2 n2:5]").Descends(VV("[n1:2 n2:5]")));
  EXPECT_TRUE(VV("[n1:2 n2:5 n3:1]").Descends(VV("[n2:5]")));
  EXPECT_FALSE(VV("[n1:2 n2:5]").Descends(VV("[n1:3]")));
  EXPECT_FALSE(VV("[n1:2 n2:5]").Descends(VV("[n1:1 n3:1]")));
}

TEST(VersionVector, EveryVectorDescendsTheEmptyOne) {
  EXPECT_TRUE(VV("[n1:1]").Descends(VersionVector()));
  EXPECT_TRUE(VersionVector().Descends(VersionVector()));
  EXPECT_FALSE(VersionVector().Descends(VV("[n1:1]")));
}

TEST(VersionVector, ConcurrentWhenEachHasSeenAWriteTheOtherHasNot) {
  EXPECT_TRUE(Concurrent(VV("[n1:2 n2:1]"), VV("[n1:1 n2:2]")));
  EXPECT_TRUE(Concurrent(VV("[n1:1]"), VV("[n2:1]")));
  EXPECT_FALSE(Concurrent(VV("[n1:2 n2:2]"), VV("[n1:1 n2:2]")));
  EXPECT_FALSE(Concurrent(VV("[n1:2]"), VV("[n1:2]")));
  EXPECT_FALSE(Concurrent(VersionVector(), VV("[n1:2]")));
}

TEST(VersionVector, CoversADotUpToItsCounterOnly) {
  const VersionVector vv = VV("[n1:2 n2:5]");
  EXPECT_TRUE(vv.Covers(D("n1:1")));
  EXPECT_TRUE(vv.Covers(D("n1:2")));
  EXPECT_FALSE(vv.Covers(D("n1:3")));
  EXPECT_TRUE(vv.Covers(D("n2:5")));
  EXPECT_FALSE(vv.Covers(D("n3:1")));
}

TEST(VersionVector, MergeTakesThePointwiseMaximum) {
  VersionVector a = VV("[n1:2 n3:1]");
  a.Merge(VV("[n1:1 n2:5]"));
  EXPECT_EQ("[n1:2 n2:5 n3:1]", VersionVectorText(a));
  EXPECT_TRUE(a.SameCounters(VV("[n1:2 n2:5 n3:1]")));
  VersionVector b = VV("[n1:1 n2:5]");
  b.Merge(VV("[n1:2 n3:1]"));
  EXPECT_EQ(a, b);
}

TEST(VersionVector, MergedEntryTimeFollowsTheLargerCounter) {
  VersionVector a, b;
  a.Witness("n1", 3, 100);
  a.Witness("n2", 1, 500);
  b.Witness("n1", 4, 50);
  b.Witness("n2", 1, 700);
  VersionVector ab = a;
  ab.Merge(b);
  VersionVector ba = b;
  ba.Merge(a);
  EXPECT_EQ(ab, ba);
  ASSERT_NE(nullptr, ab.Find("n1"));
  EXPECT_EQ(4u, ab.Find("n1")->counter);
  EXPECT_EQ(50u, ab.Find("n1")->updated_secs);   // the time of counter 4, though older
  EXPECT_EQ(700u, ab.Find("n2")->updated_secs);  // equal counters keep the later time
  VersionVector again = ab;
  again.Merge(ab);
  EXPECT_EQ(ab, again);
}

TEST(VersionVector, WitnessRaisesButNeverLowersACounter) {
  VersionVector vv;
  vv.Witness("n2", 3, 10);
  vv.Witness("n1", 1, 10);
  vv.Witness("n2", 2, 99);
  vv.Witness("n3", 0, 10);
  EXPECT_EQ("[n1:1 n2:3]", VersionVectorText(vv));
  EXPECT_EQ(10u, vv.Find("n2")->updated_secs);
}

TEST(VersionVector, EncodeDecodeRoundTripKeepsCountersAndTimes) {
  VersionVector vv;
  vv.Witness("n1", 1, 1'700'000'000);
  vv.Witness("node-with-a-long-name", 123456789012ull, 0);
  vv.Witness("n2", ~0ull, ~0ull);
  std::string bytes;
  vv.EncodeTo(&bytes);
  bytes += "tail";
  std::string_view in(bytes);
  VersionVector back;
  ASSERT_TRUE(back.DecodeFrom(&in).ok());
  EXPECT_EQ(vv, back);
  EXPECT_EQ("tail", in);

  std::string empty_bytes;
  VersionVector().EncodeTo(&empty_bytes);
  EXPECT_EQ(std::string(1, '\0'), empty_bytes);
}

// Builds one encoded entry by hand.
std::string EncodedVector(std::initializer_list<std::tuple<std::string, uint64_t, uint64_t>> entries) {
  std::string out;
  base::PutVarint32(&out, static_cast<uint32_t>(entries.size()));
  for (const auto& [node, counter, secs] : entries) {
    base::PutLengthPrefixed(&out, node);
    base::PutVarint64(&out, counter);
    base::PutVarint64(&out, secs);
  }
  return out;
}

TEST(VersionVector, DecodeRejectsMalformedInputAndLeavesTheVectorUnchanged) {
  struct Case {
    std::string bytes;
    std::string message;
  };
  const Case cases[] = {
      {"", "truncated entry count"},
      {EncodedVector({{"n1", 1, 1}}).substr(0, 4), "truncated entry 1 of 1"},
      {EncodedVector({{"n1", 0, 1}}), "zero counter for node \"n1\""},
      {EncodedVector({{"", 1, 1}}), "empty node id"},
      {EncodedVector({{"n2", 1, 1}, {"n1", 1, 1}}), "unsorted or repeated at entry 2"},
      {EncodedVector({{"n1", 1, 1}, {"n1", 2, 1}}), "unsorted or repeated at entry 2"},
      {std::string("\xff\xff\xff\xff\x0f", 5), "truncated entry 1 of 4294967295"},
  };
  for (const Case& c : cases) {
    VersionVector vv = VV("[n9:9]");
    std::string_view in(c.bytes);
    base::Status s = vv.DecodeFrom(&in);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(std::string::npos, s.message().find(c.message)) << s.message();
    EXPECT_EQ("[n9:9]", VersionVectorText(vv));
  }
}

// A vector with node n<i> last updated at second 1000 * i.
VersionVector Aged(int n) {
  VersionVector vv;
  for (int i = 1; i <= n; ++i) vv.Witness("n" + std::to_string(i), 1, 1000 * static_cast<uint64_t>(i));
  return vv;
}

const auto kNothingProtected = [](std::string_view) { return false; };

TEST(VersionVector, PruneDropsTheOldestEntriesDownToTheSizeThreshold) {
  VersionVector vv = Aged(6);
  const PruneOptions options{.max_entries = 4, .min_age_micros = 100 * 1'000'000ull};
  const std::vector<std::string> dropped = vv.Prune(options, 10'000 * 1'000'000ull, kNothingProtected);
  EXPECT_EQ((std::vector<std::string>{"n1", "n2"}), dropped);
  EXPECT_EQ("[n3:1 n4:1 n5:1 n6:1]", VersionVectorText(vv));
}

TEST(VersionVector, PruneKeepsEverythingAtOrBelowTheSizeThreshold) {
  VersionVector vv = Aged(4);
  const PruneOptions options{.max_entries = 4, .min_age_micros = 0};
  EXPECT_TRUE(vv.Prune(options, 10'000 * 1'000'000ull, kNothingProtected).empty());
  EXPECT_EQ(Aged(4), vv);
}

TEST(VersionVector, PruneNeverDropsEntriesYoungerThanTheAgeThreshold) {
  VersionVector vv = Aged(6);
  // At second 6500 with a 5000 s age threshold only n1 (age 5500) is old enough.
  const PruneOptions options{.max_entries = 2, .min_age_micros = 5000 * 1'000'000ull};
  EXPECT_EQ((std::vector<std::string>{"n1"}), vv.Prune(options, 6500 * 1'000'000ull, kNothingProtected));
  EXPECT_EQ(5u, vv.size());
}

TEST(VersionVector, PruneNeverDropsProtectedEntries) {
  VersionVector vv = Aged(6);
  const PruneOptions options{.max_entries = 3, .min_age_micros = 0};
  const auto protect_n1_n2 = [](std::string_view node) { return node == "n1" || node == "n2"; };
  EXPECT_EQ((std::vector<std::string>{"n3", "n4", "n5"}), vv.Prune(options, 10'000 * 1'000'000ull, protect_n1_n2));
  EXPECT_EQ("[n1:1 n2:1 n6:1]", VersionVectorText(vv));
}

TEST(VersionVector, PruneDropsEntriesOfUnknownAgeFirst) {
  VersionVector vv = Aged(3);
  vv.Witness("a-client-context-entry", 7, 0);
  const PruneOptions options{.max_entries = 3, .min_age_micros = 86'400ull * 1'000'000};
  EXPECT_EQ((std::vector<std::string>{"a-client-context-entry"}),
            vv.Prune(options, 1'700'000'000ull * 1'000'000, kNothingProtected));
  // A wall time far in the future does not overflow the age arithmetic.
  EXPECT_EQ(0u, vv.Prune(options, ~0ull, kNothingProtected).size());
  EXPECT_EQ(3u, Aged(5).Prune(PruneOptions{.max_entries = 2}, ~0ull, kNothingProtected).size());
}

TEST(VersionVector, DefaultPruneThresholdsAre64EntriesAndOneDay) {
  const PruneOptions defaults;
  EXPECT_EQ(64u, defaults.max_entries);
  EXPECT_EQ(86'400ull * 1'000'000ull, defaults.min_age_micros);
}

}  // namespace
}  // namespace kvring::repl
