// node/node_options.h — everything a node is configured with: identity and
// addresses, the engine, limits, the cluster. cmd/kvnode fills it from flags and
// a config file (cmd/kvnode/config.h documents each flag); tests fill it directly.
// Thread safety: a plain value, built once at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/logging.h"
#include "lsm/engine.h"

namespace kvring::node {

struct NodeOptions {
  // Identity and addresses.
  std::string id;                          // unique node id (default: derived from listen)
  std::string listen = "127.0.0.1:7000";   // HOST:PORT for clients and peers
  std::string data_dir;                    // required
  std::string cluster = "kvring";          // peers with another cluster name are refused
  bool new_epoch = false;                  // start a new write-actor epoch (data restored from a copy)
  std::string secret_file;                 // the cluster secret (docs/security.md); none: loopback only
  std::string users_file;                  // users clients authenticate as; none: clients are not authenticated
  bool tls = false;                        // TLS on the port and to peers (node/node_tls.h)
  std::string tls_cert_file;               // this node's certificate (PEM)
  std::string tls_key_file;                // its private key (PEM)
  std::string tls_ca_file;                 // the CA peers' certificates are checked against
  bool tls_verify_clients = false;         // clients too must present a certificate signed by it

  // Storage engine.
  lsm::SyncMode sync = lsm::SyncMode::kInterval;
  int64_t sync_interval_ms = 5;
  uint64_t memtable_bytes = 32ull << 20;
  uint64_t cache_bytes = 64ull << 20;
  int64_t max_open_files = 500;
  int64_t compaction_nice = 0;             // nice levels below the request threads (lsm::Options)

  // Limits.
  uint64_t max_key_bytes = 1024;
  uint64_t max_value_bytes = 1ull << 20;
  uint64_t max_frame_bytes = 16ull << 20;
  int64_t max_connections = 10000;
  int64_t idle_timeout_s = 0;  // 0: never close idle connections
  // Per connection (docs/operations.md, "Limits per connection").
  int64_t max_inflight_per_connection = 1024;     // requests being worked on; input paused at this many
  uint64_t reply_soft_limit_bytes = 1ull << 20;   // replies owed (unsent + expected): pause above, resume under 1/4
  uint64_t reply_hard_limit_bytes = 64ull << 20;  // unsent replies: the connection is closed above
  int64_t frame_timeout_ms = 10000;               // a frame must arrive within this of its first byte
  int64_t hello_timeout_ms = 5000;                // HELLO must arrive within this of connecting
  uint64_t max_partial_frame_bytes = 256ull << 20;  // unfinished frames, all connections together
  int64_t loops = 1;           // event-loop threads (connections spread over them)
  int64_t io_threads = 2;      // engine reads that miss the cache and writes that stall run here

  // Cluster (static membership from seeds; ring and replication).
  std::vector<std::string> seeds;  // HOST:PORT of other members
  std::string dc = "dc1";
  std::string rack = "rack1";
  double weight = 1.0;
  int64_t vnodes = 256;            // virtual nodes per unit of weight
  int64_t n = 3;                   // replicas per key
  bool n_given = false;            // --n was set (else a node without seeds uses 1)
  std::string replication;         // per-DC replication ("dc1:2,dc2:1"); overrides n when set
  std::string r = "QUORUM";        // default read consistency
  std::string w = "QUORUM";        // default write consistency
  int64_t request_timeout_ms = 1000;
  // Gossip and failure detection (docs/replication.md).
  int64_t gossip_interval_ms = 1000;
  int64_t probe_interval_ms = 500;
  int64_t suspect_after_ms = 1000;
  int64_t probe_timeout_ms = 500;
  // Sloppy quorum and hinted handoff.
  bool strict_quorum = false;                   // requests count only owners towards R and W by default
  bool no_hinted_handoff = false;               // no stand-ins, no hints kept or replayed (tests of repair)
  uint64_t hint_max_bytes_per_owner = 128ull << 20;
  uint64_t hint_max_bytes_total = 1ull << 30;
  int64_t hint_window_s = 3 * 3600;             // older hints are dropped (anti-entropy repairs)
  uint64_t handoff_rate_bytes = 64ull << 20;    // replay throttle, bytes per second
  int64_t max_siblings = 64;
  // Anti-entropy (repl/anti_entropy.h).
  int64_t aae_interval_s = 600;                 // each co-replica compared at least this often; 0: never (repair only)
  uint64_t aae_rate_bytes = 32ull << 20;        // leaf scans and sets, bytes per second at most
  // Membership operations (repl/membership_ops.h, docs/operations.md).
  bool join = false;                            // start joining: stream the ranges this node will own, then normal
  std::string replace;                          // take this dead member's place and tokens, stream its ranges
  uint64_t stream_rate_bytes = 64ull << 20;     // range streaming, bytes per second at most
  int64_t stream_parallel = 2;                  // ranges streamed at once
  bool no_background_pacing = false;            // never hold answers to peers' streams/exchanges back for the clients
  int64_t ring_delay_ms = 3000;                 // from announcing a change to streaming its first batch
  int64_t cleanup_delay_ms = 60000;             // after a change, drop the ranges given up this much later; 0: never

  base::LogLevel log_level = base::LogLevel::kInfo;

  // Test-only fault hooks (node/test_hooks.h; hidden flags, docs/operations.md).
  int64_t test_clock_offset_ms = 0;    // added to the wall clock
  bool test_fault_files = false;       // steer the hooks through DATA/test-* files
  int64_t test_fail_syncs_after = -1;  // every fdatasync after this many fails (-1: never)
};

}  // namespace kvring::node
