#include "cmd/kvbench/options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <random>

#include "cmd/common/flags.h"
#include "cmd/kvbench/value_header.h"

namespace kvring::cmd::kvbench {

using base::Status;

namespace {

constexpr uint64_t kMaxValueBytes = 8u << 20;  // under net::kDefaultMaxFrameBytes with room to spare
constexpr int kMaxKeySize = 1024;              // the design's default key limit
constexpr int kMaxPipeline = 4096;
constexpr int kMaxThreads = 64;
constexpr int kMaxConnections = 65536;
constexpr double kMaxZipfTheta = 10;
constexpr uint64_t kMaxInFlight = (1u << 20) - 1;  // request ids carry a 20-bit slot index
constexpr uint64_t kMaxKeys = uint64_t{1} << 36;
constexpr uint64_t kMaxStalenessKeys = uint64_t{1} << 26;  // ~4 GiB of per-key state

const char kUsage[] =
    "kvbench — kvring's load generator for tuning studies.\n"
    "\n"
    "usage: kvbench --target kv://HOST:PORT [--target ...] [flags]\n"
    "       kvbench --target redis://HOST:PORT [flags]\n"
    "\n"
    "Closed loop by default: every connection keeps --pipeline requests in flight and\n"
    "sends the next one as soon as a reply arrives. With --rate R it runs open loop:\n"
    "requests are scheduled at fixed intervals and each latency is measured from its\n"
    "scheduled time, so a slow server cannot hide its queueing (no coordinated omission).\n"
    "Before measuring it writes every key once (unless --no-preload), then runs --warmup\n"
    "seconds unmeasured, then --duration seconds (or --requests N) measured.\n"
    "A progress line goes to stderr every second; the summary goes to stdout.\n"
    "Exit status: 0 run completed, 1 run failed (e.g. preload or results file), 2 usage\n"
    "error or no target reachable. docs/kvbench.md explains every number.";

// An unsigned decimal in [min, max]; the error names the flag.
Status ParseCount(const std::string& flag, const std::string& text, uint64_t min, uint64_t max, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || text[0] == '-' || text[0] == '+' || text[0] == ' ') {
    return Status::InvalidArgument("--" + flag + ": '" + text + "' is not a whole number");
  }
  if (v < min || v > max) {
    return Status::InvalidArgument("--" + flag + ": " + text + " is out of range " + std::to_string(min) + ".." +
                                   std::to_string(max));
  }
  *out = v;
  return Status::OK();
}

Status ParseIntFlag(const std::string& flag, const std::string& text, int max, int* out) {
  uint64_t v = 0;
  KV_RETURN_IF_ERROR(ParseCount(flag, text, 1, static_cast<uint64_t>(max), &v));
  *out = static_cast<int>(v);
  return Status::OK();
}

Status ParseSize(const std::string& text, uint64_t* bytes) {
  if (!ParseByteSize(text, bytes)) return Status::InvalidArgument("'" + text + "' is not a byte size");
  return Status::OK();
}

// --r / --w: a level for net::ParseConsistency.
std::function<Status(const std::string&)> ConsistencyParser(const std::string& flag, uint8_t* dest) {
  return [flag, dest](const std::string& v) {
    if (!net::ParseConsistency(v, dest)) {
      return Status::InvalidArgument("--" + flag + ": '" + v + "' is not ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
                                     "EACH_QUORUM, default or 1..250");
    }
    return Status::OK();
  };
}

int DecimalDigits(uint64_t v) {
  int d = 1;
  while (v >= 10) {
    v /= 10;
    ++d;
  }
  return d;
}

Status LoadTls(BenchOptions* o) {
  if (o->tls_ca_file.empty()) return Status::OK();
  auto tls = net::TlsContext::ForClient(o->tls_ca_file);
  if (!tls.ok()) return tls.status().WithContext("--tls-ca");
  o->tls = std::move(tls).value();
  return Status::OK();
}

// The checks that involve several flags.
Status Validate(BenchOptions* o, const FlagSet& flags) {
  if (o->targets.empty()) return Status::InvalidArgument("--target is required (kv://HOST:PORT or redis://HOST:PORT)");
  KV_RETURN_IF_ERROR(LoadTls(o));
  auto credentials = net::LoadClientCredentials(o->credentials_file);
  if (!credentials.ok()) return credentials.status().WithContext("--credentials");
  o->credentials = std::move(credentials).value();
  if (o->connections < o->threads) {
    return Status::InvalidArgument("--connections (" + std::to_string(o->connections) +
                                   ") must be at least --threads (" + std::to_string(o->threads) + ")");
  }
  const int digits = DecimalDigits(o->keys - 1);
  if (static_cast<int>(o->key_prefix.size()) + digits > o->key_size) {
    return Status::InvalidArgument("--key-size " + std::to_string(o->key_size) + " is too small for --key-prefix '" +
                                   o->key_prefix + "' plus " + std::to_string(digits) + " digits of --keys " +
                                   std::to_string(o->keys));
  }
  if (flags.WasSet("duration") && flags.WasSet("requests")) {
    return Status::InvalidArgument("give --duration or --requests, not both");
  }
  if (!(o->zipf_theta > 0 && o->zipf_theta <= kMaxZipfTheta)) {
    return Status::InvalidArgument("--zipf-theta must be in (0, " + std::to_string(static_cast<int>(kMaxZipfTheta)) +
                                   "], got " + std::to_string(o->zipf_theta));
  }
  if (o->requests > 0 && o->requests < static_cast<uint64_t>(o->threads)) {
    return Status::InvalidArgument("--requests (" + std::to_string(o->requests) + ") must be at least --threads (" +
                                   std::to_string(o->threads) + ")");
  }
  if (static_cast<uint64_t>(o->connections) * static_cast<uint64_t>(o->pipeline) > kMaxInFlight) {
    return Status::InvalidArgument("--connections x --pipeline must stay under " + std::to_string(kMaxInFlight) +
                                   " requests in flight");
  }
  if (o->value_min < kValueHeaderBytes) o->staleness = false;
  if (o->staleness && o->keys > kMaxStalenessKeys) {
    return Status::InvalidArgument("--keys " + std::to_string(o->keys) + " is too many for the staleness check (~" +
                                   std::to_string(o->keys * 64 >> 30) + " GiB of memory; at most " +
                                   std::to_string(kMaxStalenessKeys) + " keys): add --no-staleness");
  }
  if (o->seed == 0) o->seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32) | 1;
  return Status::OK();
}

