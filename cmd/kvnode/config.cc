#include "cmd/kvnode/config.h"

#include "repl/node_state.h"

#include <cstdlib>

#include "cmd/common/flags.h"
#include "net/protocol.h"

namespace kvring::cmd::kvnode {

using base::Status;

namespace {

constexpr char kUsage[] =
    "kvnode — a kvring storage node.\n"
    "\n"
    "Usage: kvnode --id ID --listen HOST:PORT --data DIR [flags]\n"
    "       kvnode --config FILE [flags]\n"
    "\n"
    "Every flag may also be given in the config file as `name = value` (one per line,\n"
    "'#' starts a comment); flags on the command line override the file.\n"
    "Sizes accept k/m/g suffixes (powers of 1024). SIGTERM or SIGINT stop the node\n"
    "cleanly: it stops accepting, finishes in-flight requests, syncs and exits 0.";

std::function<Status(const std::string&)> ByteSize(const char* name, uint64_t* dest) {
  return [name, dest](const std::string& v) {
    if (!ParseByteSize(v, dest)) {
      return Status::InvalidArgument(std::string("--") + name + ": '" + v + "' is not a size (e.g. 64m)");
    }
    return Status::OK();
  };
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string part = s.substr(start, comma - start);
    if (!part.empty()) out.push_back(part);
    start = comma + 1;
  }
  return out;
}

void DeclareFlags(FlagSet* f, NodeConfig* c, std::string* config_file) {
  f->String("config", config_file, "read flags from FILE (`name = value` lines)");
  f->String("id", &c->id, "unique node id (default: the listen address)");
  f->String("listen", &c->listen, "HOST:PORT to serve clients and peers on (default 127.0.0.1:7000)");
  f->String("data", &c->data_dir, "data directory (created if missing; required)");
  f->String("cluster", &c->cluster, "cluster name; peers and clients must match (default kvring)");
  f->String("secret-file", &c->secret_file,
            "file holding the cluster secret, the same on every node (chmod 600; at least 16 bytes): nodes prove "
            "they hold it before being taken as peers, and it keys client contexts; without one the node listens "
            "on loopback addresses only (docs/security.md)");
  f->String("users-file", &c->users_file,
            "file of the users clients authenticate as, one `NAME ROLE ...` line each from `kvctl hash-password` "
            "(chmod 600; needs --secret-file); without one any client may read, write and administer");
  f->Bool("tls", &c->tls,
          "TLS on this node's port, for clients and peers alike, and to every peer it dials (needs --tls-cert, "
          "--tls-key, --tls-ca; every node of the cluster must have it: a port speaks TLS or plain TCP, not both)");
  f->String("tls-cert", &c->tls_cert_file, "this node's TLS certificate chain (PEM), with --tls");
  f->String("tls-key", &c->tls_key_file, "the private key of --tls-cert (PEM; chmod 600)");
  f->String("tls-ca", &c->tls_ca_file,
            "CA certificate(s) (PEM) that signed the cluster's certificates: peers' certificates must chain to it "
            "and name the peer's address");
  f->Bool("tls-verify-clients", &c->tls_verify_clients,
          "with --tls, clients too must present a certificate signed by --tls-ca (kvctl --tls-cert/--tls-key)");
  f->Bool("new-epoch", &c->new_epoch,
          "coordinate writes under a new actor epoch even after a clean stop: use it when the data directory "
          "was restored from a backup or copy (docs/versioning.md)");
  f->Custom("sync", "none|interval|always",
            "WAL durability: none, interval (fdatasync every --sync-interval-ms), or always "
            "(acknowledge a write only after fdatasync; group commit). Default interval",
            [c](const std::string& v) {
              if (!lsm::ParseSyncMode(v, &c->sync)) {
                return Status::InvalidArgument("--sync: '" + v + "' is not none, interval or always");
              }
              return Status::OK();
            });
  f->Int("sync-interval-ms", &c->sync_interval_ms, "group-commit period of --sync interval (default 5)");
  f->Custom("memtable", "SIZE", "memtable size before a flush to disk (default 32m)",
            ByteSize("memtable", &c->memtable_bytes));
  f->Custom("cache", "SIZE", "block cache budget (default 64m)", ByteSize("cache", &c->cache_bytes));
  f->Int("max-open-files", &c->max_open_files, "open SSTable handles kept (default 500)");
  f->Int("compaction-nice", &c->compaction_nice,
         "run compactions this many nice levels below the request threads, 0..19 (default 0)");
  f->Custom("max-key", "SIZE", "largest key accepted (default 1k)", ByteSize("max-key", &c->max_key_bytes));
  f->Custom("max-value", "SIZE", "largest value accepted (default 1m)",
            ByteSize("max-value", &c->max_value_bytes));
  f->Custom("max-frame", "SIZE", "largest protocol frame accepted (default 16m)",
            ByteSize("max-frame", &c->max_frame_bytes));
  f->Int("max-connections", &c->max_connections, "connections served at once (default 10000)");
  f->Int("idle-timeout", &c->idle_timeout_s, "close connections idle this many seconds (0 = never)");
  f->Int("max-inflight-per-connection", &c->max_inflight_per_connection,
         "requests of one connection being worked on at once; its input pauses at this many (default 1024)");
  f->Custom("reply-soft-limit", "SIZE",
            "replies one connection is owed (unsent, plus those still being worked on, estimated) above which its "
            "input pauses until under a quarter of it (default 1m)",
            ByteSize("reply-soft-limit", &c->reply_soft_limit_bytes));
  f->Custom("reply-hard-limit", "SIZE",
            "unsent replies above which a connection is closed: its client is not reading (default 64m; 0 = none)",
            ByteSize("reply-hard-limit", &c->reply_hard_limit_bytes));
  f->Int("frame-timeout-ms", &c->frame_timeout_ms,
         "close a connection whose frame is not complete this long after its first byte (default 10000; 0 = never)");
  f->Int("hello-timeout-ms", &c->hello_timeout_ms,
         "close a connection that has not sent HELLO this long after connecting (default 5000; 0 = never)");
  f->Custom("max-partial-frames", "SIZE",
            "bytes of unfinished frames held for all connections together; past it the connection holding the most "
            "is closed (default 256m; 0 = no budget)",
            ByteSize("max-partial-frames", &c->max_partial_frame_bytes));
  f->Int("loops", &c->loops, "event-loop threads serving connections, spread round-robin (default 1)");
  f->Int("io-threads", &c->io_threads, "threads for engine work that may block on disk (default 2)");
  f->Custom("seeds", "HOST:PORT,...", "addresses of members to gossip with first (one is enough; more survive its absence)",
            [c](const std::string& v) {
              for (auto& s : SplitComma(v)) c->seeds.push_back(s);
              return Status::OK();
            });
  f->String("dc", &c->dc, "datacenter label (default dc1)");
  f->String("rack", &c->rack, "rack label (default rack1)");
  f->Double("weight", &c->weight, "capacity weight: vnodes = weight x --vnodes (default 1)");
  f->Int("vnodes", &c->vnodes, "virtual nodes per unit of weight (default 256)");
  f->Custom("n", "N", "replicas per key (default 3; 1 for a node started without --seeds)",
            [c](const std::string& v) {
              char* end = nullptr;
              long long x = std::strtoll(v.c_str(), &end, 10);
              if (v.empty() || *end != '\0') return Status::InvalidArgument("--n: '" + v + "' is not an integer");
              c->n = x;
              c->n_given = true;
              return Status::OK();
            });
  f->String("replication", &c->replication, "per-datacenter replicas, e.g. dc1:2,dc2:1 (overrides --n)");
  f->String("r", &c->r, "default read consistency: ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM or "
           "a number (default QUORUM)");
  f->String("w", &c->w, "default write consistency: ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM or "
           "a number (default QUORUM)");
  f->Int("request-timeout-ms", &c->request_timeout_ms, "deadline of a coordinated request (default 1000)");
  f->Int("gossip-interval-ms", &c->gossip_interval_ms, "heartbeat and gossip round period (default 1000)");
  f->Int("probe-interval-ms", &c->probe_interval_ms,
         "a member silent this long is probed directly (default 500)");
  f->Int("suspect-after-ms", &c->suspect_after_ms,
         "a member silent this long is suspected; down once a second member agrees (default 1000)");
  f->Int("probe-timeout-ms", &c->probe_timeout_ms, "deadline of a direct or indirect probe (default 500)");
  f->Bool("strict-quorum", &c->strict_quorum,
          "requests count only the key's owners towards R and W unless they say otherwise (default: sloppy "
          "quorum, stand-ins for down owners count)");
  f->Bool("no-hinted-handoff", &c->no_hinted_handoff,
          "no sloppy-quorum stand-ins, and no hints kept or replayed: a replica that misses writes stays behind "
          "until read repair or anti-entropy (for tests of those)");
  f->Custom("hint-max-per-owner", "SIZE", "hints kept for one owner before new ones are dropped (default 128m)",
            ByteSize("hint-max-per-owner", &c->hint_max_bytes_per_owner));
  f->Custom("hint-max-total", "SIZE", "hints kept in all before new ones are dropped (default 1g)",
            ByteSize("hint-max-total", &c->hint_max_bytes_total));
  f->Int("hint-window-s", &c->hint_window_s, "hints older than this are dropped (default 10800 = 3 h)");
  f->Custom("handoff-rate", "SIZE", "hint replay rate at most, bytes per second; adapts below it to load (default 64m)",
            ByteSize("handoff-rate", &c->handoff_rate_bytes));
  f->Int("aae-interval-s", &c->aae_interval_s,
         "anti-entropy: every range is compared with each co-replica at least this often, spread over the "
         "interval; 0: only on kvctl repair (default 600)");
  f->Custom("aae-rate", "SIZE", "anti-entropy throttle: leaf scans and repaired sets, bytes per second at most; "
            "adapts below it to load (default 32m)", ByteSize("aae-rate", &c->aae_rate_bytes));
  f->Bool("join", &c->join,
          "join the cluster of --seeds: this node becomes joining, streams every range it will own from a "
          "current replica, then becomes normal (a node without --join is a member at once, with no data)");
  f->String("replace", &c->replace,
            "take the place of member ID, dead for good: this empty node holds its virtual nodes, streams its "
            "ranges from the surviving replicas, then becomes normal and ID removed (give it ID's --dc, --rack and "
            "--weight)");
  f->Custom("stream-rate", "SIZE", "range streaming (join, decommission, removenode) rate at most, bytes per "
            "second; adapts below it to load (default 64m)", ByteSize("stream-rate", &c->stream_rate_bytes));
  f->Int("stream-parallel", &c->stream_parallel,
         "ranges streamed at once (default 2; more streams a quiet cluster faster and a loaded one with a "
         "higher client p99: docs/operations.md)");
  f->Bool("no-background-pacing", &c->no_background_pacing,
          "answer other nodes' stream reads and anti-entropy requests at once, even while this node's clients' "
          "latency is past 1.5x its recent base (by default the answers are held back then: docs/replication.md)");
  f->Int("cleanup-delay-ms", &c->cleanup_delay_ms,
         "after a membership change, delete the ranges this node no longer replicates this much later "
         "(default 60000; 0: only on kvctl cleanup)");
  f->Int("ring-delay-ms", &c->ring_delay_ms,
         "wait between announcing a membership change and streaming, so every node heard of it (default 3000)");
  f->Int("max-siblings", &c->max_siblings, "siblings kept per key before writes are refused (default 64)");
  // Test-only hooks (node/test_hooks.h): no help text, so --help does not list them.
  f->Int("test-clock-offset-ms", &c->test_clock_offset_ms, "");
  f->Bool("test-fault-files", &c->test_fault_files, "");
  f->Int("test-fail-syncs-after", &c->test_fail_syncs_after, "");
  f->Custom("log-level", "debug|info|warn|error", "stderr log level (default info)",
            [c](const std::string& v) {
              if (!base::ParseLogLevel(v, &c->log_level)) {
                return Status::InvalidArgument("--log-level: '" + v + "' is not debug, info, warn or error");
              }
              return Status::OK();
            });
}

}  // namespace

