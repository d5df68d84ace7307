// test/repl/coordinator_test_util.h — the fixture of the coordinator tests
// (coordinator_test.cc, coordinator_transition_test.cc): a SimCluster, and a
// ledger of every write that TearDown checks with a read at ALL once every fault
// healed (nothing acknowledged lost, nothing never written).
// Thread safety: the test's thread only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/protocol.h"
#include "repl/client_context.h"
#include "repl/coordinator.h"
#include "repl/messages.h"
#include "repl/version_text.h"
#include "test/repl/repl_test_util.h"
#include "test/util/sim_cluster.h"

namespace kvring::repl {

using base::Status;
using testing::SimCluster;
using testing::SimClusterOptions;
using testing::VV;
using Values = std::vector<std::string>;

constexpr uint8_t kOne = 1;
constexpr uint8_t kQuorum = net::kConsistencyQuorum;
constexpr uint8_t kAll = net::kConsistencyAll;
constexpr uint8_t kReplicaWriteOp = Op(ClusterOpcode::kReplicaWrite);
constexpr uint8_t kForwardWriteOp = Op(ClusterOpcode::kForwardWrite);

inline std::string Addr(std::string_view id) { return SimCluster::AddressOf(id); }

inline VersionVector Decoded(std::string_view key, const std::string& context) {
  base::Result<VersionVector> vv = DecodeClientContext(ContextKey::Default(), key, context);
  EXPECT_TRUE(vv.ok()) << vv.status().ToString();
  return vv.ok() ? *vv : VersionVector();
}

// Counters only: entry times dropped, for comparing with VV("[n1:1]").
inline VersionVector Counters(VersionVector vv) {
  vv.ClearTimes();
  return vv;
}

inline Values LiveValues(const std::optional<SiblingSet>& set) {
  Values out;
  if (set) {
    for (const Sibling* s : set->LiveSiblings()) out.push_back(s->value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void Start(SimClusterOptions options = {}) { c_ = std::make_unique<SimCluster>(std::move(options)); }
  SimCluster& c() { return *c_; }
  test::FakeNetwork& net() { return c_->net(); }

  testing::WriteOutcome Put(std::string_view id, std::string_view key, std::string_view value,
                            std::string_view context, uint8_t w, uint8_t flags = 0) {
    testing::WriteOutcome out = c_->Put(id, key, value, context, w, flags);
    ledger_.Record(key, value, false, context, flags, out);
    return out;
  }
  testing::WriteOutcome Delete(std::string_view id, std::string_view key, std::string_view context, uint8_t w,
                               uint8_t flags = 0) {
    testing::WriteOutcome out = c_->Delete(id, key, context, w, flags);
    ledger_.Record(key, "", true, context, flags, out);
    return out;
  }

  void TearDown() override {
    if (c_ == nullptr || HasFatalFailure()) return;
    c_->HealEverything();
    for (const std::string& key : ledger_.keys()) {
      testing::GetOutcome final = c_->Get(c_->ReplicasOf(key).front(), key, kAll);
      ASSERT_TRUE(final.status.ok()) << key << ": " << final.status.ToString();
      for (const std::string& v : ledger_.Violations(key, final.set ? &*final.set : nullptr)) {
        ADD_FAILURE() << "key " << key << ": " << v;
      }
    }
    EXPECT_EQ(0u, net().stats().duplicate_replies) << "a handler answered a request twice";
  }

  std::unique_ptr<SimCluster> c_;
  testing::WriteLedger ledger_;
};

}  // namespace kvring::repl