void DeclareFlags(FlagSet* f, BenchOptions* o, std::vector<std::string>* targets, std::string* workload,
                  std::string* distribution, bool* no_preload, bool* no_staleness) {
  f->Repeated("target", targets,
              "kv://HOST:PORT (kvring) or redis://HOST:PORT (RESP); repeat to spread the load over nodes");
  f->Custom("connections", "C", "connections in total, spread round-robin over targets and threads (50)",
            [o](const std::string& v) { return ParseIntFlag("connections", v, kMaxConnections, &o->connections); });
  f->Custom("pipeline", "D", "requests in flight per connection (1)", [o](const std::string& v) {
    return ParseIntFlag("pipeline", v, kMaxPipeline, &o->pipeline);
  });
  f->Custom("threads", "T", "client threads, each with its own connections and epoll loop (1)",
            [o](const std::string& v) { return ParseIntFlag("threads", v, kMaxThreads, &o->threads); });
  f->Custom("keys", "K", "size of the key space (100000)", [o](const std::string& v) {
    return ParseCount("keys", v, 1, kMaxKeys, &o->keys);
  });
  f->Custom("key-size", "N", "key length in bytes: --key-prefix then a zero-padded index (16)",
            [o](const std::string& v) { return ParseIntFlag("key-size", v, kMaxKeySize, &o->key_size); });
  f->String("key-prefix", &o->key_prefix, "prefix of every key; separate concurrent kvbench runs with it (k)");
  f->Custom("value-size", "N|MIN-MAX",
            "value size in bytes, fixed or drawn uniformly from MIN-MAX; k/m suffixes (100-10240)",
            [o](const std::string& v) {
              Status s = ParseValueSize(v, &o->value_min, &o->value_max);
              return s.ok() ? s : Status::InvalidArgument("--value-size: " + s.message());
            });
  f->Custom("read-ratio", "X", "fraction of operations that are reads, 0..1; the rest are writes (0.5)",
            [o](const std::string& v) {
              char* end = nullptr;
              double x = std::strtod(v.c_str(), &end);
              if (v.empty() || *end != '\0' || !(x >= 0 && x <= 1)) {
                return Status::InvalidArgument("--read-ratio: '" + v + "' is not a number in 0..1");
              }
              o->read_ratio = x;
              return Status::OK();
            });
  f->String("workload", workload,
            "YCSB-style mix: a (50% read/50% update), b (95/5), c (read only), d (95% read/5% insert, "
            "latest), f (50% read/50% read-modify-write); zipfian unless noted. --read-ratio and "
            "--distribution override it");
  f->String("distribution", distribution,
            "key distribution: uniform, zipfian (YCSB's scrambled zipfian) or latest (default uniform)");
  f->Double("zipf-theta", &o->zipf_theta, "zipfian constant for zipfian and latest, > 0 (0.99, as YCSB)");
  f->Double("duration", &o->duration_s, "measured seconds (10)");
  f->Custom("requests", "N", "measured requests in total, instead of --duration", [o](const std::string& v) {
    return ParseCount("requests", v, 1, UINT64_MAX, &o->requests);
  });
  f->Double("warmup", &o->warmup_s, "seconds of load before measuring starts, not counted (1)");
  f->Double("rate", &o->rate,
            "open loop: R requests/s in total at fixed intervals, latency from the scheduled time "
            "(0 = closed loop)");
  f->Custom("r", "LEVEL", "read consistency per request: ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
            "EACH_QUORUM or a number (node default)",
            ConsistencyParser("r", &o->r));
  f->Custom("w", "LEVEL", "write consistency per request: ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
            "EACH_QUORUM or a number (node default)",
            ConsistencyParser("w", &o->w));
  f->Bool("overwrite", &o->overwrite,
          "puts overwrite whatever the coordinating replica holds (the OVERWRITE flag: last writer wins, like "
          "Redis SET); default: each put carries the context of this worker's last read or write of the key");
  f->Bool("strict", &o->strict,
          "on kv://, strict quorums: only a key's owners count towards R and W (no sloppy stand-ins)");
  f->Bool("no-preload", no_preload, "do not write every key once before measuring (reads may miss)");
  f->Bool("no-staleness", no_staleness,
          "skip the staleness check (saves ~60 bytes of memory per key); values still carry headers");
  f->String("json", &o->json_path, "write the results as JSON to FILE");
  f->String("csv", &o->csv_path, "append one row per operation type to FILE (header when new)");
  f->Custom("timeline-ms", "N", "one timeline point (ops/s, p99, errors; in --json) every N ms, 50..1000 (1000)",
            [o](const std::string& v) { return ParseCount("timeline-ms", v, 50, 1000, &o->timeline_ms); });
  f->Custom("seed", "S", "random seed, for a repeatable request sequence (0 or unset: random, printed)", [o](const std::string& v) {
    return ParseCount("seed", v, 0, UINT64_MAX, &o->seed);
  });
  f->Bool("quiet", &o->quiet, "no progress line and no settings banner; the summary is still printed");
  f->String("cluster", &o->cluster, "cluster name sent in the kv HELLO handshake (empty: any)");
  f->String("credentials", &o->credentials_file,
            "file with one line USER:PASSWORD for nodes with --users-file (default $KVRING_USER, $KVRING_PASSWORD)");
  f->String("tls-ca", &o->tls_ca_file,
            "TLS to every target, verifying its certificate (and its IP address or name) against this PEM CA file");
  f->Bool("help", &o->help, "print this help");
}

}  // namespace