Status ParseNodeConfig(int argc, char** argv, NodeConfig* config, bool* help, std::string* help_text) {
  *help = false;
  std::string config_file;
  FlagSet flags(kUsage);
  DeclareFlags(&flags, config, &config_file);
  flags.Bool("help", help, "print this help");
  std::vector<std::string> positional;
  KV_RETURN_IF_ERROR(flags.Parse(argc, argv, 1, &positional));
  if (*help) {
    *help_text = flags.Help();
    return Status::OK();
  }
  if (!positional.empty()) return Status::InvalidArgument("unexpected argument '" + positional[0] + "'");
  if (!config_file.empty()) {
    // The file gives defaults; parse it into a fresh config, then re-apply the flags.
    NodeConfig from_file;
    std::string ignored;
    FlagSet file_flags(kUsage);
    DeclareFlags(&file_flags, &from_file, &ignored);
    KV_RETURN_IF_ERROR(file_flags.ParseConfigFile(config_file));
    *config = from_file;
    FlagSet again(kUsage);
    DeclareFlags(&again, config, &ignored);
    bool unused_help = false;
    again.Bool("help", &unused_help, "");
    positional.clear();
    // Seeds from the file and the command line add up; everything else is overridden.
    KV_RETURN_IF_ERROR(again.Parse(argc, argv, 1, &positional));
  }
  if (config->id.empty()) config->id = config->listen;
  // A node started alone is a single-node store: every key has one replica, so the
  // default QUORUM reads and writes work without --n 1.
  if (config->seeds.empty() && !config->n_given && config->replication.empty()) config->n = 1;
  return ValidateNodeConfig(*config);
}

