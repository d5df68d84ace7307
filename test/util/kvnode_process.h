// test/util/kvnode_process.h — real kvnode processes for integration and cluster
// tests (test/cluster/, test/cmd/kvctl_*):
//
//   KvnodeProcess  one build/kvnode child on a free loopback port, with its data
//                  dir and log under a test directory; waits until it answers
//                  PING; Kill() = SIGKILL by pid, Terminate() = SIGTERM + exit
//                  code, Restart() on the same port and data dir.
//   Cluster        N such processes sharing one seed list; waits until every node
//                  lists every member; a KvClient per node for the test thread.
//   KvClient       typed GET/PUT/DELETE (R/W per request, replica-local reads,
//                  decoded sibling clocks), PING and CLUSTER_STATUS over one
//                  net::BlockingClient that reconnects lazily.
//   RunProgram     runs a command with pipes for stdin/stdout/stderr (kvctl, a
//                  second kvnode that must refuse to start).
//
//   test::Cluster cluster({.nodes = 3, .n = 3});
//   ASSERT_TRUE(cluster.Start().ok());
//   auto put = cluster.client(0).Put("k", "v", /*w=*/2);
//   auto get = cluster.client(2).Get("k", /*r=*/2);   // get->values() == {"v"}
//   cluster.node(1).Kill();
//
// Processes are only ever stopped by their pid (other tests and engineers run
// kvnodes on this machine). Every binary comes from test::BuildDir(), so an ASan
// test binary starts the ASan kvnode. Deadlines are generous (an ASan build is
// ~3x slower) but bounded; nothing waits by sleeping and hoping.
// Thread safety: KvnodeProcess and Cluster need external synchronization; a
// KvClient needs external synchronization (use one per thread). RunProgram is
// thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/blocking_client.h"
#include "net/protocol.h"
#include "repl/messages.h"
#include "repl/version_vector.h"
#include "test/util/test_util.h"

namespace kvring::test {

// How long a node may take to answer its first PING (ASan, a loaded machine).
constexpr uint64_t kNodeStartTimeoutMs = 30'000;
// How long a cluster may take until every node knows every member (membership is
// polled every second, and a reconnect may wait out an RPC backoff of up to 5 s).
constexpr uint64_t kClusterSettleTimeoutMs = 30'000;
// A client request's deadline (the node's own --request-timeout-ms is shorter).
constexpr uint64_t kClientTimeoutMs = 10'000;

// --- Running a program --------------------------------------------------------------

struct ProgramResult {
  int exit_code = -1;     // the exit status; 128 + signal when killed by one
  bool timed_out = false; // killed (SIGKILL) at the deadline
  std::string out;        // everything it wrote to stdout
  std::string err;        // ... and to stderr
  // "exit N\nstdout: ...\nstderr: ..." for failure messages.
  std::string ToString() const;
};

// Runs argv (argv[0] is the program path) with `input` on its stdin (then closed),
// collecting stdout and stderr, for at most timeout_ms.
ProgramResult RunProgram(const std::vector<std::string>& argv, std::string_view input = "",
                         uint64_t timeout_ms = kClientTimeoutMs);

// build/<name> of the running test binary's build tree (kvnode, kvctl).
std::string BinaryPath(const std::string& name);

// --- A typed client ---------------------------------------------------------------

// One sibling of a GET reply, with its clock decoded (repl::DecodeSiblingClock).
struct SiblingView {
  std::string value;
  repl::Dot dot;                 // the write that created this version
  repl::VersionVector context;   // what that write's coordinator had seen
  uint64_t timestamp_us = 0;
};

struct ReadResult {
  bool found = true;    // false: NotFound (the key is missing or deleted); context still set
  std::vector<SiblingView> siblings;
  std::string context;  // opaque (repl/client_context.h): pass it to a put or delete
  // The sibling values, sorted.
  std::vector<std::string> values() const;
};

struct WriteResult {
  std::vector<std::string> acks;  // ids of the replicas that acknowledged, in arrival order
  std::string context;            // the new version's context (pass it to the next put)
  repl::Dot dot;                  // the new version's dot
};

class KvClient {
 public:
  // source_address: the host our side binds to ("" = the kernel's choice), so
  // iptables rules on node address pairs leave the test's own traffic alone.
  // credentials: the user to authenticate as (may be null; must outlive us).
  // tls: a client context for nodes with --tls (may be null; must outlive us).
  explicit KvClient(std::string address, uint64_t timeout_ms = kClientTimeoutMs, std::string source_address = "",
                    const net::ClientCredentials* credentials = nullptr, const net::TlsContext* tls = nullptr);
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;

