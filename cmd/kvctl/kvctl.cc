#include "cmd/kvctl/kvctl.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "cmd/common/flags.h"
#include "cmd/common/text.h"
#include "cmd/kvctl/membership_text.h"
#include "cmd/kvctl/plan_command.h"
#include "cmd/kvctl/repair_text.h"
#include "net/blocking_client.h"
#include "net/protocol.h"
#include "repl/aae_messages.h"
#include "repl/messages.h"
#include "repl/version_text.h"

namespace kvring::cmd::kvctl {

using base::Status;

namespace {

constexpr char kUsage[] =
    "kvctl — talk to a kvring cluster.\n"
    "\n"
    "Usage: kvctl [--host HOST:PORT] [flags] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  get KEY                read a key: its value, or its siblings and the context that covers them\n"
    "                         (a missing key has a context too: put with it to create the key)\n"
    "  put KEY [VALUE]        write a value (read from stdin when VALUE is absent). It replaces exactly\n"
    "                         what --context covers; without one it replaces nothing and becomes a\n"
    "                         sibling of any value the key has. --overwrite replaces whatever the\n"
    "                         coordinating replica holds (last writer wins: may lose concurrent writes)\n"
    "  del KEY                delete what a get of the key returns now (or what --context covers)\n"
    "  ping                   check that the node answers\n"
    "  stats                  the node's counters (requests, engine levels, cache, ...)\n"
    "  ring                   ownership of the token ring per node and per datacenter\n"
    "  status                 cluster members as this node sees them: status, up/suspect/down and\n"
    "                         who suspects it, heartbeat age, generation, load, hints held for it, and\n"
    "                         each node's last completed full anti-entropy comparison and what it found, and\n"
    "                         the membership operations running (--json)\n"
    "  repair [--node ID] [--range T1:T2] [--wait]\n"
    "                         compare every range the node (--host, or member ID) shares with each co-replica\n"
    "                         now and repair every difference both ways; --range limits it to tokens in\n"
    "                         (T1, T2]; --wait prints progress every second and a summary at the end.\n"
    "                         A job interrupted by a restart resumes where it was\n"
    "  plan join|decommission [ID]|removenode ID|replace DEAD_ID|set-weight ID W\n"
    "                         before changing membership: what would move (bytes and keys per node pair,\n"
    "                         estimated from each node's load), how long at --stream-rate, and which failures\n"
    "                         (any one node, rack, datacenter) the resulting ring survives at QUORUM and\n"
    "                         LOCAL_QUORUM (--json). join takes the new node as --id, --address, --dc,\n"
    "                         --rack, --weight; replace the same (it keeps the dead node's weight and\n"
    "                         tokens). Nothing changes: it only plans\n"
    "  join [--wait]          on a node started with --join: its progress (--wait: until it is normal)\n"
    "  decommission [--wait]  the --host node streams every range it holds to the nodes that take them\n"
    "                         over, then leaves the cluster (it serves no more requests afterwards)\n"
    "  removenode ID [--wait] for member ID gone for good (down): the surviving replicas of its ranges\n"
    "                         stream them to their new owners, so every range is back to N copies\n"
    "  set-weight ID W [--wait]  member ID's weight becomes W: it gains (or gives up) virtual nodes, and\n"
    "                         the ranges that move stream like a join's (or a leave's). A later restart\n"
    "                         keeps W whatever its --weight says\n"
    "  cleanup                the --host node deletes the ranges it no longer replicates (whole engine\n"
    "                         range deletes; automatic --cleanup-delay-ms after a change); refused while\n"
    "                         a membership change runs\n"
    "  rebuild [--wait]       the --host node streams every range it replicates from its other replicas\n"
    "                         (after it lost its data: a wiped or replaced disk); it serves meanwhile\n"
    "  streams                the --host node's membership operation and each range it streams: keys,\n"
    "                         bytes, rate, ETA. --wait on join, decommission and removenode prints this\n"
    "                         every second and exits 2 with the reason if the operation fails.\n"
    "                         A node restarted mid-operation resumes it from the last key each range got\n"
    "  hash-password USER ROLE  print the users-file line for USER (role read, read-write or admin) with\n"
    "                         the password read from stdin (or $KVRING_PASSWORD); needs no node\n"
    "\n"
    "A node started with --users-file authenticates clients: kvctl takes the user and password from\n"
    "--credentials FILE (one line USER:PASSWORD, chmod 600) or $KVRING_USER and $KVRING_PASSWORD.\n"
    "A node started with --tls needs --tls-ca FILE (the CA that signed its certificate).\n"
    "\n"
    "Exit codes: 0 success (found), 1 not found, 2 error.\n"
    "The host defaults to $KVRING_HOST, else 127.0.0.1:7000.";

struct Options {
  std::string host;
  std::string cluster;
  int64_t timeout_ms = 5000;
  std::string r = "default";
  std::string w = "default";
  std::string context;  // base64, as printed by get
  std::string credentials;  // file holding USER:PASSWORD; empty: $KVRING_USER, $KVRING_PASSWORD
  std::string tls_ca;       // TLS, verifying the node against this CA; empty: plain TCP
  std::string tls_cert;     // a client certificate, for nodes with --tls-verify-clients
  std::string tls_key;
  bool json = false;
  bool base64 = false;
  bool local = false;
  bool strict = false;
  bool verbose = false;
  bool overwrite = false;
  bool help = false;
  std::string node;   // repair: the member to repair (default: the --host node)
  std::string range;  // repair: T1:T2
  bool wait = false;  // repair: until it ends
  ring::NodeInfo new_node;  // plan join / replace: --id, --address, --dc, --rack, --weight
  std::string stream_rate = "64MiB";  // plan: bytes per second per node (kvnode's --stream-rate default)
};

void DeclareFlags(FlagSet* f, Options* o) {
  f->String("host", &o->host, "node to talk to, HOST:PORT (default $KVRING_HOST or 127.0.0.1:7000)");
  f->String("cluster", &o->cluster, "cluster name to insist on (default: any)");
  f->String("credentials", &o->credentials,
            "file with one line USER:PASSWORD for a node with --users-file (default $KVRING_USER, $KVRING_PASSWORD)");
  f->String("tls-ca", &o->tls_ca,
            "connect with TLS, checking the node's certificate (and its address) against this PEM CA file");
  f->String("tls-cert", &o->tls_cert, "with --tls-ca: a client certificate (PEM), for nodes with --tls-verify-clients");
  f->String("tls-key", &o->tls_key, "the private key of --tls-cert (PEM)");
  f->Int("timeout", &o->timeout_ms, "milliseconds to wait for the node (default 5000)");
  f->String("r", &o->r, "get: replicas that must answer: ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM or a number (default: node's)");
  f->String("w", &o->w, "put/del: replicas that must acknowledge: ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, EACH_QUORUM or a number");
  f->String("context", &o->context, "put/del: the context printed by an earlier get (resolves its siblings)");
  f->Bool("json", &o->json,
          "get: print {\"values\": [...], \"clocks\": [...], \"context\": \"...\"}; status: one object per member; "
          "plan: the plan as one object");
  f->Bool("base64", &o->base64, "get: print values in base64 (binary-safe)");
  f->Bool("local", &o->local, "get: read only this node's own store, no coordination");
  f->Bool("strict", &o->strict,
          "get/put/del: strict quorum: only the key's owners count towards R/W (no sloppy stand-ins)");
  f->Bool("verbose", &o->verbose, "print clocks, contexts and write receipts (also -v)");
  f->Bool("overwrite", &o->overwrite,
          "put/del: replace whatever the coordinating replica holds, seen or not (last writer wins; "
          "docs/versioning.md says what it can lose)");
  f->String("node", &o->node, "repair: the member to repair, by id (default: the --host node)");
  f->String("range", &o->range, "repair: only tokens in (T1, T2], given as T1:T2");
  f->Bool("wait", &o->wait, "repair, join, decommission, removenode: print progress until the operation ends");
  f->String("id", &o->new_node.id, "plan join/replace: the new node's id");
  f->String("address", &o->new_node.address, "plan join/replace: the new node's HOST:PORT");
  f->String("dc", &o->new_node.dc, "plan join/replace: the new node's datacenter (default dc1)");
  f->String("rack", &o->new_node.rack, "plan join/replace: the new node's rack (default rack1)");
  f->Double("weight", &o->new_node.weight, "plan join: the new node's weight (default 1)");
  f->String("stream-rate", &o->stream_rate,
            "plan: streaming rate per node for the ETA, bytes per second: 64MiB (the default, as kvnode's), 100m, ...");
  f->Bool("help", &o->help, "print this help");
}

class Session {
 public:
  Session(const Options& o, std::istream& in, std::ostream& out, std::ostream& err)
      : o_(o), in_(in), out_(out), err_(err) {}

