#include "repl/peer_set.h"

#include <gtest/gtest.h>

#include <limits>

namespace kvring::repl {
namespace {

Sibling Version(std::string node, uint64_t counter, std::string value) {
  Sibling s;
  s.dot = Dot{std::move(node), counter};
  s.value = std::move(value);
  return s;
}

SiblingSet SetOf(std::vector<Sibling> siblings) {
  VersionVector history;
  for (const auto& s : siblings) history.Witness(s.dot.node, s.dot.counter, 0);
  auto set = SiblingSet::FromParts(std::move(history), std::move(siblings));
  EXPECT_TRUE(set.ok()) << set.status().ToString();
  return set.ok() ? std::move(set).value() : SiblingSet();
}

const PeerSetLimits kLimits = PeerSetLimitsFor(/*max_value_bytes=*/100, /*max_siblings=*/2);

TEST(PeerSet, LimitsFollowTheClientLimits) {
  EXPECT_EQ(100u, kLimits.max_value_bytes);
  EXPECT_EQ(8u, kLimits.max_siblings);
  EXPECT_EQ(uint64_t{1} << 62, kLimits.max_counter);
}

TEST(PeerSet, ASetAWellBehavedCoordinatorCanProducePasses) {
  std::vector<Sibling> eight;
  for (int i = 0; i < 8; ++i) eight.push_back(Version("n" + std::to_string(i), uint64_t{1} << 62, std::string(100, 'v')));
  EXPECT_TRUE(CheckPeerSet(SetOf(eight), kLimits).ok());
  EXPECT_TRUE(CheckPeerSet(SiblingSet(), kLimits).ok());
}

TEST(PeerSet, EachBoundIsRefusedNamingIt) {
  std::vector<Sibling> nine;
  for (int i = 0; i < 9; ++i) nine.push_back(Version("n" + std::to_string(i), 1, "v"));
  struct Case {
    SiblingSet set;
    std::string message;
  };
  const Case cases[] = {
      {SetOf(nine), "replica set refused: 9 siblings, over the limit of 8 (4 x --max-siblings)"},
      {SetOf({Version("n1", 1, "v"), Version("n2", 1, std::string(101, 'v'))}),
       "replica set refused: sibling 2 holds a value of 101 bytes, over --max-value 100"},
      {SetOf({Version("n1", (uint64_t{1} << 62) + 1, "v")}),
       "replica set refused: counter 4611686018427387905 of actor \"n1\" is beyond any a node mints (at most "
       "4611686018427387904)"},
      {SetOf({Version("n1", std::numeric_limits<uint64_t>::max(), "v")}), "counter 18446744073709551615"},
  };
  for (const Case& c : cases) {
    base::Status s = CheckPeerSet(c.set, kLimits);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.message;
    EXPECT_NE(std::string::npos, s.message().find(c.message)) << s.message();
  }
}

// Sibling contexts live inside the history (SiblingSet's invariant), so a context
// counter past the bound is caught through the history.
TEST(PeerSet, AContextCounterPastTheBoundIsCaughtThroughTheHistory) {
  Sibling s = Version("n1", 1, "v");
  s.context.Witness("n2", std::numeric_limits<uint64_t>::max(), 0);
  VersionVector history;
  history.Witness("n1", 1, 0);
  history.Witness("n2", std::numeric_limits<uint64_t>::max(), 0);
  auto set = SiblingSet::FromParts(history, {s});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_TRUE(CheckPeerSet(*set, kLimits).IsInvalidArgument());
}

}  // namespace
}  // namespace kvring::repl