Status ParseValueSize(const std::string& text, uint64_t* min, uint64_t* max) {
  size_t dash = text.find('-');
  uint64_t lo, hi;
  if (dash == std::string::npos) {
    KV_RETURN_IF_ERROR(ParseSize(text, &lo));
    hi = lo;
  } else {
    KV_RETURN_IF_ERROR(ParseSize(text.substr(0, dash), &lo));
    KV_RETURN_IF_ERROR(ParseSize(text.substr(dash + 1), &hi));
  }
  if (lo < 1 || lo > hi) return Status::InvalidArgument("'" + text + "' needs 1 <= MIN <= MAX");
  if (hi > kMaxValueBytes) {
    return Status::InvalidArgument("'" + text + "' is over the maximum of " + std::to_string(kMaxValueBytes) + " bytes");
  }
  *min = lo;
  *max = hi;
  return Status::OK();
}

Status ApplyWorkload(const std::string& name, BenchOptions* o) {
  o->workload = name;
  o->rmw = false;
  o->distribution = Distribution::kZipfian;
  if (name == "a") o->read_ratio = 0.5;
  else if (name == "b") o->read_ratio = 0.95;
  else if (name == "c") o->read_ratio = 1.0;
  else if (name == "d") o->read_ratio = 0.95, o->distribution = Distribution::kLatest;
  else if (name == "f") o->read_ratio = 0.5, o->rmw = true;
  else return Status::InvalidArgument("--workload: '" + name + "' is not one of a, b, c, d, f");
  return Status::OK();
}