  const std::string& address() const { return address_; }
  void set_address(std::string address);

  // level: net::kConsistencyDefault, a number, kConsistencyQuorum or kConsistencyAll.
  // A missing (or deleted) key is NotFound.
  base::Result<ReadResult> Get(std::string_view key, uint8_t r = net::kConsistencyDefault);
  // Like Get, but a missing key is a result with found = false and its context.
  // flags: net::kGetFlagStrict or 0.
  base::Result<ReadResult> Read(std::string_view key, uint8_t r = net::kConsistencyDefault, uint8_t flags = 0);
  // Reads only this node's own replica (GET with net::kGetFlagLocal).
  base::Result<ReadResult> GetLocal(std::string_view key);
  // flags: net::kWriteFlagOverwrite or 0.
  base::Result<WriteResult> Put(std::string_view key, std::string_view value, uint8_t w = net::kConsistencyDefault,
                                std::string_view context = "", uint8_t flags = 0);
  // A delete needs a context (or the OVERWRITE flag); see DeleteSeen.
  base::Result<WriteResult> Delete(std::string_view key, uint8_t w = net::kConsistencyDefault,
                                   std::string_view context = "", uint8_t flags = 0);
  // Reads the key at `w` replicas, then deletes what that read returned.
  base::Result<WriteResult> DeleteSeen(std::string_view key, uint8_t w = net::kConsistencyDefault);
  // Read-modify-write: reads the key at `r` replicas (default: `w`), then puts
  // `value` with that read's context, replacing what the read returned.
  base::Result<WriteResult> Replace(std::string_view key, std::string_view value,
                                    uint8_t w = net::kConsistencyDefault, uint8_t r = 0);
  base::Status Ping();
  base::Result<std::vector<repl::MemberReport>> ClusterStatus();
  // Any request; connects first when needed. A lost connection is reopened by the
  // next call (never retried here: the test sees every failure).
  base::Result<std::string> Call(uint8_t opcode, std::string_view body);
  // The underlying connection (pipelining tests), connected.
  base::Result<net::BlockingClient*> Connected();

 private:
  base::Result<ReadResult> DoGet(std::string_view key, uint8_t r, uint8_t flags);

  std::string address_;
  const uint64_t timeout_ms_;
  net::BlockingClient client_;
};

// A counter from the node's STATS text ("name value" lines); -1 when absent.
int64_t StatsCounter(KvClient& client, const std::string& name);

// Decodes a GET reply payload into views that own their bytes.
base::Result<ReadResult> DecodeReadResult(std::string_view payload);

// --- One kvnode process -----------------------------------------------------------

struct KvnodeOptions {
  std::string id = "n1";
  std::string host = "127.0.0.1";   // listen host (127.0.0.2... inside a net namespace)
  int port = 0;                     // 0: a free port, picked again if the bind fails
  std::vector<std::string> seeds;   // HOST:PORT of the other members
  int n = 1;                        // --n
  std::string r;                    // --r ("" = kvnode's default, QUORUM)
  std::string w;                    // --w
  std::string sync = "interval";    // --sync none|interval|always
  std::vector<std::string> extra_flags;
  std::string client_source;        // source host of the harness's own connections ("" = any)
  net::ClientCredentials credentials;  // the user the harness's own connections authenticate as
  std::shared_ptr<const net::TlsContext> tls;  // the harness's own connections use TLS (nodes with --tls)
};

class KvnodeProcess {
 public:
  // The data directory is dir/<id>, the log (stdout and stderr, appended across
  // restarts) dir/<id>.log.
  KvnodeProcess(std::string dir, KvnodeOptions options);
  // SIGKILL by pid when still running; when the running test has failed, prints
  // the tail of the log first.
  ~KvnodeProcess();
  // Every stop (Kill, Terminate, the destructor) also scans the log for
  // sanitizer reports (ASan, LSan, UBSan, TSan) the process wrote, and fails the
  // running test with the report when it finds one.
  KvnodeProcess(const KvnodeProcess&) = delete;
  KvnodeProcess& operator=(const KvnodeProcess&) = delete;