  int Run(const std::vector<std::string>& args);

 private:
  int Fail(const Status& s) {
    err_ << "kvctl: " << s.message() << "\n";
    return kExitError;
  }
  int Usage(const std::string& msg) {
    err_ << "kvctl: " << msg << " (see kvctl --help)\n";
    return kExitError;
  }
  Status Connect();
  base::Result<std::string> Call(uint8_t opcode, std::string_view body) {
    return client_->Call(opcode, body, static_cast<uint64_t>(o_.timeout_ms));
  }
  bool Level(const std::string& text, const char* flag, uint8_t* level);

  int Get(const std::string& key);
  // One GET: OK with the reply, or NotFound with *context set (the missing
  // key's context), or another error.
  Status Read(const std::string& key, net::GetReply* get, std::string* payload, std::string* context);
  int Write(const std::string& cmd, const std::vector<std::string>& args);
  int Ping();
  int Stats();
  int Ring();
  int ClusterStatus();
  int Repair();
  // join, decommission, removenode ID: MEMBERSHIP_CHANGE, then --wait.
  int Membership(const std::vector<std::string>& args);
  int Streams();
  int Cleanup();
  int Plan(const std::vector<std::string>& args);
  // Reconnects to the member `id` (its address from CLUSTER_STATUS).
  Status ConnectToMember(const std::string& id);
  base::Result<std::vector<repl::MemberReport>> Members();
  // REPAIR_STATUS of the node at `address` (its own connection).
  base::Result<repl::RepairProgress> RepairStatusAt(const std::string& address);
  // One empty-bodied admin call to the node at `address` (its own connection).
  base::Result<std::string> CallAt(const std::string& address, uint8_t opcode);
  // The membership operations running on the members that answer.
  void PrintOperations(const std::vector<repl::MemberReport>& members);
  base::Result<repl::RepairProgress> RepairStatus();
  int HashPassword(const std::vector<std::string>& args);
  void PrintReceipt(std::string_view payload, const char* what);

