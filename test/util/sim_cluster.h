// test/util/sim_cluster.h — N simulated kvring nodes in one process, for the
// coordinator tests: each node has its own lsm engine on its own base::FaultEnv,
// a repl::ReplicaStore, a repl::FailureDetector, a ring (ring::RingHolder over
// every member) and a repl::Coordinator, and they talk over one
// test::FakeNetwork (test/util/fake_transport.h). Each node answers
// REPLICA_READ, REPLICA_WRITE, FORWARD_WRITE and the AAE_* messages the way node/node_service.cc
// does (the same decoders, the same store and coordinator calls, the same
// receipt encoder), so the coordinator runs here as it does in kvnode, with
// every message, delay and failure on the simulated clock.
//
// The engines run with SyncMode::kNone and a memtable big enough for a test's
// data, so every store completion is inline and a run is replayable from its
// seed (FakeNetwork's determinism rule).
//
// Node i (1-based) is "n<i>" at address "10.0.0.<i>:7000", in datacenter
// options.dcs[i-1] (dc1 when not given). With options.ring_members < nodes, the
// last nodes run but are not members of the ring in force: StartTransition makes
// them join (a ring in transition on every node, ring/transition.h).
// Thread safety: needs external synchronization (the test's thread drives it).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fault_env.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "lsm/engine.h"
#include "repl/coordinator.h"
#include "repl/failure_detector.h"
#include "repl/aae_responder.h"
#include "repl/hint_store.h"
#include "repl/leaf_source.h"
#include "repl/prober.h"
#include "repl/replica_store.h"
#include "ring/membership_view.h"
#include "test/util/fake_transport.h"

namespace kvring::repl::testing {

struct SimClusterOptions {
  int nodes = 3;
  int n = 3;  // replicas per key
  std::string replication;       // a per-DC spec ("dc1:2,dc2:2"); overrides n when set
  std::vector<std::string> dcs;  // node i's datacenter (default dc1)
  uint64_t request_timeout_ms = 500;
  test::FakeNetworkOptions network;
  VersioningOptions versioning;
  int leaf_bits = 10;  // the anti-entropy leaves (ScanLeafSource)
  int ring_members = 0;  // nodes n1..n<ring_members> form the ring in force; 0: every node
  bool hints = false;    // each node keeps a HintStore (stand-ins, hints) and answers HINTED_WRITE
};

struct SimNode {
  ring::NodeInfo info;
  base::FaultEnv env;
  std::unique_ptr<lsm::DB> db;
  std::unique_ptr<base::ThreadPool> io;
  std::unique_ptr<ReplicaStore> store;
  std::unique_ptr<HintStore> hints;  // with SimClusterOptions::hints only
  std::unique_ptr<FailureDetector> liveness;
  std::unique_ptr<Prober> prober;  // ticked by SimCluster::RunDetectors
  std::unique_ptr<ring::RingHolder> ring;
  std::unique_ptr<Coordinator> coordinator;
  std::unique_ptr<ScanLeafSource> leaves;  // anti-entropy: leaves by range scans
  std::unique_ptr<AaeResponder> aae;       // answers the AAE_* messages
  test::FakeEndpoint* endpoint = nullptr;
};

// What a get's callback reported (filled in when it runs).
struct GetOutcome {
  int calls = 0;  // how many times the callback ran (exactly once is the contract)
  uint64_t at_us = 0;  // simulated time of the (last) callback
  base::Status status;
  std::string key;
  std::optional<SiblingSet> set;  // the merged set, when the replicas held one

  bool done() const { return calls > 0; }
  // The live values, sorted (empty when not found or deleted).
  std::vector<std::string> values() const;
  // The context a client gets: the merged history (the empty history when none).
  std::string context() const;
};

// What a put's or delete's callback reported.
struct WriteOutcome {
  int calls = 0;
  uint64_t at_us = 0;
  base::Status status;
  WriteResult result;

