#include "test/util/kvnode_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/coding.h"
#include "base/env.h"

namespace kvring::test {

using base::Status;

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

void SleepMs(uint64_t ms) { ::usleep(static_cast<useconds_t>(ms * 1000)); }

namespace {

// A wait status as a shell shows it: the exit code, or 128 + the signal.
int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string LastLines(const std::string& text, size_t lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (size_t seen = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++seen == lines) break;
  }
  return text.substr(pos);
}

// Reads what is available from fd into *out; false at EOF or on an error.
bool Drain(int fd, std::string* out) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

}  // namespace

// --- RunProgram -------------------------------------------------------------------

ProgramResult RunProgram(const std::vector<std::string>& argv, std::string_view input, uint64_t timeout_ms) {
  ProgramResult result;
  // stdin is a socket pair, so writing to a child that already exited is an
  // error (MSG_NOSIGNAL), not a SIGPIPE that kills the test binary.
  int in[2], out[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) return result;
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return result;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec (the parent has threads).
    ::dup2(in[1], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(args[0], args.data());
    static const char kMsg[] = "RunProgram: exec failed\n";
    ssize_t ignored = ::write(2, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    ::_exit(127);
  }
  ::close(in[1]);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(in[0]);
    ::close(out[0]);
    ::close(err[0]);
    return result;
  }
  for (int fd : {in[0], out[0], err[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  const uint64_t deadline = NowMs() + timeout_ms;
  size_t written = 0;
  int in_fd = in[0];
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  bool out_open = true, err_open = true;
  while ((out_open || err_open) && NowMs() < deadline) {
    pollfd fds[3];
    nfds_t nfds = 0;
    if (out_open) fds[nfds++] = {out[0], POLLIN, 0};
    if (err_open) fds[nfds++] = {err[0], POLLIN, 0};
    if (in_fd >= 0) fds[nfds++] = {in_fd, POLLOUT, 0};
    int wait_ms = static_cast<int>(std::min<uint64_t>(100, deadline - NowMs()));
    if (::poll(fds, nfds, wait_ms) < 0 && errno != EINTR) break;
    if (out_open) out_open = Drain(out[0], &result.out);
    if (err_open) err_open = Drain(err[0], &result.err);
    if (in_fd >= 0) {
      ssize_t n = ::send(in_fd, input.data() + written, input.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || written == input.size()) {
        ::close(in_fd);  // EOF for the child (or it stopped reading)
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (NowMs() >= deadline) {
      ::kill(pid, SIGKILL);  // our own child, by pid
      ::waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    SleepMs(2);
  }
  result.exit_code = ExitCodeOf(status);
  return result;
}

std::string ProgramResult::ToString() const {
  return "exit " + std::to_string(exit_code) + (timed_out ? " (timed out)" : "") + "\nstdout: " + out +
         "\nstderr: " + err;
}

std::string BinaryPath(const std::string& name) { return BuildDir() + "/" + name; }

// --- KvClient ---------------------------------------------------------------------

std::vector<std::string> ReadResult::values() const {
  std::vector<std::string> v;
  for (const auto& s : siblings) v.push_back(s.value);
  std::sort(v.begin(), v.end());
  return v;
}

base::Result<ReadResult> DecodeReadResult(std::string_view payload) {
  net::GetReply reply;
  if (!net::DecodeGetReply(payload, &reply)) return Status::Corruption("malformed GET reply");
  ReadResult result;
  result.context.assign(reply.context);
  for (const auto& s : reply.siblings) {
    SiblingView view;
    view.value.assign(s.value);
    view.timestamp_us = s.timestamp_us;
    KV_RETURN_IF_ERROR(repl::DecodeSiblingClock(s.clock, &view.dot, &view.context));
    result.siblings.push_back(std::move(view));
  }
  return result;
}

KvClient::KvClient(std::string address, uint64_t timeout_ms, std::string source_address,
                   const net::ClientCredentials* credentials, const net::TlsContext* tls)
    : address_(std::move(address)),
      timeout_ms_(timeout_ms),
      client_(net::BlockingClientOptions{
          .id = "test", .source_address = std::move(source_address), .credentials = credentials, .tls = tls}) {}

void KvClient::set_address(std::string address) {
  client_.Close();
  address_ = std::move(address);
}

base::Result<net::BlockingClient*> KvClient::Connected() {
  if (!client_.connected()) KV_RETURN_IF_ERROR(client_.Connect(address_, timeout_ms_));
  return &client_;
}

base::Result<std::string> KvClient::Call(uint8_t opcode, std::string_view body) {
  auto c = Connected();
  if (!c.ok()) return c.status();
  return client_.Call(opcode, body, timeout_ms_);
}

base::Result<ReadResult> KvClient::DoGet(std::string_view key, uint8_t r, uint8_t flags) {
  net::GetRequest req;
  req.consistency = r;
  req.flags = flags;
  req.key = key;
  std::string body;
  net::EncodeGet(&body, req);
  auto reply = Call(static_cast<uint8_t>(net::Opcode::kGet), body);
  if (!reply.ok()) return reply.status();
  return DecodeReadResult(reply.value());
}

base::Result<ReadResult> KvClient::Get(std::string_view key, uint8_t r) { return DoGet(key, r, 0); }

int64_t StatsCounter(KvClient& client, const std::string& name) {
  auto reply = client.Call(static_cast<uint8_t>(net::Opcode::kStats), "");
  if (!reply.ok()) return -1;
  std::string_view payload = reply.value(), text;
  if (!base::GetLengthPrefixed(&payload, &text)) return -1;
  const std::string t = "\n" + std::string(text);
  size_t pos = t.find("\n" + name + " ");
  if (pos == std::string::npos) return -1;
  return std::stoll(t.substr(pos + name.size() + 2));
}

base::Result<ReadResult> KvClient::Read(std::string_view key, uint8_t r, uint8_t flags) {
  auto c = Connected();
  if (!c.ok()) return c.status();
  net::GetRequest req;
  req.consistency = r;
  req.flags = flags;
  req.key = key;
  std::string body;
  net::EncodeGet(&body, req);
  auto reply = client_.CallForReply(static_cast<uint8_t>(net::Opcode::kGet), body, timeout_ms_);
  if (!reply.ok()) return reply.status();
  if (reply->status.ok()) return DecodeReadResult(reply->payload);
  if (!reply->status.IsNotFound()) return reply->status;
  ReadResult missing;
  missing.found = false;
  std::string_view context;
  if (!net::DecodeNotFoundPayload(reply->payload, &context)) return Status::Corruption("malformed not-found reply");
  missing.context.assign(context);
  return missing;
}

base::Result<ReadResult> KvClient::GetLocal(std::string_view key) {
  return DoGet(key, net::kConsistencyDefault, net::kGetFlagLocal);
}

namespace {

base::Result<WriteResult> DecodeWriteResult(const base::Result<std::string>& reply) {
  if (!reply.ok()) return reply.status();
  net::WriteReceipt receipt;
  if (!net::DecodeWriteReceipt(reply.value(), &receipt)) return Status::Corruption("malformed write receipt");
  WriteResult result;
  for (const auto& a : receipt.acks) result.acks.emplace_back(a.node_id);
  result.context.assign(receipt.context);
  repl::VersionVector clock_context;
  KV_RETURN_IF_ERROR(repl::DecodeSiblingClock(receipt.clock, &result.dot, &clock_context));
  return result;
}

}  // namespace

base::Result<WriteResult> KvClient::Put(std::string_view key, std::string_view value, uint8_t w,
                                        std::string_view context, uint8_t flags) {
  net::PutRequest req;
  req.consistency = w;
  req.flags = flags;
  req.key = key;
  req.value = value;
  req.context = context;
  std::string body;
  net::EncodePut(&body, req);
  return DecodeWriteResult(Call(static_cast<uint8_t>(net::Opcode::kPut), body));
}

base::Result<WriteResult> KvClient::Delete(std::string_view key, uint8_t w, std::string_view context,
                                           uint8_t flags) {
  net::DeleteRequest req;
  req.consistency = w;
  req.flags = flags;
  req.key = key;
  req.context = context;
  std::string body;
  net::EncodeDelete(&body, req);
  return DecodeWriteResult(Call(static_cast<uint8_t>(net::Opcode::kDelete), body));
}

base::Result<WriteResult> KvClient::DeleteSeen(std::string_view key, uint8_t w) {
  auto seen = Read(key, w);
  if (!seen.ok()) return seen.status();
  return Delete(key, w, seen->context);
}

base::Result<WriteResult> KvClient::Replace(std::string_view key, std::string_view value, uint8_t w, uint8_t r) {
  auto seen = Read(key, r != 0 ? r : w);
  if (!seen.ok()) return seen.status();
  return Put(key, value, w, seen->context);
}

Status KvClient::Ping() { return Call(static_cast<uint8_t>(net::Opcode::kPing), "").status(); }

base::Result<std::vector<repl::MemberReport>> KvClient::ClusterStatus() {
  auto reply = Call(repl::Op(repl::ClusterOpcode::kClusterStatus), "");
  if (!reply.ok()) return reply.status();
  std::vector<repl::MemberReport> members;
  if (!repl::DecodeClusterStatus(reply.value(), &members)) return Status::Corruption("malformed CLUSTER_STATUS");
  return members;
}

// --- KvnodeProcess ----------------------------------------------------------------

KvnodeProcess::KvnodeProcess(std::string dir, KvnodeOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

KvnodeProcess::~KvnodeProcess() {
  if (::testing::Test::HasFailure()) {
    std::fprintf(stderr, "---- kvnode %s (%s) log tail, %s:\n%s\n", options_.id.c_str(), address().c_str(),
                 log_path().c_str(), LogTail().c_str());
  }
  Kill();
}

void KvnodeProcess::CheckSanitizerReports() {
  const std::string log = ReadWholeFile(log_path());
  if (log.size() <= log_checked_) return;
  const std::string fresh = log.substr(log_checked_);
  log_checked_ = log.size();
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                             "WARNING: ThreadSanitizer"}) {
    size_t at = fresh.find(marker);
    if (at == std::string::npos) continue;
    size_t from = fresh.rfind('\n', at);
    from = from == std::string::npos ? 0 : from + 1;
    ADD_FAILURE() << "kvnode " << options_.id << " reported a sanitizer error (" << log_path() << "):\n"
                  << fresh.substr(from, 4000);
    return;
  }
}

std::string KvnodeProcess::address() const { return options_.host + ":" + std::to_string(options_.port); }

std::vector<std::string> KvnodeProcess::Argv() const {
  std::vector<std::string> argv = {BinaryPath("kvnode"), "--id",   options_.id, "--listen", address(),
                                   "--data",             data_dir(), "--sync", options_.sync, "--n",
                                   std::to_string(options_.n)};
  if (!options_.seeds.empty()) {
    std::string seeds;
    for (const auto& s : options_.seeds) seeds += (seeds.empty() ? "" : ",") + s;
    argv.insert(argv.end(), {"--seeds", seeds});
  }
  if (!options_.r.empty()) argv.insert(argv.end(), {"--r", options_.r});
  if (!options_.w.empty()) argv.insert(argv.end(), {"--w", options_.w});
  argv.insert(argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  return argv;
}

Status KvnodeProcess::Failed(const std::string& what) const {
  return Status::Unavailable("kvnode " + options_.id + " (" + address() + ") " + what + "; log " + log_path() +
                             " ends:\n" + LogTail());
}

Status KvnodeProcess::Launch() {
  if (running()) return Status::InvalidArgument("kvnode " + options_.id + " is already running");
  if (options_.port <= 0) return Status::InvalidArgument("kvnode " + options_.id + " has no port");
  std::vector<std::string> argv = Argv();
  if (::access(argv[0].c_str(), X_OK) != 0) {
    return Status::NotFound(argv[0] + " is missing: build it first (make -j2 " + argv[0] + ")");
  }
  if (!child_.Start(argv, log_path())) return Status::IOError("fork failed for kvnode " + options_.id);
  last_wait_status_ = -1;
  launches_++;
  return Status::OK();
}

bool KvnodeProcess::running() {
  if (!child_.running()) return false;
  int status = child_.Wait(0);
  if (status == -1) return true;
  last_wait_status_ = status;
  return false;
}

Status KvnodeProcess::WaitReady(uint64_t timeout_ms) {
  const uint64_t deadline = NowMs() + timeout_ms;
  KvClient client(address(), 1000, options_.client_source, &options_.credentials, options_.tls.get());
  Status last;
  for (;;) {
    if (!running()) return Failed("exited (status " + std::to_string(ExitCodeOf(last_wait_status_)) + ") before it answered PING");
    last = client.Ping();
    if (last.ok()) return Status::OK();
    if (NowMs() >= deadline) {
      return Failed("did not answer PING within " + std::to_string(timeout_ms) + "ms (" + last.ToString() + ")");
    }
    SleepMs(5);
  }
}

Status KvnodeProcess::Start(uint64_t timeout_ms) {
  const bool pick = options_.port <= 0;
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (pick) options_.port = PickFreePort();
    KV_RETURN_IF_ERROR(Launch());
    s = WaitReady(timeout_ms);
    if (s.ok() || !pick || s.message().find("Address already in use") == std::string::npos) return s;
    Kill();
  }
  return s;
}

void KvnodeProcess::Kill() {
  if (child_.running()) {
    child_.Kill();
    last_wait_status_ = SIGKILL;  // as waitpid reports a SIGKILL death
  }
  CheckSanitizerReports();
}

base::Result<int> KvnodeProcess::Terminate(uint64_t timeout_ms) {
  if (!running()) return Status::InvalidArgument("kvnode " + options_.id + " is not running");
  child_.Signal(SIGTERM);
  int status = child_.Wait(static_cast<int>(timeout_ms));
  if (status == -1) {
    Kill();
    return Status::TimedOut("kvnode " + options_.id + " did not exit within " + std::to_string(timeout_ms) +
                            "ms of SIGTERM");
  }
  last_wait_status_ = status;
  CheckSanitizerReports();
  return ExitCodeOf(status);
}

Status KvnodeProcess::Restart(uint64_t timeout_ms) {
  Kill();
  // The port was ours a moment ago; another process may have taken it in between
  // (an outgoing connection's ephemeral port): retry for a while, same port.
  const uint64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    KV_RETURN_IF_ERROR(Launch());
    Status s = WaitReady(timeout_ms);
    if (s.ok() || s.message().find("Address already in use") == std::string::npos || NowMs() >= deadline) return s;
    SleepMs(100);
  }
}

std::string KvnodeProcess::LogTail(size_t lines) const { return LastLines(ReadWholeFile(log_path()), lines); }

base::Result<std::vector<repl::MemberReport>> KvnodeProcess::ClusterStatus() {
  KvClient client(address(), 2000, options_.client_source, &options_.credentials, options_.tls.get());
  return client.ClusterStatus();
}

base::Result<uint64_t> KvnodeProcess::Generation() {
  auto members = ClusterStatus();
  if (!members.ok()) return members.status();
  for (const auto& m : *members) {
    if (m.self) return m.state.generation;
  }
  return Status::Corruption("CLUSTER_STATUS of " + options_.id + " lists no entry for itself");
}

Status KvnodeProcess::WaitForMembers(const std::vector<std::string>& ids, const std::vector<std::string>& up,
                                     uint64_t timeout_ms, const std::map<std::string, uint64_t>* generations) {
  KvClient client(address(), 2000, options_.client_source, &options_.credentials, options_.tls.get());
  std::string last = "no reply yet";
  bool ok = WaitFor(
      [&] {
        auto members = client.ClusterStatus();
        if (!members.ok()) {
          last = members.status().ToString();
          return false;
        }
        last.clear();
        for (const auto& id : ids) {
          auto it =
              std::find_if(members->begin(), members->end(), [&](const auto& m) { return m.state.node.id == id; });
          if (it == members->end()) {
            last += id + " unknown; ";
          } else if (!it->self && std::find(up.begin(), up.end(), id) != up.end()) {
            if (it->liveness != repl::Liveness::kUp) {
              last += id + " " + repl::LivenessName(it->liveness) + " (" + it->detail + "); ";
            } else if (generations != nullptr && generations->count(id) &&
                       it->state.generation < generations->at(id)) {
              last += id + " still at generation " + std::to_string(it->state.generation) + "; ";
            }
          }
        }
        return last.empty();
      },
      timeout_ms);
  if (ok) return Status::OK();
  return Status::TimedOut("kvnode " + options_.id + " did not list every member up within " +
                          std::to_string(timeout_ms) + "ms: " + last);
}

// --- Cluster ----------------------------------------------------------------------

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {}

Cluster::~Cluster() = default;  // each node prints its log tail when the test failed

KvClient& Cluster::client(size_t i) {
  if (client_launches_[i] != nodes_[i]->launches()) {
    clients_[i]->set_address(nodes_[i]->address());  // drops the connection to the old process
    client_launches_[i] = nodes_[i]->launches();
  }
  return *clients_[i];
}

std::vector<std::string> Cluster::ids() const {
  std::vector<std::string> ids;
  for (const auto& n : nodes_) ids.push_back(n->id());
  return ids;
}

std::string Cluster::LogTails(size_t lines) const {
  std::string out;
  for (const auto& n : nodes_) {
    out += "---- " + n->id() + " (" + n->address() + ") log tail, " + n->log_path() + ":\n" + n->LogTail(lines);
    if (!out.empty() && out.back() != '\n') out += "\n";
  }
  return out;
}

Status Cluster::StartOnce(uint64_t timeout_ms, bool* port_clash) {
  // A fresh sub-directory per attempt: members files from a failed attempt name old ports.
  const std::string dir = dir_.Sub("start" + std::to_string(++start_attempts_));
  KV_RETURN_IF_ERROR(base::Env::Default()->CreateDir(dir));
  nodes_.clear();
  clients_.clear();
  client_launches_.clear();
  std::vector<int> ports;
  while (ports.size() < options_.nodes) {
    int p = PickFreePort();
    if (p > 0 && std::find(ports.begin(), ports.end(), p) == ports.end()) ports.push_back(p);
  }
  std::vector<std::string> seeds;
  for (size_t i = 0; i < options_.nodes; ++i) {
    const std::string host = i < options_.hosts.size() ? options_.hosts[i] : "127.0.0.1";
    seeds.push_back(host + ":" + std::to_string(ports[i]));
  }
  start_dir_ = dir;
  for (size_t i = 0; i < options_.nodes; ++i) {
    KvnodeOptions o = NodeOptions(i, ports[i], seeds);
    if (options_.single_seed) o.seeds = i == 0 ? std::vector<std::string>() : std::vector<std::string>{seeds[0]};
    nodes_.push_back(std::make_unique<KvnodeProcess>(dir, std::move(o)));
    clients_.push_back(std::make_unique<KvClient>(nodes_.back()->address(), kClientTimeoutMs, options_.client_source,
                                                  &options_.credentials, options_.tls.get()));
    client_launches_.push_back(1);
  }
  for (auto& n : nodes_) KV_RETURN_IF_ERROR(n->Launch());
  for (auto& n : nodes_) {
    Status s = n->WaitReady(timeout_ms);
    if (!s.ok()) {
      *port_clash = s.message().find("Address already in use") != std::string::npos;
      return s;
    }
  }
  return WaitUntilConnected(timeout_ms);
}

KvnodeOptions Cluster::NodeOptions(size_t i, int port, std::vector<std::string> seeds) const {
  KvnodeOptions o;
  o.id = "n" + std::to_string(i + 1);
  o.host = i < options_.hosts.size() ? options_.hosts[i] : "127.0.0.1";
  o.port = port;
  o.seeds = std::move(seeds);
  o.n = options_.n;
  o.r = options_.r;
  o.w = options_.w;
  o.sync = options_.sync;
  o.extra_flags = options_.extra_flags;
  if (i < options_.node_flags.size()) {
    o.extra_flags.insert(o.extra_flags.end(), options_.node_flags[i].begin(), options_.node_flags[i].end());
  }
  o.client_source = options_.client_source;
  o.credentials = options_.credentials;
  o.tls = options_.tls;
  return o;
}

base::Result<size_t> Cluster::AddNode(const std::vector<std::string>& extra_flags, uint64_t timeout_ms) {
  std::vector<std::string> seeds;
  for (const auto& n : nodes_) seeds.push_back(n->address());
  int port = 0;
  while (port <= 0) port = PickFreePort();
  KvnodeOptions o = NodeOptions(nodes_.size(), port, std::move(seeds));
  o.extra_flags.insert(o.extra_flags.end(), extra_flags.begin(), extra_flags.end());
  nodes_.push_back(std::make_unique<KvnodeProcess>(start_dir_, std::move(o)));
  clients_.push_back(std::make_unique<KvClient>(nodes_.back()->address(), kClientTimeoutMs, options_.client_source,
                                                &options_.credentials, options_.tls.get()));
  client_launches_.push_back(1);
  KV_RETURN_IF_ERROR(nodes_.back()->Start(timeout_ms));
  return nodes_.size() - 1;
}

Status Cluster::Start(uint64_t timeout_ms) {
  Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool port_clash = false;
    s = StartOnce(timeout_ms, &port_clash);
    if (s.ok() || !port_clash) return s;
    for (auto& n : nodes_) n->Kill();
  }
  return s;
}

Status Cluster::WaitUntilConnected(uint64_t timeout_ms) {
  std::vector<std::string> up;
  for (auto& n : nodes_) {
    if (n->running()) up.push_back(n->id());
  }
  const uint64_t deadline = NowMs() + timeout_ms;
  std::map<std::string, uint64_t> generations;
  for (auto& n : nodes_) {
    if (!n->running()) continue;
    auto g = n->Generation();
    if (!g.ok()) return g.status().WithContext("generation of " + n->id());
    generations[n->id()] = g.value();
  }
  for (auto& n : nodes_) {
    if (!n->running()) continue;
    // Every member must be listed; only the running ones must be seen up, in their current run.
    KV_RETURN_IF_ERROR(n->WaitForMembers(ids(), up, deadline > NowMs() ? deadline - NowMs() : 0, &generations));
  }
  return Status::OK();
}

Status Cluster::WaitUntilSeenDown(size_t observer, size_t down, uint64_t timeout_ms) {
  KvClient client(nodes_[observer]->address(), 2000, options_.client_source, &options_.credentials, options_.tls.get());
  const std::string id = nodes_[down]->id();
  bool ok = WaitFor(
      [&] {
        auto members = client.ClusterStatus();
        if (!members.ok()) return false;
        for (const auto& m : *members) {
          if (m.state.node.id == id) return m.liveness == repl::Liveness::kDown;
        }
        return false;
      },
      timeout_ms);
  if (ok) return Status::OK();
  return Status::TimedOut(nodes_[observer]->id() + " did not see " + id + " down within " +
                          std::to_string(timeout_ms) + "ms");
}

}  // namespace kvring::test
