// cmd/kvbench/options.h — kvbench's settings and its command-line flags.
// The flag names are an interface: scripts and tuning studies depend on them.
// Thread safety: values; parsed once at start-up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "cmd/kvbench/key_chooser.h"
#include "cmd/kvbench/target.h"
#include "net/client_auth.h"
#include "net/protocol.h"
#include "net/tls.h"

namespace kvring::cmd::kvbench {

struct BenchOptions {
  std::vector<Target> targets;
  int connections = 50;  // total, spread over the targets and threads
  int pipeline = 1;      // requests in flight per connection
  int threads = 1;
  uint64_t keys = 100000;
  int key_size = 16;
  std::string key_prefix = "k";
  uint64_t value_min = 100;
  uint64_t value_max = 10240;
  double read_ratio = 0.5;
  bool rmw = false;      // non-read operations are read-modify-writes (workload f)
  bool overwrite = false;  // puts use the OVERWRITE flag (last writer wins) instead of contexts
  bool strict = false;     // requests use strict quorums (only owners count towards R/W)
  std::string workload;  // "" or a, b, c, d, f
  Distribution distribution = Distribution::kUniform;
  double zipf_theta = 0.99;
  double duration_s = 10;
  uint64_t requests = 0;  // > 0: run this many measured requests instead of a duration
  double warmup_s = 1;
  double rate = 0;        // > 0: open loop at this many requests/s in total
  uint8_t r = net::kConsistencyDefault;
  uint8_t w = net::kConsistencyDefault;
  bool preload = true;
  bool staleness = true;  // off with --no-staleness or when values are too small for the header
  std::string json_path;
  std::string csv_path;
  uint64_t timeline_ms = 1000;  // one timeline point (in --json) per this many ms
  uint64_t seed = 0;
  bool quiet = false;
  std::string cluster;    // cluster name sent in HELLO ("" = any)
  std::string credentials_file;         // --credentials: USER:PASSWORD; empty: $KVRING_USER, $KVRING_PASSWORD
  net::ClientCredentials credentials;   // loaded from either; empty: no authentication
  std::string tls_ca_file;              // --tls-ca: TLS to every target, verified against this CA
  std::shared_ptr<const net::TlsContext> tls;  // made from tls_ca_file; null: plain TCP
  bool help = false;
};

// Parses argv[1..argc). --help sets options.help (the caller prints HelpText()).
// InvalidArgument names the flag and what is wrong with its value.
base::Result<BenchOptions> ParseOptions(int argc, char** argv);
std::string HelpText();

// "100" or "100-10240" (each with an optional k/m suffix, powers of 1024).
[[nodiscard]] base::Status ParseValueSize(const std::string& text, uint64_t* min, uint64_t* max);

// Applies YCSB-style mix presets: a (50% read / 50% update, zipfian), b (95/5,
// zipfian), c (read only, zipfian), d (95% read / 5% insert, latest),
// f (50% read / 50% read-modify-write, zipfian).
[[nodiscard]] base::Status ApplyWorkload(const std::string& name, BenchOptions* options);

}  // namespace kvring::cmd::kvbench
