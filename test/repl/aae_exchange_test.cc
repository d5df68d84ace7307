// Tests of the anti-entropy exchange (repl/aae_exchange.h) between two simulated
// replicas (test/util/sim_cluster.h: real engines, the in-process network, the
// AAE_* messages answered by repl/aae_responder.h): what a user would check —
// identical replicas trade only range hashes, one changed key is found with only
// its leaf listed and fixed, both directions, a replica missing everything gets
// everything, a delete wins over the old value it covers, and a write that races
// the repair is never undone.
#include "repl/aae_exchange.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "net/protocol.h"
#include "repl/aae_responder.h"
#include "repl/messages.h"
#include "repl/peer_set.h"
#include "test/repl/repl_test_util.h"
#include "test/util/sim_cluster.h"

namespace kvring::repl {
namespace {

using base::Status;
using testing::SimCluster;
using testing::SimClusterOptions;

class AaeExchangeTest : public ::testing::Test {
 protected:
  AaeExchangeTest() : c_(SimClusterOptions{}) {}

  // Writes `keys` keys through n1 at ALL: every replica holds the same sets.
  void WriteEverywhere(int keys, const std::string& prefix = "key-") {
    for (int i = 0; i < keys; i++) {
      auto w = c_.Put("n1", prefix + std::to_string(i), "value-" + std::to_string(i), "", net::kConsistencyAll);
      ASSERT_TRUE(w.status.ok()) << w.status.ToString();
    }
  }

  // A write straight into one replica's store, behind the cluster's back (no
  // replication): a blind put that supersedes what that replica holds.
  void WriteLocally(const std::string& id, const std::string& key, const std::string& value,
                    WriteKind kind = WriteKind::kPut) {
    testing::SimNode& n = c_.node(id);
    bool done = false;
    n.store->Coordinate(
        n.endpoint, key, kind, value, VersionVector(), /*overwrite=*/true,
        [](Status s, const SiblingSet&) { EXPECT_TRUE(s.ok()) << s.ToString(); },
        [&done](Status s) {
          EXPECT_TRUE(s.ok()) << s.ToString();
          done = true;
        });
    ASSERT_TRUE(c_.net().RunUntil([&] { return done; }));
  }

  // Runs one exchange from `from` with `to` over every range they share.
  Status Exchange(const std::string& from, const std::string& to, ExchangeStats* stats = nullptr) {
    testing::SimNode& a = c_.node(from);
    testing::SimNode& b = c_.node(to);
    auto ranges = SharedRanges(*a.ring->Current(), from, to);
    EXPECT_FALSE(ranges.empty());
    AaeExchange ex({}, b.info, ranges, a.leaves.get(), a.store.get(), a.endpoint, a.endpoint, a.endpoint,
                   /*throttle=*/nullptr, c_.net().clock());
    bool done = false;
    Status result;
    size_t ranges_done = 0;
    ex.Start([&](size_t, bool) { ranges_done++; },
             [&](const Status& s) {
               result = s;
               done = true;
             });
    EXPECT_TRUE(c_.net().RunUntil([&] { return done; }));
    if (result.ok()) {
      EXPECT_EQ(ranges.size(), ranges_done) << "every range reported done";
    }
    if (stats != nullptr) *stats = ex.stats();
    return result;
  }

  std::string Value(const std::string& id, const std::string& key) {
    auto set = c_.Local(id, key);
    return set ? testing::Values(*set) : "<none>";
  }