base::Result<BenchOptions> ParseOptions(int argc, char** argv) {
  BenchOptions o;
  std::vector<std::string> targets, positional;
  std::string workload, distribution;
  bool no_preload = false, no_staleness = false;
  FlagSet flags(kUsage);
  DeclareFlags(&flags, &o, &targets, &workload, &distribution, &no_preload, &no_staleness);
  KV_RETURN_IF_ERROR(flags.Parse(argc, argv, 1, &positional));
  if (o.help) return o;
  if (!positional.empty()) return Status::InvalidArgument("unexpected argument '" + positional[0] + "'");
  // The preset first, so --read-ratio and --distribution given with it win.
  const double read_ratio = o.read_ratio;
  if (!workload.empty()) {
    KV_RETURN_IF_ERROR(ApplyWorkload(workload, &o));
    if (flags.WasSet("read-ratio")) o.read_ratio = read_ratio;
  }
  if (!distribution.empty() && !ParseDistribution(distribution, &o.distribution)) {
    return Status::InvalidArgument("--distribution: '" + distribution + "' is not uniform, zipfian or latest");
  }
  for (const auto& t : targets) {
    auto parsed = ParseTarget(t);
    if (!parsed.ok()) return parsed.status();
    o.targets.push_back(std::move(parsed.value()));
  }
  if (!(o.duration_s > 0) || !std::isfinite(o.duration_s)) return Status::InvalidArgument("--duration must be > 0 seconds");
  if (!(o.warmup_s >= 0) || !std::isfinite(o.warmup_s)) return Status::InvalidArgument("--warmup must be >= 0 seconds");
  if (!(o.rate >= 0) || !std::isfinite(o.rate)) return Status::InvalidArgument("--rate must be >= 0 requests/s");
  o.preload = !no_preload;
  o.staleness = !no_staleness;
  KV_RETURN_IF_ERROR(Validate(&o, flags));
  return o;
}

std::string HelpText() {
  BenchOptions o;
  std::vector<std::string> targets;
  std::string workload, distribution;
  bool a = false, b = false;
  FlagSet flags(kUsage);
  DeclareFlags(&flags, &o, &targets, &workload, &distribution, &a, &b);
  return flags.Help() +
         "\nExamples:\n"
         "  kvbench --target kv://127.0.0.1:7000 --connections 50 --value-size 100 --duration 10\n"
         "  kvbench --target kv://127.0.0.1:7000 --target kv://127.0.0.1:7001 --w 1 --r 1 --json w1r1.json\n"
         "  kvbench --target redis://127.0.0.1:6379 --pipeline 16 --workload a\n"
         "  kvbench --target kv://127.0.0.1:7000 --rate 20000 --duration 30   # open loop\n";
}

}  // namespace kvring::cmd::kvbench