  const Options& o_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  net::ClientCredentials credentials_;
  std::unique_ptr<net::TlsContext> tls_;          // --tls-ca; null: plain TCP
  std::unique_ptr<net::BlockingClient> client_;  // made by Connect
};

Status Session::Connect() {
  auto credentials = net::LoadClientCredentials(o_.credentials);
  if (!credentials.ok()) return credentials.status();
  credentials_ = std::move(credentials).value();
  if (!o_.tls_ca.empty()) {
    auto tls = net::TlsContext::ForClient(o_.tls_ca, o_.tls_cert, o_.tls_key);
    if (!tls.ok()) return tls.status();
    tls_ = std::move(tls).value();
  }
  client_ = std::make_unique<net::BlockingClient>(
      net::BlockingClientOptions{.cluster = o_.cluster, .id = "kvctl", .credentials = &credentials_, .tls = tls_.get()});
  return client_->Connect(o_.host, static_cast<uint64_t>(o_.timeout_ms));
}

int Session::HashPassword(const std::vector<std::string>& args) {
  net::Access access;
  if (!net::ParseAccess(args[2], &access)) return Usage("role '" + args[2] + "' is not read, read-write or admin");
  std::string password;
  const char* env = std::getenv("KVRING_PASSWORD");
  if (env != nullptr && *env != '\0') {
    password = env;
  } else if (!std::getline(in_, password) || password.empty()) {
    return Usage("hash-password: no password on stdin (or in $KVRING_PASSWORD)");
  }
  if (!net::ValidUserName(args[1])) return Usage("user name must be 1-64 of A-Z a-z 0-9 _ - . @");
  out_ << net::MakeUserLine(args[1], access, password) << "\n";
  return kExitOk;
}

bool Session::Level(const std::string& text, const char* flag, uint8_t* level) {
  if (net::ParseConsistency(text, level)) return true;
  Usage(std::string("--") + flag + ": '" + text + "' is not ONE, QUORUM, ALL, LOCAL_ONE, LOCAL_QUORUM, "
                                   "EACH_QUORUM or a number 1..250");
  return false;
}

int Session::Run(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("no command given");
  const std::string& cmd = args[0];
  auto need = [&](size_t n) { return args.size() == n; };
  if ((cmd == "get" && !need(2)) || (cmd == "del" && !need(2)) || (cmd == "put" && !need(2) && !need(3)) ||
      ((cmd == "ping" || cmd == "stats" || cmd == "ring" || cmd == "status" || cmd == "repair" || cmd == "join" ||
        cmd == "decommission" || cmd == "streams" || cmd == "rebuild" || cmd == "cleanup") &&
       !need(1)) ||
      (cmd == "removenode" && !need(2)) || (cmd == "set-weight" && !need(3))) {
    return Usage("wrong number of arguments for '" + cmd + "'");
  }
  if (cmd == "hash-password") return need(3) ? HashPassword(args) : Usage("usage: hash-password USER ROLE");
  if (cmd != "get" && cmd != "put" && cmd != "del" && cmd != "ping" && cmd != "stats" && cmd != "ring" &&
      cmd != "status" && cmd != "repair" && cmd != "plan" && cmd != "join" && cmd != "decommission" &&
      cmd != "removenode" && cmd != "streams" && cmd != "rebuild" && cmd != "set-weight" && cmd != "cleanup") {
    return Usage("unknown command '" + cmd + "'");
  }
  Status s = Connect();
  if (!s.ok()) return Fail(s);
  if (cmd == "get") return Get(args[1]);
  if (cmd == "put" || cmd == "del") return Write(cmd, args);
  if (cmd == "ping") return Ping();
  if (cmd == "stats") return Stats();
  if (cmd == "ring") return Ring();
  if (cmd == "repair") return Repair();
  if (cmd == "plan") return Plan(args);
  if (cmd == "join" || cmd == "decommission" || cmd == "removenode" || cmd == "rebuild" || cmd == "set-weight") {
    return Membership(args);
  }
  if (cmd == "streams") return Streams();
  if (cmd == "cleanup") return Cleanup();
  return ClusterStatus();
}

Status Session::Read(const std::string& key, net::GetReply* get, std::string* payload, std::string* context) {
  net::GetRequest req;
  net::ParseConsistency(o_.r, &req.consistency);  // checked by the caller
  req.flags = static_cast<uint8_t>((o_.local ? net::kGetFlagLocal : 0) | (o_.strict ? net::kGetFlagStrict : 0));
  req.key = key;
  std::string body;
  net::EncodeGet(&body, req);
  auto reply = client_->CallForReply(static_cast<uint8_t>(net::Opcode::kGet), body, static_cast<uint64_t>(o_.timeout_ms));
  if (!reply.ok()) return reply.status();
  *payload = std::move(reply->payload);
  if (reply->status.IsNotFound()) {
    std::string_view ctx;
    if (!net::DecodeNotFoundPayload(*payload, &ctx)) return Status::Corruption("malformed GET not-found reply");
    context->assign(ctx);
    return reply->status;
  }
  if (!reply->status.ok()) return reply->status;
  if (!net::DecodeGetReply(*payload, get)) return Status::Corruption("malformed GET reply");
  context->assign(get->context);
  return Status::OK();
}

int Session::Get(const std::string& key) {
  uint8_t level;
  if (!Level(o_.r, "r", &level)) return kExitError;
  net::GetReply get;
  std::string payload, raw_context;
  Status s = Read(key, &get, &payload, &raw_context);
  if (s.IsNotFound()) {
    const std::string context = Base64Encode(raw_context);
    if (o_.json) out_ << "{\"values\": [], \"clocks\": [], \"context\": " << JsonString(context) << "}\n";
    if (o_.verbose && !o_.json) out_ << "context: " << context << "\n";
    err_ << "kvctl: key not found\n";
    return kExitNotFound;
  }
  if (!s.ok()) return Fail(s);
  const std::string context = Base64Encode(raw_context);
  std::vector<std::string> clock_json, clock_text;
  for (const auto& sib : get.siblings) {
    repl::Sibling s;
    Status st = repl::DecodeSiblingClock(sib.clock, &s.dot, &s.context);
    if (!st.ok()) return Fail(st);
    s.timestamp_micros = sib.timestamp_us;
    clock_json.push_back(repl::SiblingClockJson(s));
    clock_text.push_back(repl::SiblingClockText(s));
  }
  auto show = [&](std::string_view v) { return o_.base64 ? Base64Encode(v) : std::string(v); };
  if (o_.json) {
    out_ << "{\"values\": [";
    for (size_t i = 0; i < get.siblings.size(); ++i) {
      out_ << (i ? ", " : "") << JsonString(show(get.siblings[i].value));
    }
    out_ << "], \"clocks\": [";
    for (size_t i = 0; i < clock_json.size(); ++i) out_ << (i ? ", " : "") << clock_json[i];
    out_ << "], \"timestamps\": [";
    for (size_t i = 0; i < get.siblings.size(); ++i) {
      out_ << (i ? ", " : "") << JsonString(FormatWallMicros(get.siblings[i].timestamp_us));
    }
    out_ << "], \"context\": " << JsonString(context) << "}\n";
    return kExitOk;
  }
  if (get.siblings.size() == 1 && !o_.verbose) {
    out_ << show(get.siblings[0].value) << "\n";
    return kExitOk;
  }
  if (get.siblings.size() > 1) {
    out_ << get.siblings.size() << " siblings (concurrent versions); resolve them with: kvctl put " << key
         << " VALUE --context " << context << "\n";
  }
  for (size_t i = 0; i < get.siblings.size(); ++i) {
    if (get.siblings.size() > 1) out_ << "[" << (i + 1) << "] ";
    out_ << show(get.siblings[i].value) << "\n";
    out_ << "    clock " << clock_text[i] << ", written " << FormatWallMicros(get.siblings[i].timestamp_us) << "\n";
  }
  out_ << "context: " << context << "\n";
  return kExitOk;
}

void Session::PrintReceipt(std::string_view payload, const char* what) {
  net::WriteReceipt receipt;
  if (!net::DecodeWriteReceipt(payload, &receipt)) {
    err_ << "kvctl: malformed write receipt\n";
    return;
  }
  out_ << what << " acknowledged by " << receipt.acks.size() << " replica(s):";
  for (const auto& a : receipt.acks) {
    out_ << " " << a.node_id;
    if (a.stand_in) out_ << " (hinted for " << (a.owner.empty() ? std::string_view("?") : a.owner) << ")";
  }
  out_ << "\n";
  repl::Sibling version;
  if (!receipt.clock.empty() && repl::DecodeSiblingClock(receipt.clock, &version.dot, &version.context).ok()) {
    out_ << "version " << repl::SiblingClockText(version) << "\n";
  }
  out_ << "context: " << Base64Encode(receipt.context) << "\n";
}

int Session::Write(const std::string& cmd, const std::vector<std::string>& args) {
  uint8_t w;
  if (!Level(o_.w, "w", &w)) return kExitError;
  std::string context;
  if (!o_.context.empty() && !Base64Decode(o_.context, &context)) {
    return Usage("--context: not a context printed by kvctl get (bad base64)");
  }
  const uint8_t flags =
      static_cast<uint8_t>((o_.overwrite ? net::kWriteFlagOverwrite : 0) | (o_.strict ? net::kWriteFlagStrict : 0));
  if (cmd == "del" && context.empty() && !o_.overwrite) {
    // Delete what a read returns now: the values this command "saw".
    uint8_t level;
    if (!Level(o_.r, "r", &level)) return kExitError;
    net::GetReply get;
    std::string payload;
    Status s = Read(args[1], &get, &payload, &context);
    if (!s.ok() && !s.IsNotFound()) return Fail(s.WithContext("reading the key before deleting it"));
    if (o_.verbose) out_ << "deleting " << (s.ok() ? get.siblings.size() : 0) << " value(s) read at r=" << o_.r << "\n";
  }
  std::string body;
  uint8_t opcode;
  if (cmd == "put") {
    std::string value;
    if (args.size() == 3) {
      value = args[2];
    } else {
      value.assign(std::istreambuf_iterator<char>(in_), std::istreambuf_iterator<char>());
    }
    net::PutRequest req;
    req.consistency = w;
    req.flags = flags;
    req.key = args[1];
    req.value = value;
    req.context = context;
    net::EncodePut(&body, req);
    opcode = static_cast<uint8_t>(net::Opcode::kPut);
  } else {
    net::DeleteRequest req;
    req.consistency = w;
    req.flags = flags;
    req.key = args[1];
    req.context = context;
    net::EncodeDelete(&body, req);
    opcode = static_cast<uint8_t>(net::Opcode::kDelete);
  }
  auto reply = Call(opcode, body);
  if (!reply.ok()) return Fail(reply.status());
  if (o_.verbose) PrintReceipt(reply.value(), cmd == "put" ? "put" : "delete");
  return kExitOk;
}

int Session::Ping() {
  uint64_t start = base::SystemClock::Get()->NowMicros();
  auto reply = Call(static_cast<uint8_t>(net::Opcode::kPing), "");
  if (!reply.ok()) return Fail(reply.status());
  uint64_t us = base::SystemClock::Get()->NowMicros() - start;
  out_ << "PONG from " << client_->server_node_id() << " (" << o_.host << ", cluster " << client_->server_cluster()
       << ") in " << us << " us\n";
  return kExitOk;
}

int Session::Stats() {
  auto reply = Call(static_cast<uint8_t>(net::Opcode::kStats), "");
  if (!reply.ok()) return Fail(reply.status());
  std::string_view payload = reply.value(), text;
  if (!base::GetLengthPrefixed(&payload, &text)) return Fail(Status::Corruption("malformed STATS reply"));
  out_ << text;
  if (!text.empty() && text.back() != '\n') out_ << "\n";
  return kExitOk;
}

int Session::Ring() {
  auto reply = Call(repl::Op(repl::ClusterOpcode::kRing), "");
  if (!reply.ok()) return Fail(reply.status());
  repl::RingDescription ring;
  if (!repl::DecodeRingDescription(reply.value(), &ring)) return Fail(Status::Corruption("malformed RING reply"));
  char line[256];
  char fingerprint[32];
  std::snprintf(fingerprint, sizeof(fingerprint), "%016llx", static_cast<unsigned long long>(ring.fingerprint));
  out_ << "ring version " << ring.version << ", replication " << ring.replication << ", " << ring.members.size()
       << " node(s), fingerprint " << fingerprint << "\n";
  std::snprintf(line, sizeof(line), "%-12s %-22s %-8s %-8s %6s %6s %9s %9s\n", "node", "address", "dc", "rack",
                "weight", "vnodes", "replica%", "primary%");
  out_ << line;
  struct DcTotals {
    double replica = 0, primary = 0;
    int nodes = 0;
  };
  std::vector<std::pair<std::string, DcTotals>> dcs;
  for (const auto& m : ring.members) {
    std::snprintf(line, sizeof(line), "%-12s %-22s %-8s %-8s %6.2f %6u %8.2f%% %8.2f%%\n", m.node.id.c_str(),
                  m.node.address.c_str(), m.node.dc.c_str(), m.node.rack.c_str(), m.node.weight, m.vnodes,
                  100 * m.replica_share, 100 * m.primary_share);
    out_ << line;
    auto it = dcs.begin();
    while (it != dcs.end() && it->first != m.node.dc) ++it;
    if (it == dcs.end()) it = dcs.insert(dcs.end(), {m.node.dc, DcTotals{}});
    it->second.replica += m.replica_share;
    it->second.primary += m.primary_share;
    it->second.nodes++;
  }
  out_ << "per datacenter:\n";
  for (const auto& [dc, t] : dcs) {
    std::snprintf(line, sizeof(line), "  %-10s %3d node(s)  primary %6.2f%%  replicas %6.2f copies of the ring\n",
                  dc.c_str(), t.nodes, 100 * t.primary, t.replica);
    out_ << line;
  }
  return kExitOk;
}

namespace {

std::string Join(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out.empty() ? "-" : out;
}

std::string StatusJson(const repl::MemberReport& m) {
  const auto& n = m.state.node;
  std::string suspects = "[";
  for (size_t i = 0; i < m.suspected_by.size(); ++i) suspects += (i ? ", " : "") + JsonString(m.suspected_by[i]);
  suspects += "]";
  char nums[256];
  std::snprintf(nums, sizeof(nums),
                "\"heartbeat_age_ms\": %llu, \"generation\": %llu, \"heartbeat\": %llu, \"load_bytes\": %llu, "
                "\"load_keys\": %llu, \"hints_for_it\": %llu",
                static_cast<unsigned long long>(m.heartbeat_age_ms), static_cast<unsigned long long>(m.state.generation),
                static_cast<unsigned long long>(m.state.version), static_cast<unsigned long long>(m.state.load_bytes),
                static_cast<unsigned long long>(m.state.load_keys), static_cast<unsigned long long>(m.hints_for_it));
  return "{\"id\": " + JsonString(n.id) + ", \"address\": " + JsonString(n.address) + ", \"dc\": " + JsonString(n.dc) +
         ", \"rack\": " + JsonString(n.rack) + ", \"status\": " + JsonString(repl::MemberStatusName(m.state.status)) +
         ", \"state\": " + JsonString(m.self ? "self" : repl::LivenessName(m.liveness)) +
         ", \"suspected_by\": " + suspects + ", " + nums + ", \"detail\": " + JsonString(m.detail) + "}";
}

}  // namespace

base::Result<std::vector<repl::MemberReport>> Session::Members() {
  auto reply = Call(repl::Op(repl::ClusterOpcode::kClusterStatus), "");
  if (!reply.ok()) return reply.status();
  std::vector<repl::MemberReport> members;
  if (!repl::DecodeClusterStatus(reply.value(), &members)) return Status::Corruption("malformed CLUSTER_STATUS reply");
  return members;
}

base::Result<repl::RepairProgress> Session::RepairStatus() {
  auto reply = Call(repl::Op(repl::ClusterOpcode::kRepairStatus), "");
  if (!reply.ok()) return reply.status();
  repl::RepairProgress p;
  KV_RETURN_IF_ERROR(repl::DecodeRepairProgress(reply.value(), &p));
  return p;
}

base::Result<std::string> Session::CallAt(const std::string& address, uint8_t opcode) {
  net::BlockingClient client(
      net::BlockingClientOptions{.cluster = o_.cluster, .id = "kvctl", .credentials = &credentials_, .tls = tls_.get()});
  KV_RETURN_IF_ERROR(client.Connect(address, static_cast<uint64_t>(o_.timeout_ms)));
  return client.Call(opcode, "", static_cast<uint64_t>(o_.timeout_ms));
}

base::Result<repl::RepairProgress> Session::RepairStatusAt(const std::string& address) {
  auto reply = CallAt(address, repl::Op(repl::ClusterOpcode::kRepairStatus));
  if (!reply.ok()) return reply.status();
  repl::RepairProgress p;
  KV_RETURN_IF_ERROR(repl::DecodeRepairProgress(reply.value(), &p));
  return p;
}

void Session::PrintOperations(const std::vector<repl::MemberReport>& members) {
  std::string lines;
  for (const auto& m : members) {
    if (!m.self && m.liveness == repl::Liveness::kDown) continue;
    auto reply = CallAt(m.state.node.address, repl::Op(repl::ClusterOpcode::kMembershipStatus));
    repl::MembershipProgress p;
    if (!reply.ok() || !repl::DecodeMembershipProgress(reply.value(), &p).ok()) continue;
    if (p.state == repl::OperationState::kAnnouncing || p.state == repl::OperationState::kStreaming) {
      lines += "  " + MembershipLine(m.state.node.id, p) + "\n";
    }
  }
  if (!lines.empty()) out_ << "membership operations (kvctl streams for each range):\n" << lines;
}

int Session::ClusterStatus() {
  auto members = Members();
  if (!members.ok()) return Fail(members.status());
  // Each member's own account of its last full anti-entropy comparison.
  std::vector<base::Result<repl::RepairProgress>> aae;
  for (const auto& m : *members) {
    // A member the node holds down would only cost a connect timeout.
    const bool reachable = m.self || m.liveness != repl::Liveness::kDown;
    aae.push_back(reachable ? RepairStatusAt(m.state.node.address)
                            : base::Result<repl::RepairProgress>(Status::Unavailable("down")));
  }
  if (o_.json) {
    out_ << "{\"members\": [";
    for (size_t i = 0; i < members->size(); ++i) {
      std::string one = StatusJson((*members)[i]);
      one.pop_back();  // the closing brace: the anti-entropy object goes inside
      out_ << (i ? ", " : "") << one << ", \"anti_entropy\": " << (aae[i].ok() ? LastFullJson(*aae[i]) : "null")
           << "}";
    }
    out_ << "]}\n";
    return kExitOk;
  }
  char line[512];
  std::snprintf(line, sizeof(line), "%-10s %-21s %-11s %-8s %-7s %-12s %8s %5s %12s %10s %6s %s\n", "node", "address",
                "dc/rack", "status", "state", "suspected-by", "hb-age", "gen", "load-bytes", "load-keys", "hints",
                "detail");
  out_ << line;
  for (const auto& m : *members) {
    const auto& n = m.state.node;
    const std::string where = n.dc + "/" + n.rack;
    const std::string age = m.self ? "-" : std::to_string(m.heartbeat_age_ms) + "ms";
    std::snprintf(line, sizeof(line), "%-10s %-21s %-11s %-8s %-7s %-12s %8s %5llu %12llu %10llu %6llu %s\n", n.id.c_str(),
                  n.address.c_str(), where.c_str(), repl::MemberStatusName(m.state.status),
                  m.self ? "self" : repl::LivenessName(m.liveness), Join(m.suspected_by).c_str(), age.c_str(),
                  static_cast<unsigned long long>(m.state.generation),
                  static_cast<unsigned long long>(m.state.load_bytes),
                  static_cast<unsigned long long>(m.state.load_keys),
                  static_cast<unsigned long long>(m.hints_for_it), m.detail.c_str());
    out_ << line;
  }
  out_ << "last full anti-entropy comparison:\n";
  const uint64_t now = base::SystemClock::Get()->WallMicros();
  for (size_t i = 0; i < members->size(); ++i) {
    const std::string text = aae[i].ok() ? LastFullText(*aae[i], now) : "unknown (" + aae[i].status().message() + ")";
    std::snprintf(line, sizeof(line), "  %-10s %s\n", (*members)[i].state.node.id.c_str(), text.c_str());
    out_ << line;
  }
  PrintOperations(*members);
  return kExitOk;
}

Status Session::ConnectToMember(const std::string& id) {
  auto members = Members();
  if (!members.ok()) return members.status();
  for (const auto& m : *members) {
    if (m.state.node.id != id) continue;
    client_ = std::make_unique<net::BlockingClient>(
        net::BlockingClientOptions{.cluster = o_.cluster, .id = "kvctl", .credentials = &credentials_, .tls = tls_.get()});
    return client_->Connect(m.state.node.address, static_cast<uint64_t>(o_.timeout_ms));
  }
  return Status::NotFound("--node " + id + ": no such member (kvctl status lists them)");
}

int Session::Repair() {
  repl::RepairRequest request;
  if (!o_.range.empty()) {
    repl::PrefixInterval interval;
    Status s = ParseTokenRange(o_.range, &interval);
    if (!s.ok()) return Usage(s.message());
    request.range = interval;
  }
  if (!o_.node.empty()) {
    Status s = ConnectToMember(o_.node);
    if (!s.ok()) return Fail(s);
  }
  const std::string node = client_->server_node_id();
  std::string body;
  repl::EncodeRepairRequest(&body, request);
  auto reply = Call(repl::Op(repl::ClusterOpcode::kRepairStart), body);
  if (!reply.ok()) return Fail(reply.status());
  repl::RepairProgress p;
  Status s = repl::DecodeRepairProgress(reply.value(), &p);
  if (!s.ok()) return Fail(s);
  out_ << node << " repair " << p.job << " started: " << p.ranges_total << " ranges to compare\n";
  if (!o_.wait) return kExitOk;
  while (p.state == repl::RepairState::kRunning) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto status = RepairStatus();
    if (!status.ok()) return Fail(status.status().WithContext("repair status"));
    p = std::move(status).value();
    out_ << ProgressLine(node, p) << std::endl;
  }
  return p.state == repl::RepairState::kDone ? kExitOk : kExitError;
}

int Session::Membership(const std::vector<std::string>& args) {
  const repl::OperationKind kind = args[0] == "join"           ? repl::OperationKind::kJoin
                                   : args[0] == "decommission" ? repl::OperationKind::kDecommission
                                   : args[0] == "rebuild"      ? repl::OperationKind::kRebuild
                                   : args[0] == "set-weight"   ? repl::OperationKind::kSetWeight
                                                               : repl::OperationKind::kRemoveNode;
  std::string target = args.size() > 1 ? args[1] : "";
  if (kind == repl::OperationKind::kSetWeight) {  // driven by the member whose weight changes
    Status s = ConnectToMember(args[1]);
    if (!s.ok()) return Fail(s);
    target = args[2];
  }
  const std::string node = client_->server_node_id();
  std::string body;
  repl::EncodeMembershipChange(&body, kind, target);
  auto reply = Call(repl::Op(repl::ClusterOpcode::kMembershipChange), body);
  if (!reply.ok()) return Fail(reply.status().WithContext(node + " " + args[0]));
  repl::MembershipProgress p;
  Status s = repl::DecodeMembershipProgress(reply.value(), &p);
  if (!s.ok()) return Fail(s);
  out_ << MembershipLine(node, p) << std::endl;
  while (o_.wait && (p.state == repl::OperationState::kAnnouncing || p.state == repl::OperationState::kStreaming)) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto status = Call(repl::Op(repl::ClusterOpcode::kMembershipStatus), "");
    if (!status.ok()) return Fail(status.status().WithContext(node + " streams"));
    s = repl::DecodeMembershipProgress(status.value(), &p);
    if (!s.ok()) return Fail(s);
    out_ << MembershipLine(node, p) << std::endl;
  }
  return p.state == repl::OperationState::kFailed ? kExitError : kExitOk;
}

