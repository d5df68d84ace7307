// node/node.h — one kvring node's parts, wired together: the engine, the ring,
// the replica store, the coordinators, the failure detector, the static
// membership, the server and the RPC clients, with the start-up and shutdown
// order they need. cmd/kvnode builds one from flags; a test builds one
// in-process on a fault-injecting Env and a manual clock.
//
// Threads: --loops event loops serve the connections (spread round-robin); each
// runs its connections' requests with its own coordinator, RPC client and
// executor, and flushes the WAL before its replies; loop 0 also polls the
// gossip and the failure detector's probes; the engine has its own flush,
// compaction and WAL-sync threads; an I/O pool runs engine reads that miss the
// block cache. Shutdown: stop accepting and drain in-flight requests, then join
// the I/O pool, flush and sync the engine, and only then free the loop (engine
// and pool callbacks may still queue work on it until they are stopped).
// Thread safety: Start and Stop from one thread.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/logging.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "lsm/engine.h"
#include "net/hello_auth.h"
#include "net/rpc_client.h"
#include "net/server.h"
#include "node/disk_guard.h"
#include "node/node_options.h"
#include "node/node_tls.h"
#include "node/node_service.h"
#include "node/rpc_transport.h"
#include "repl/answer_pacer.h"
#include "repl/coordinator.h"
#include "repl/failure_detector.h"
#include "repl/node_state.h"
#include "repl/replica_store.h"
#include "repl/gossip.h"
#include "repl/hint_store.h"
#include "repl/hinted_handoff.h"
#include "repl/prober.h"
#include "repl/aae_responder.h"
#include "repl/anti_entropy.h"
#include "repl/leaf_source.h"
#include "repl/pool_executor.h"
#include "repl/membership_ops.h"
#include "repl/range_cleanup.h"
#include "repl/range_stream.h"
#include "repl/stream_source.h"
#include "ring/membership_view.h"

namespace kvring::node {

// What a node takes from outside: files, time and logs. Every pointer must
// outlive the node.
struct NodeEnvironment {
  base::Env* env = base::Env::Default();
  base::Clock* clock = base::SystemClock::Get();
  base::Logger* logger = nullptr;
  // Test hook (node/test_hooks.h): ms every node-to-node call waits before it is
  // sent. Null: none.
  std::function<uint64_t()> send_delay_ms;
};

class Node {
 public:
  // REQUIRES: options validated (cmd/kvnode's ValidateNodeConfig) and id set.
  Node(NodeOptions options, NodeEnvironment environment);
  ~Node();  // Stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Opens the engine and starts serving. Busy when another process holds the data
  // directory; other errors name what failed.
  [[nodiscard]] base::Status Start();
  // Graceful stop (idempotent): drain, flush, sync.
  base::Status Stop();

  const NodeOptions& options() const { return options_; }
  // The address the server listens on (the port is known once Start succeeded).
  std::string address() const;
  // This run's write actor (repl/node_state.h). REQUIRES: started.
  const std::string& actor() const { return store_->self(); }
  const repl::FailureDetector& liveness() const { return *liveness_; }

 private:
  // Loads DATA/node_state and settles this run's generation and actor epoch.
  // The cluster secret, or protected mode without one (docs/security.md).
  base::Status LoadSecret();
  // The users clients authenticate as (--users-file), if any.
  base::Status LoadUsers();
  base::Status BeginNodeState();
  base::Status OpenEngine();
  base::Status OpenHints();
  base::Status BuildRing();
  // One loop's coordinator stack; the parts live in loops_[index].
  void WireLoop(int index);
  void StartMembership();  // on loop 0: gossip and probing
  void StartAntiEntropy(repl::Transport* transport);  // on loop 0
  // DATA/membership_op: the operation to resume (none when absent or unreadable: logged).
  // DATA/membership_op into membership_op_ (none when absent); an error when damaged.
  base::Status LoadMembershipOperation();
  // On loop 0: range streaming and the join/decommission/removenode operator
  // (node/node_membership.cc).
  void StartMembershipOps(repl::Transport* transport, repl::PersistedOperation op);
  void MembershipTick();  // loop 0
  void StartBootOperation();  // loop 0: --join or --replace, once it may start
  void GossipRound();      // loop 0: this node's load and suspicions, then a gossip round
  void UpdateMerkleSplits();  // loop 0: the engine's Merkle splits follow the ring (every token + 1)
  void FlushWalBeforeReplies(net::EventLoop* loop);
  void CheckDisk();  // loop 0, every second: while read-only, DiskGuard::Check on the I/O pool

  struct PerLoop {
    std::unique_ptr<net::RpcClient> rpc;
    std::unique_ptr<LoopExecutor> executor;
    std::unique_ptr<RpcTransport> transport;
    std::unique_ptr<repl::Coordinator> coordinator;
  };

  const NodeOptions options_;
  const NodeEnvironment env_;
  base::Logger* const logger_;
  std::unique_ptr<DiskGuard> disk_;  // every write under DATA goes through disk_->env()
  std::unique_ptr<repl::NodeStateFile> state_;
  std::unique_ptr<lsm::DB> db_;
  std::unique_ptr<base::ThreadPool> io_;
  std::unique_ptr<ring::RingHolder> view_;
  std::unique_ptr<repl::FailureDetector> liveness_;
  std::unique_ptr<repl::ReplicaStore> store_;
  std::unique_ptr<repl::HintStore> hints_;  // DATA/hints (docs/formats/hints.md)
  std::optional<net::ClusterSecret> secret_;  // --secret-file; none: loopback only
  repl::ContextKey context_key_;            // from the secret, else from the cluster name
  std::optional<net::UserTable> users_;     // --users-file; none: clients are not authenticated
  NodeTls tls_;                             // --tls; none: plain TCP
  std::unique_ptr<NodeService> service_;
  std::unique_ptr<net::Server> server_;
  std::vector<PerLoop> loops_;  // one per server loop
  std::unique_ptr<repl::Gossiper> gossip_;  // loop 0
  std::unique_ptr<repl::Prober> prober_;    // loop 0
  std::unique_ptr<repl::HintedHandoff> handoff_;  // loop 0
  std::unique_ptr<repl::PoolExecutor> io_executor_;  // io_ as an Executor (leaf scans, the repair file)
  std::unique_ptr<repl::LeafSource> leaves_;         // the Merkle leaves anti-entropy compares
  std::unique_ptr<repl::AaeResponder> aae_;          // answers AAE_* on every loop
  std::unique_ptr<repl::AntiEntropy> anti_entropy_;  // loop 0: the schedule and kvctl repair
  std::unique_ptr<repl::PurgeHorizon> horizon_;      // the tombstone purge rule (the engine's compaction filter)
  std::unique_ptr<repl::StreamSource> stream_source_;     // answers STREAM_READ on every loop
  repl::AnswerPacer pacer_;  // holds back answers to peers' streams and exchanges while the clients pay
  std::unique_ptr<repl::RangeStreamer> streamer_;         // loop 0
  std::unique_ptr<repl::MembershipOperator> membership_;  // loop 0
  repl::PersistedOperation membership_op_;  // read at start, handed to membership_
  std::unique_ptr<repl::RangeCleaner> cleaner_;           // loop 0: cleanup
  repl::OperationKind boot_op_ = repl::OperationKind::kNone;  // --join/--replace not started yet (loop 0)
  uint64_t boot_op_logged_us_ = 0;  // when it last said what it waits for
  uint64_t merkle_ring_version_ = ~0ull;  // the ring the Merkle splits were set for
  bool running_ = false;
};

}  // namespace kvring::node