  SimCluster c_;
};

TEST_F(AaeExchangeTest, IdenticalReplicasExchangeOnlyRangeHashes) {
  WriteEverywhere(300);
  ExchangeStats st;
  {
    Status s = Exchange("n1", "n2", &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto ranges = SharedRanges(*c_.node("n1").ring->Current(), "n1", "n2");
  EXPECT_EQ(ranges.size(), st.ranges_compared);
  EXPECT_EQ(0u, st.ranges_differing);
  EXPECT_EQ(0u, st.leaf_requests + st.digest_requests + st.sync_requests);
  EXPECT_EQ(st.bytes_sent + st.bytes_received, st.tree_bytes) << "nothing but range hashes";
  // 25 bytes per interval asked about, a few per message and answer.
  size_t intervals = 0;
  for (const auto& r : ranges) intervals += r.intervals.size();
  EXPECT_LE(st.tree_bytes, intervals * 25 + 16 * st.range_messages);
  EXPECT_EQ(0u, c_.node("n2").aae->stats().keys_received);
}

TEST_F(AaeExchangeTest, OneChangedKeyIsFoundAndFixedWithOnlyItsLeafListed) {
  WriteEverywhere(300);
  WriteLocally("n2", "key-17", "changed behind the cluster's back");
  ExchangeStats st;
  {
    Status s = Exchange("n1", "n2", &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(1u, st.ranges_differing);
  EXPECT_EQ(1u, st.leaves_differing);
  EXPECT_EQ(1u, st.digest_requests) << "only the one leaf is listed";
  EXPECT_EQ(1u, st.keys_differing);
  EXPECT_EQ(1u, st.keys_received) << "n2's newer set comes back";
  EXPECT_EQ("changed behind the cluster's back", Value("n1", "key-17"));
  EXPECT_EQ(*c_.Local("n1", "key-17"), *c_.Local("n2", "key-17"));
  // Nothing is left to find.
  {
    Status s = Exchange("n1", "n2", &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(0u, st.ranges_differing);
}

TEST_F(AaeExchangeTest, DifferencesOnBothSidesAreRepairedBothWays) {
  WriteEverywhere(50);
  WriteLocally("n1", "only-on-n1", "a");
  WriteLocally("n2", "only-on-n2", "b");
  WriteLocally("n1", "key-3", "n1's newer");
  ExchangeStats st;
  {
    Status s = Exchange("n1", "n2", &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(3u, st.keys_differing);
  EXPECT_EQ("a", Value("n2", "only-on-n1"));
  EXPECT_EQ("b", Value("n1", "only-on-n2"));
  EXPECT_EQ("n1's newer", Value("n2", "key-3"));
  EXPECT_EQ(1u, st.keys_received) << "only only-on-n2 needed to come back";
}

TEST_F(AaeExchangeTest, AReplicaMissingEveryKeyGetsEveryKeyFromTheOther) {
  for (int i = 0; i < 120; i++) WriteLocally("n1", "k" + std::to_string(i), "v" + std::to_string(i));
  ExchangeStats st;
  {
    Status s = Exchange("n2", "n1", &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }  // the empty one asks
  EXPECT_EQ(120u, st.keys_received);
  EXPECT_EQ(0u, st.keys_sent);
  for (int i = 0; i < 120; i++) EXPECT_EQ("v" + std::to_string(i), Value("n2", "k" + std::to_string(i)));
}

// A replica missing a whole range lists runs of differing leaves together (up to
// keys_per_listing keys a listing), not one message per leaf: the wiped-disk case
// (at 1M keys a ring range spans ~85 leaves of ~15 keys).
TEST_F(AaeExchangeTest, AnEmptyReplicaListsRunsOfDifferingLeavesTogether) {
  for (int i = 0; i < 5000; i++) WriteLocally("n1", "k" + std::to_string(i), "v" + std::to_string(i));
  ExchangeStats st;
  {
    Status s = Exchange("n2", "n1", &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(5000u, st.keys_received);
  // No range holds 512 keys here: one listing per differing range (two for the
  // range that wraps past 2^64), however many of its leaves differ.
  EXPECT_GT(st.leaves_differing, st.ranges_differing + 100);
  EXPECT_LE(st.digest_requests, st.ranges_differing + 1)
      << st.leaves_differing << " differing leaves in " << st.ranges_differing << " ranges, " << st.digest_requests
      << " listings";
  for (int i = 0; i < 5000; i++) EXPECT_EQ("v" + std::to_string(i), Value("n2", "k" + std::to_string(i)));
}

TEST_F(AaeExchangeTest, ADeleteWinsOverTheOldValueItCoversEitherWay) {
  WriteEverywhere(20);
  // n1 deletes key-4 and key-5 on its own (n2 missed both deletes).
  auto set4 = c_.Local("n1", "key-4");
  ASSERT_TRUE(set4);
  WriteLocally("n1", "key-4", "", WriteKind::kDelete);
  WriteLocally("n1", "key-5", "", WriteKind::kDelete);
  // n1 holds only tombstones for them (left out of its listing); n2 the old values.
  {
    Status s = Exchange("n1", "n2");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  {
    Status s = Exchange("n2", "n1");
    ASSERT_TRUE(s.ok()) << s.ToString();
  }  // the other direction starts from n2's listing
  for (const char* key : {"key-4", "key-5"}) {
    EXPECT_TRUE(c_.Local("n2", key)->IsDeleted()) << key << " came back on n2";
    EXPECT_TRUE(c_.Local("n1", key)->IsDeleted()) << key << " came back on n1";
  }
}

TEST_F(AaeExchangeTest, AWriteRacingTheRepairIsNeverUndone) {
  WriteEverywhere(30);
  WriteLocally("n1", "key-9", "n1's stale-looking change");
  // The moment n2 is asked to sync key-9, a client write lands on n2 first.
  testing::SimNode& b = c_.node("n2");
  bool raced = false;
  b.endpoint->SetHandler([this, &b, &raced](uint8_t opcode, std::string_view body, test::FakeReply reply) {
    if (opcode == Op(ClusterOpcode::kAaeSync) && !raced) {
      raced = true;
      b.store->Coordinate(
          b.endpoint, "key-9", WriteKind::kPut, "the racing write", VersionVector(),
          /*overwrite=*/true, [](Status, const SiblingSet&) {}, [](Status) {});
    }
    b.aae->Handle(b.endpoint, opcode, std::string(body), [reply](Status s, std::string p) { reply(s, p); });
  });
  ExchangeStats st;
  {
    Status s = Exchange("n1", "n2", &st);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ASSERT_TRUE(raced);
  // The racing write saw only n2's own old value, not n1's change: both are
  // concurrent and both survive as siblings on both replicas; neither is lost.
  const std::string on_n2 = Value("n2", "key-9");
  EXPECT_NE(std::string::npos, on_n2.find("the racing write")) << on_n2;
  EXPECT_NE(std::string::npos, on_n2.find("n1's stale-looking change")) << on_n2;
  EXPECT_EQ(*c_.Local("n1", "key-9"), *c_.Local("n2", "key-9"));
}

TEST_F(AaeExchangeTest, APeerThatCannotBeReachedEndsTheExchangeWithTheError) {
  WriteEverywhere(5);
  c_.net().SetDown(SimCluster::AddressOf("n2"));
  Status s = Exchange("n1", "n2");
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("anti-entropy with n2")) << s.ToString();
}

TEST_F(AaeExchangeTest, ASyncBringingASetOverThePeerBoundsIsRefusedAndMergesNothing) {
  testing::SimNode& b = c_.node("n2");
  AaeResponder strict(b.leaves.get(), b.store.get(), b.endpoint, PeerSetLimits{.max_value_bytes = 4});
  SiblingSet set;
  testing::BlindPut(&set, "n1", "longer than four bytes");
  std::string body;
  EncodeSync(&body, {{"fine-key", SiblingSet()}, {"big", set}});
  bool done = false;
  Status status;
  strict.Handle(b.endpoint, Op(ClusterOpcode::kAaeSync), body, [&](Status s, std::string) {
    status = s;
    done = true;
  });
  ASSERT_TRUE(c_.net().RunUntil([&] { return done; }));
  EXPECT_TRUE(status.IsInvalidArgument()) << status.ToString();
  EXPECT_NE(std::string::npos, status.ToString().find("AAE_SYNC key 'big'")) << status.ToString();
  EXPECT_FALSE(c_.Local("n2", "big")) << "nothing merged";
}

}  // namespace
}  // namespace kvring::repl