int Session::Cleanup() {
  auto reply = Call(repl::Op(repl::ClusterOpcode::kCleanup), "");
  if (!reply.ok()) return Fail(reply.status());
  std::string_view in = reply.value();
  uint32_t n = 0;
  if (!base::GetVarint32(&in, &n) || in.size() != 16ull * n) return Fail(Status::Corruption("malformed CLEANUP reply"));
  double share = 0;
  for (uint32_t i = 0; i < n; ++i) {
    ring::TokenRange r;
    base::GetFixed64(&in, &r.start);
    base::GetFixed64(&in, &r.end);
    share += r.Fraction();
  }
  char line[160];
  std::snprintf(line, sizeof(line), "%s cleanup: %u ranges deleted (%.1f%% of the ring)\n",
                client_->server_node_id().c_str(), n, 100 * share);
  out_ << line;
  return kExitOk;
}

int Session::Streams() {
  auto reply = Call(repl::Op(repl::ClusterOpcode::kMembershipStatus), "");
  if (!reply.ok()) return Fail(reply.status());
  repl::MembershipProgress p;
  Status s = repl::DecodeMembershipProgress(reply.value(), &p);
  if (!s.ok()) return Fail(s);
  out_ << StreamsText(client_->server_node_id(), p);
  return kExitOk;
}

