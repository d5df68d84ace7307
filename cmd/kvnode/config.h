// cmd/kvnode/config.h — kvnode's settings: flags, an optional `key = value`
// config file (--config FILE; flags override it), defaults and validation.
// Thread safety: a plain value, built once at start-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/logging.h"
#include "base/status.h"
#include "lsm/engine.h"

namespace kvring::cmd::kvnode {

struct NodeConfig {
  // Identity and addresses.
  std::string id;                          // unique node id (default: derived from listen)
  std::string listen = "127.0.0.1:7000";   // HOST:PORT for clients and peers
  std::string data_dir;                    // required
  std::string cluster = "kvring";          // peers with another cluster name are refused
  bool new_epoch = false;                  // start a new write-actor epoch (data restored from a copy)

  // Storage engine.
  lsm::SyncMode sync = lsm::SyncMode::kInterval;
  int64_t sync_interval_ms = 5;
  uint64_t memtable_bytes = 32ull << 20;
  uint64_t cache_bytes = 64ull << 20;
  int64_t max_open_files = 500;

  // Limits.
  uint64_t max_key_bytes = 1024;
  uint64_t max_value_bytes = 1ull << 20;
  uint64_t max_frame_bytes = 16ull << 20;
  int64_t max_connections = 10000;
  int64_t idle_timeout_s = 0;  // 0: never close idle connections
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
  int64_t max_siblings = 64;

  base::LogLevel log_level = base::LogLevel::kInfo;
};

// Parses argv (flags and --config FILE). *help is set when --help was asked for;
// then *help_text holds the text to print. Errors name the flag or file line.
base::Status ParseNodeConfig(int argc, char** argv, NodeConfig* config, bool* help, std::string* help_text);

// Checks cross-field rules (data dir given, sizes sane, r/w parse).
base::Status ValidateNodeConfig(const NodeConfig& config);

}  // namespace kvring::cmd::kvnode