  bool done() const { return calls > 0; }
  // The acknowledging replicas' ids, in acknowledgement order.
  std::vector<std::string> acks() const;
  // The new version's dot, decoded from the receipt's clock ({} when none).
  Dot dot() const;
};

// Every write a test attempted, to check a final read against: no acknowledged
// write is lost unless a write whose context covered it came later, and no value
// appears that was never written.
struct WriteAttempt {
  std::string key;
  std::string value;       // empty for a delete
  bool tombstone = false;
  bool overwrite = false;  // supersedes whatever its coordinator held, seen or not
  VersionVector context;   // what the client sent, decoded (empty: none)
  bool acknowledged = false;
  Dot dot;                 // the receipt's, when acknowledged
};

class WriteLedger {
 public:
  // Records a write once its outcome is known (a failed one may still be applied).
  void Record(std::string_view key, std::string_view value, bool tombstone, std::string_view context,
              uint8_t flags, const WriteOutcome& outcome);
  const std::vector<WriteAttempt>& attempts() const { return attempts_; }
  std::vector<std::string> keys() const;
  bool WasWritten(std::string_view key, std::string_view value) const;
  // What is wrong with `final`, a read of `key` at ALL once every fault healed
  // (null: nothing stored): acknowledged writes lost without a covering context,
  // siblings no attempt wrote, an acknowledged value under another dot.
  std::vector<std::string> Violations(std::string_view key, const SiblingSet* final) const;

 private:
  std::vector<WriteAttempt> attempts_;
};

class SimCluster {
 public:
  explicit SimCluster(SimClusterOptions options);
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  test::FakeNetwork& net() { return *net_; }
  size_t size() const { return nodes_.size(); }
  SimNode& node(std::string_view id);
  SimNode& node(size_t index) { return *nodes_[index]; }
  std::vector<std::string> ids() const;
  static std::string AddressOf(std::string_view id);

  // Every node's view publishes the ring in force with the transition to the ring
  // of `after` (ids of running nodes). Fails the test when a view refuses it.
  void StartTransition(const std::vector<std::string>& after);

  // The key's replicas in preference order (on the ring in force).
  std::vector<std::string> ReplicasOf(std::string_view key) const;
  // The first of "key-0", "key-1", ... whose preference list is exactly `replicas`.
  std::string KeyWithReplicas(const std::vector<std::string>& replicas) const;

  // Start an operation at coordinator `id`; the outcome fills in when its
  // callback runs (the network must be run for that).
  // flags: net::kGetFlagStrict.
  std::shared_ptr<GetOutcome> StartGet(std::string_view id, std::string_view key, uint8_t r, uint8_t flags = 0);
  std::shared_ptr<WriteOutcome> StartPut(std::string_view id, std::string_view key, std::string_view value,
                                         std::string_view context, uint8_t w, uint8_t flags = 0);
  std::shared_ptr<WriteOutcome> StartDelete(std::string_view id, std::string_view key, std::string_view context,
                                            uint8_t w, uint8_t flags = 0);

  // The same, run until the callback has run (then until the network is idle:
  // late replies, replication and read repair have landed).
  GetOutcome Get(std::string_view id, std::string_view key, uint8_t r);
  WriteOutcome Put(std::string_view id, std::string_view key, std::string_view value, std::string_view context,
                   uint8_t w, uint8_t flags = 0);
  WriteOutcome Delete(std::string_view id, std::string_view key, std::string_view context, uint8_t w,
                      uint8_t flags = 0);

  // What node `id` itself stores for the key (nullopt: nothing).
  std::optional<SiblingSet> Local(std::string_view id, std::string_view key);

  // Ends every fault: links healed and unscripted, default faults without drops,
  // every node up; then runs until idle.
  void HealEverything();
  // Runs every node's failure detection (a prober Tick every probe interval) for
  // `micros` of simulated time: what kvnode's timers do. The network is otherwise
  // run only by the operations, so a test decides when detection happens.
  void RunDetectors(uint64_t micros);

 private:
  void StartNode(int index);
  void OpenHints(SimNode* node, const std::string& dir);
  void InstallHandler(SimNode* node);
  template <typename Outcome>
  Outcome Await(const std::shared_ptr<Outcome>& outcome);

  const SimClusterOptions options_;
  std::unique_ptr<test::FakeNetwork> net_;
  std::vector<ring::NodeInfo> members_;   // every running node
  std::vector<ring::NodeInfo> in_force_;  // the ring's members
  std::vector<std::unique_ptr<SimNode>> nodes_;  // destroyed before net_ (pools post into it)
};

}  // namespace kvring::repl::testing