int Session::Plan(const std::vector<std::string>& args) {
  uint64_t rate = 0;
  if (!ParseByteSize(o_.stream_rate, &rate) || rate == 0) {
    return Usage("--stream-rate: '" + o_.stream_rate + "' is not a positive byte size (64MiB, 100m, ...)");
  }
  auto change = ParsePlanChange(std::vector<std::string>(args.begin() + 1, args.end()), o_.new_node,
                                client_->server_node_id());
  if (!change.ok()) return Usage(change.status().message());
  auto reply = Call(repl::Op(repl::ClusterOpcode::kRing), "");
  if (!reply.ok()) return Fail(reply.status());
  repl::RingDescription ring;
  if (!repl::DecodeRingDescription(reply.value(), &ring)) return Fail(Status::Corruption("malformed RING reply"));
  auto members = Members();
  if (!members.ok()) return Fail(members.status());
  auto report = PlanFromCluster(ring, *members, *change, static_cast<double>(rate));
  if (!report.ok()) return Fail(report.status());
  out_ << (o_.json ? PlanJson(*report) : PlanText(*report));
  return kExitOk;
}

}  // namespace

int RunKvctl(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err) {
  Options o;
  FlagSet flags(kUsage);
  DeclareFlags(&flags, &o);
  std::vector<std::string> owned;
  for (int i = 0; i < argc; ++i) owned.push_back(std::string(argv[i]) == "-v" ? "--verbose" : argv[i]);
  std::vector<char*> args;
  for (auto& a : owned) args.push_back(a.data());
  std::vector<std::string> positional;
  Status s = flags.Parse(static_cast<int>(args.size()), args.data(), 1, &positional);
  if (!s.ok()) {
    err << "kvctl: " << s.message() << "\n";
    return kExitError;
  }
  if (o.help) {
    out << flags.Help();
    return kExitOk;
  }
  if (o.host.empty()) {
    const char* env = std::getenv("KVRING_HOST");
    o.host = env && *env ? env : "127.0.0.1:7000";
  }
  Session session(o, in, out, err);
  return session.Run(positional);
}

}  // namespace kvring::cmd::kvctl