Status ValidateNodeConfig(const NodeConfig& c) {
  if (c.data_dir.empty()) return Status::InvalidArgument("--data DIR is required");
  if (c.id.find(repl::kEpochSeparator) != std::string::npos) {
    return Status::InvalidArgument("--id: '" + c.id + "' contains '#', which is reserved for actor epochs");
  }
  if (c.listen.find(':') == std::string::npos) {
    return Status::InvalidArgument("--listen: '" + c.listen + "' is not HOST:PORT");
  }
  if (c.n < 1 || c.n > 250) return Status::InvalidArgument("--n must be between 1 and 250");
  uint8_t level;
  if (!net::ParseConsistency(c.r, &level)) {
    return Status::InvalidArgument("--r: '" + c.r + "' is not ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
                                   "EACH_QUORUM or a number 1..250");
  }
  if (!net::ParseConsistency(c.w, &level)) {
    return Status::InvalidArgument("--w: '" + c.w + "' is not ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
                                   "EACH_QUORUM or a number 1..250");
  }
  if (c.max_key_bytes == 0 || c.max_key_bytes > (1u << 20)) {
    return Status::InvalidArgument("--max-key must be between 1 byte and 1m");
  }
  // A key's stored sibling set may take a quarter of a frame (node.cc): one
  // value of the largest size must fit in it.
  if (c.max_value_bytes + c.max_key_bytes + 4096 > c.max_frame_bytes / 4) {
    return Status::InvalidArgument("--max-frame must be at least 4 x (--max-key + --max-value + 4k)");
  }
  if (c.weight <= 0 || c.weight > 100) return Status::InvalidArgument("--weight must be in (0, 100]");
  if (c.io_threads < 1 || c.io_threads > 64) return Status::InvalidArgument("--io-threads must be 1..64");
  if (c.loops < 1 || c.loops > 64) return Status::InvalidArgument("--loops must be 1..64");
  if (c.request_timeout_ms < 1) return Status::InvalidArgument("--request-timeout-ms must be positive");
  if (c.max_inflight_per_connection < 1) {
    return Status::InvalidArgument("--max-inflight-per-connection must be at least 1");
  }
  if (c.reply_soft_limit_bytes < 4096) return Status::InvalidArgument("--reply-soft-limit must be at least 4k");
  if (c.reply_hard_limit_bytes != 0 && c.reply_hard_limit_bytes < c.reply_soft_limit_bytes + c.max_frame_bytes) {
    return Status::InvalidArgument("--reply-hard-limit must be 0 or at least --reply-soft-limit + --max-frame");
  }
  if (c.frame_timeout_ms < 0 || c.hello_timeout_ms < 0) {
    return Status::InvalidArgument("--frame-timeout-ms and --hello-timeout-ms must be 0 (never) or positive");
  }
  if (c.hint_window_s < 1) return Status::InvalidArgument("--hint-window-s must be positive");
  if (c.handoff_rate_bytes == 0) return Status::InvalidArgument("--handoff-rate must be positive");
  if (c.aae_interval_s < 0) return Status::InvalidArgument("--aae-interval-s must be 0 (never) or positive");
  if (c.aae_rate_bytes == 0) return Status::InvalidArgument("--aae-rate must be positive");
  if (c.stream_rate_bytes == 0) return Status::InvalidArgument("--stream-rate must be positive");
  if (c.stream_parallel < 1 || c.stream_parallel > 64) return Status::InvalidArgument("--stream-parallel must be 1..64");
  if (c.ring_delay_ms < 0) return Status::InvalidArgument("--ring-delay-ms must be 0 or positive");
  if (c.cleanup_delay_ms < 0) return Status::InvalidArgument("--cleanup-delay-ms must be 0 or positive");
  if ((c.join || !c.replace.empty()) && c.seeds.empty()) {
    return Status::InvalidArgument(std::string(c.join ? "--join" : "--replace") + " needs --seeds: whom would it join?");
  }
  if (c.join && !c.replace.empty()) return Status::InvalidArgument("--join and --replace exclude each other");
  if (!c.replace.empty() && c.replace == c.id) {
    return Status::InvalidArgument("--replace " + c.replace + " names this node itself: give the new node its own --id");
  }
  if (c.compaction_nice < 0 || c.compaction_nice > 19) {
    return Status::InvalidArgument("--compaction-nice must be in 0..19");
  }
  if (c.gossip_interval_ms < 10 || c.probe_interval_ms < 10 || c.probe_timeout_ms < 10 || c.suspect_after_ms < 10) {
    return Status::InvalidArgument("--gossip-interval-ms, --probe-interval-ms, --probe-timeout-ms and "
                                   "--suspect-after-ms must be at least 10");
  }
  return Status::OK();
}

}  // namespace kvring::cmd::kvnode