  // Launches the process and waits until it answers PING. With port 0 a bind
  // failure ("Address already in use") is retried on another free port. Errors
  // carry the tail of the node's log.
  base::Status Start(uint64_t timeout_ms = kNodeStartTimeoutMs);
  // Starts the process without waiting (REQUIRES: a port was set or picked).
  base::Status Launch();
  // Waits until the node answers PING; fails early when it exited.
  base::Status WaitReady(uint64_t timeout_ms = kNodeStartTimeoutMs);
  // SIGKILL by pid and reap (no-op when not running).
  void Kill();
  // SIGTERM, then waits for the exit: the exit code (128 + signal when killed by
  // one); TimedOut (and a SIGKILL) when it did not exit within timeout_ms.
  base::Result<int> Terminate(uint64_t timeout_ms = kNodeStartTimeoutMs);
  // Starts it again on the same port and data directory (after Kill/Terminate).
  base::Status Restart(uint64_t timeout_ms = kNodeStartTimeoutMs);
  // True while the process runs (reaps it when it exited; see last_wait_status()).
  bool running();
  // The raw wait status of the last exit that running()/Terminate() observed; -1
  // when unknown.
  int last_wait_status() const { return last_wait_status_; }

  // How many times the process was launched (a client of an earlier launch holds
  // a dead connection).
  int launches() const { return launches_; }
  const KvnodeOptions& options() const { return options_; }
  KvnodeOptions& mutable_options() { return options_; }
  const std::string& id() const { return options_.id; }
  int port() const { return options_.port; }
  std::string address() const;
  pid_t pid() const { return child_.pid(); }
  std::string data_dir() const { return dir_ + "/" + options_.id; }
  std::string log_path() const { return dir_ + "/" + options_.id + ".log"; }
  // The last `lines` lines of the log.
  std::string LogTail(size_t lines = 30) const;

  // CLUSTER_STATUS as this node sees it.
  base::Result<std::vector<repl::MemberReport>> ClusterStatus();
  // Waits until CLUSTER_STATUS lists every member in `ids` and shows none of
  // those in `up` as down.
  // With `generations`, a member of `up` counts only once this node has heard
  // from its current run (gossip carries the generation of each start).
  base::Status WaitForMembers(const std::vector<std::string>& ids, const std::vector<std::string>& up,
                              uint64_t timeout_ms = kClusterSettleTimeoutMs,
                              const std::map<std::string, uint64_t>* generations = nullptr);
  // This node's generation (DATA/node_state), from its own CLUSTER_STATUS entry.
  base::Result<uint64_t> Generation();

  // The argv Launch() runs (for tests that run a second copy with RunProgram).
  std::vector<std::string> Argv() const;

 private:
  base::Status Failed(const std::string& what) const;
  void CheckSanitizerReports();

