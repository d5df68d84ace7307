// cmd/kvnode/node.h — one kvnode process's parts, wired together: the engine, the
// ring, the replica store, the coordinator, the static membership, the server and
// the RPC client, with the start-up and shutdown order they need.
//
// Threads: --loops event loops serve the connections (spread round-robin); each
// runs its connections' requests with its own coordinator, RPC client and
// executor, and flushes the WAL before its replies; loop 0 also polls the
// membership and answers MEMBER_INFO; the engine has its own flush,
// compaction and WAL-sync threads; an I/O pool runs engine reads that miss the
// block cache. Shutdown: stop accepting and drain in-flight requests, then join
// the I/O pool, flush and sync the engine, and only then free the loop (engine
// and pool callbacks may still queue work on it until they are stopped).
// Thread safety: Start and Stop from one thread (main).
#pragma once

#include <memory>
#include <vector>

#include "base/logging.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "cmd/kvnode/config.h"
#include "cmd/kvnode/node_service.h"
#include "cmd/kvnode/rpc_transport.h"
#include "lsm/engine.h"
#include "net/rpc_client.h"
#include "net/server.h"
#include "repl/coordinator.h"
#include "repl/node_state.h"
#include "repl/replica_store.h"
#include "repl/static_membership.h"
#include "ring/membership_view.h"

namespace kvring::cmd::kvnode {

class Node {
 public:
  Node(NodeConfig config, base::Logger* logger);
  ~Node();  // Stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Opens the engine and starts serving. Busy when another process holds the data
  // directory; other errors name what failed.
  [[nodiscard]] base::Status Start();
  // Graceful stop (idempotent): drain, flush, sync.
  base::Status Stop();

  const NodeConfig& config() const { return config_; }

 private:
  // Loads DATA/node_state and settles this run's generation and actor epoch.
  base::Status BeginNodeState();
  base::Status OpenEngine();
  base::Status BuildRing();
  // One loop's coordinator stack; the parts live in loops_[index].
  void WireLoop(int index);
  void StartMembership();  // on loop 0
  void FlushWalBeforeReplies(net::EventLoop* loop);

  struct PerLoop {
    std::unique_ptr<net::RpcClient> rpc;
    std::unique_ptr<LoopExecutor> executor;
    std::unique_ptr<RpcTransport> transport;
    std::unique_ptr<repl::Coordinator> coordinator;
  };

  const NodeConfig config_;
  base::Logger* const logger_;
  std::unique_ptr<repl::NodeStateFile> state_;
  std::unique_ptr<lsm::DB> db_;
  std::unique_ptr<base::ThreadPool> io_;
  std::unique_ptr<ring::RingHolder> view_;
  std::unique_ptr<repl::ReplicaStore> store_;
  std::unique_ptr<NodeService> service_;
  std::unique_ptr<net::Server> server_;
  std::vector<PerLoop> loops_;  // one per server loop
  std::unique_ptr<repl::StaticMembership> membership_;
  bool running_ = false;
};

}  // namespace kvring::cmd::kvnode