  const std::string dir_;
  KvnodeOptions options_;
  ChildProcess child_;
  int last_wait_status_ = -1;
  int launches_ = 0;
  size_t log_checked_ = 0;  // log bytes already scanned for sanitizer reports
};

// --- A cluster --------------------------------------------------------------------

struct ClusterOptions {
  size_t nodes = 3;
  int n = 3;                       // --n of every node
  std::string r;                   // --r ("" = kvnode's default, QUORUM)
  std::string w;                   // --w
  std::string sync = "interval";
  std::vector<std::string> hosts;  // listen host per node (default 127.0.0.1 for all)
  std::vector<std::string> extra_flags;
  std::vector<std::vector<std::string>> node_flags;  // node i's own flags, after extra_flags (e.g. --dc)
  std::string client_source;       // source host of the test's connections ("" = any)
  bool single_seed = false;        // every node's only seed is n1 (n1 has none): gossip must spread it
  net::ClientCredentials credentials;  // the user client(i) authenticates as (nodes with --users-file)
  std::shared_ptr<const net::TlsContext> tls;  // client(i) and the harness use TLS (nodes with --tls)
};

class Cluster {
 public:
  // Node i gets id "n<i+1>". Data and logs live in a TempDir of the cluster's own
  // (kept when KV_KEEP_TEST_DIRS is set).
  explicit Cluster(ClusterOptions options);
  // Stops every node by pid (each prints its log tail when the test failed).
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Picks ports, launches every node, and waits until each answers and lists
  // every member as up. A port taken in between is retried with fresh ports.
  base::Status Start(uint64_t timeout_ms = kClusterSettleTimeoutMs);

  size_t size() const { return nodes_.size(); }
  KvnodeProcess& node(size_t i) { return *nodes_[i]; }
  // A client of node i (for the test's own thread); reconnects after the node
  // was restarted.
  KvClient& client(size_t i);
  std::vector<std::string> ids() const;
  const std::string& dir() const { return dir_.path(); }

  // Waits until every running node lists every member and sees every running
  // node as up (after a restart, peers may first wait out an RPC backoff).
  base::Status WaitUntilConnected(uint64_t timeout_ms = kClusterSettleTimeoutMs);
  // Waits until node `observer` reports node `down` as down (after a call to it failed).
  base::Status WaitUntilSeenDown(size_t observer, size_t down, uint64_t timeout_ms = kClusterSettleTimeoutMs);

  // Every node's log tail, labelled (for failure messages).
  std::string LogTails(size_t lines = 30) const;

  // Starts one more node, n<size()+1>, seeded with every node so far, with the
  // cluster's flags and then `extra_flags` (e.g. --join); waits until it answers,
  // not until it is a member. Its index.
  base::Result<size_t> AddNode(const std::vector<std::string>& extra_flags,
                               uint64_t timeout_ms = kNodeStartTimeoutMs);

 private:
  base::Status StartOnce(uint64_t timeout_ms, bool* port_clash);
  KvnodeOptions NodeOptions(size_t i, int port, std::vector<std::string> seeds) const;

  const ClusterOptions options_;
  TempDir dir_;
  std::vector<std::unique_ptr<KvnodeProcess>> nodes_;
  std::vector<std::unique_ptr<KvClient>> clients_;
  std::vector<int> client_launches_;  // node(i).launches() when client i last connected
  int start_attempts_ = 0;
  std::string start_dir_;  // the last attempt's directory (the nodes' data and logs)
};

// Waits (polling every few ms) until pred() is true or timeout_ms passed;
// returns whether it became true.
template <typename Pred>
bool WaitFor(Pred pred, uint64_t timeout_ms);

// Monotonic milliseconds (for deadlines in tests).
uint64_t NowMs();
void SleepMs(uint64_t ms);

template <typename Pred>
bool WaitFor(Pred pred, uint64_t timeout_ms) {
  const uint64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    if (pred()) return true;
    if (NowMs() >= deadline) return false;
    SleepMs(10);
  }
}

}  // namespace kvring::test
