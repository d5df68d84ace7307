// kvbench run end to end, in-process, against a fake kvring server written here
// (HELLO, GET, PUT with net/protocol.h; it answers each batch of requests in
// reverse order, so replies come back out of order) and against a real
// redis-server started by the test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cmd/kvbench/kvbench_main.h"
#include "net/protocol.h"
#include "test/util/test_util.h"

namespace kvring::cmd::kvbench {
namespace {

using base::Status;

// --- A fake kvring node ------------------------------------------------------------

class FakeKvServer {
 public:
  enum class Mode {
    kNormal,    // GET returns the last value PUT
    kStale,     // GET returns the value before the last one (not-found after the first PUT)
    kSiblings,  // GET returns the previous and the last value as two siblings
  };
  explicit FakeKvServer(Mode mode = Mode::kNormal, int drop_after = 0) : mode_(mode), drop_after_(drop_after) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listen_fd_, 128) != 0) {
      std::perror("fake server bind/listen");
      std::abort();
    }
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeKvServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::string target() const { return "kv://127.0.0.1:" + std::to_string(port_); }
  // The protocol version HELLO replies name (a server from another release).
  void set_hello_version(uint16_t version) { hello_version_ = version; }
  uint64_t hellos() const { return hellos_; }
  uint64_t gets() const { return gets_; }
  uint64_t puts() const { return puts_; }
  uint64_t puts_with_context() const { return puts_with_context_; }
  uint64_t puts_overwriting() const { return puts_overwriting_; }
  // Puts whose context is neither empty nor one this server handed out for that
  // key (a context carried to the wrong key, or made up).
  uint64_t puts_with_foreign_context() const { return puts_with_foreign_context_; }
  std::vector<uint8_t> levels_seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return {levels_.begin(), levels_.end()};
  }

 private:
  struct Entry {
    std::string prev, cur;
    int versions = 0;
    std::set<std::string> contexts;  // every context handed out for the key
  };

  void AcceptLoop() {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      client_fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string in;
    char buf[65536];
    int served = 0;
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
      std::vector<std::string> replies;
      size_t offset = 0;
      for (;;) {
        net::Frame frame;
        size_t used = 0;
        Status error;
        if (net::ParseFrame(in.data() + offset, in.size() - offset, net::kDefaultMaxFrameBytes, &frame, &used,
                            &error) != net::ParseResult::kFrame) {
          break;
        }
        replies.push_back(Handle(frame));
        offset += used;
      }
      in.erase(0, offset);
      std::reverse(replies.begin(), replies.end());  // out of order, on purpose
      std::string out;
      for (const auto& r : replies) out += r;
      if (!WriteAll(fd, out)) break;
      served += static_cast<int>(replies.size());
      if (drop_after_ > 0 && served >= drop_after_) break;  // a server that drops connections
    }
    ::shutdown(fd, SHUT_RDWR);
  }

  static bool WriteAll(int fd, const std::string& out) {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  std::string Reply(const net::Frame& request, const Status& status, const std::string& payload) {
    std::string body;
    net::AppendStatus(&body, status);
    body += payload;
    std::string frame;
    net::AppendFrame(&frame, request.opcode, net::kFlagReply, request.request_id, body);
    return frame;
  }

  std::string Handle(const net::Frame& f) {
    std::string payload;
    switch (static_cast<net::Opcode>(f.opcode)) {
      case net::Opcode::kHello: {
        net::HelloRequest hello;
        if (!net::DecodeHello(f.body, &hello)) return Reply(f, Status::Corruption("bad hello"), "");
        ++hellos_;
        net::EncodeHelloReply(&payload, net::HelloReply{hello_version_.load(), "test", "fake"});
        return Reply(f, Status::OK(), payload);
      }
      case net::Opcode::kGet: {
        net::GetRequest get;
        if (!net::DecodeGet(f.body, &get)) return Reply(f, Status::Corruption("bad get"), "");
        ++gets_;
        std::lock_guard<std::mutex> lock(mu_);
        levels_.insert(get.consistency);
        Entry& e = store_[std::string(get.key)];
        net::GetReply reply;
        const std::string context = "ctx:" + std::string(get.key) + ":" + std::to_string(e.versions);
        e.contexts.insert(context);
        reply.context = context;
        const bool has_prev = e.versions >= 2, has_cur = e.versions >= 1;
        if (mode_ == Mode::kNormal && has_cur) reply.siblings.push_back({e.cur, "", 0});
        if (mode_ == Mode::kStale && has_prev) reply.siblings.push_back({e.prev, "", 0});
        if (mode_ == Mode::kSiblings && has_prev) reply.siblings.push_back({e.prev, "", 0});
        if (mode_ == Mode::kSiblings && has_cur) reply.siblings.push_back({e.cur, "", 0});
        if (reply.siblings.empty()) {
          net::EncodeNotFoundPayload(&payload, context);
          return Reply(f, Status::NotFound("no such key"), payload);
        }
        net::EncodeGetReply(&payload, reply);
        return Reply(f, Status::OK(), payload);
      }
      case net::Opcode::kPut: {
        net::PutRequest put;
        if (!net::DecodePut(f.body, &put)) return Reply(f, Status::Corruption("bad put"), "");
        ++puts_;
        if (!put.context.empty()) ++puts_with_context_;
        if (put.flags & net::kWriteFlagOverwrite) ++puts_overwriting_;
        std::lock_guard<std::mutex> lock(mu_);
        levels_.insert(put.consistency);
        Entry& e = store_[std::string(put.key)];
        if (!put.context.empty() && e.contexts.count(std::string(put.context)) == 0) ++puts_with_foreign_context_;
        e.prev = std::move(e.cur);
        e.cur = std::string(put.value);
        ++e.versions;
        const std::string context = "ctx:" + std::string(put.key) + ":" + std::to_string(e.versions) + "w";
        e.contexts.insert(context);
        net::WriteReceipt receipt;
        receipt.acks.push_back({"fake", false});
        receipt.context = context;
        net::EncodeWriteReceipt(&payload, receipt);
        return Reply(f, Status::OK(), payload);
      }
      default:
        return Reply(f, Status::NotSupported("opcode"), "");
    }
  }

  const Mode mode_;
  const int drop_after_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint16_t> hello_version_{net::kProtocolVersion};
  std::thread acceptor_;
  std::atomic<uint64_t> hellos_{0}, gets_{0}, puts_{0}, puts_with_context_{0}, puts_overwriting_{0},
      puts_with_foreign_context_{0};
  std::mutex mu_;
  std::vector<int> client_fds_;
  std::vector<std::thread> threads_;
  std::map<std::string, Entry> store_;
  std::set<uint8_t> levels_;
};

// --- Running kvbench in-process ----------------------------------------------------

struct BenchRun {
  int exit_code = -1;
  std::string out, err, json;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Drain(FILE* f) {
  std::string s;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  std::fclose(f);
  return s;
}

BenchRun RunKvbench(std::vector<std::string> args, const test::TempDir& dir,
                    const std::atomic<bool>* interrupt = nullptr) {
  const std::string json = dir.Sub("result.json");
  std::remove(json.c_str());
  args.insert(args.begin(), "kvbench");
  args.push_back("--json");
  args.push_back(json);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  BenchRun r;
  r.exit_code = KvbenchMain(static_cast<int>(argv.size()), argv.data(), out, err, interrupt);
  r.out = Drain(out);
  r.err = Drain(err);
  r.json = ReadFile(json);
  return r;
}

// The number after "key": in the JSON text (the first occurrence at or after `from`).
double JsonNumber(const std::string& json, const std::string& key, const std::string& from = "") {
  size_t start = from.empty() ? 0 : json.find("\"" + from + "\"");
  EXPECT_NE(start, std::string::npos) << from;
  size_t at = json.find("\"" + key + "\": ", start == std::string::npos ? 0 : start);
  EXPECT_NE(at, std::string::npos) << key << " missing in " << json;
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + key.size() + 4, nullptr);
}

std::vector<std::string> Common(const std::string& target) {
  return {"--target", target, "--connections", "4", "--pipeline", "8", "--keys", "500", "--value-size", "100-1000",
          "--duration", "0.4", "--warmup", "0.1", "--quiet"};
}

std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

TEST(KvbenchEndToEnd, RunAgainstFakeKvServerCompletesAndReportsEveryDocumentedKey) {
  FakeKvServer server;
  test::TempDir dir;
  const std::string csv = dir.Sub("rows.csv");
  BenchRun r = RunKvbench(With(Common(server.target()), {"--csv", csv}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* key : {"ops_per_sec", "errors", "latency_us", "p50", "p90", "p99", "p999", "max", "operations",
                          "get", "put", "targets", "connections", "pipeline", "keys", "value_size", "read_ratio",
                          "distribution", "\"r\"", "\"w\"", "duration_s", "reads_checked", "stale_reads",
                          "stale_fraction", "max_staleness_versions", "max_staleness_ms", "timeline"}) {
    const std::string quoted = key[0] == '"' ? key : "\"" + std::string(key) + "\"";
    EXPECT_NE(r.json.find(quoted), std::string::npos) << key;
  }
  EXPECT_GT(JsonNumber(r.json, "ops"), 100);
  EXPECT_GT(JsonNumber(r.json, "ops_per_sec"), 100);
  EXPECT_EQ(JsonNumber(r.json, "errors"), 0);
  EXPECT_EQ(JsonNumber(r.json, "misses"), 0);  // the preload wrote every key
  EXPECT_GT(JsonNumber(r.json, "reads_checked"), 10);
  EXPECT_EQ(JsonNumber(r.json, "stale_reads"), 0);
  const double p50 = JsonNumber(r.json, "p50"), p99 = JsonNumber(r.json, "p99"), max = JsonNumber(r.json, "max", "latency_us");
  EXPECT_GT(p50, 0);
  EXPECT_LE(p50, p99);
  EXPECT_LE(p99, max);
  EXPECT_EQ(server.hellos(), 1u + 4u);  // the reachability probe, then one per connection
  EXPECT_GE(server.puts(), 500u);      // the preload
  EXPECT_GT(server.gets(), 0u);
  EXPECT_NE(r.out.find("ops/s"), std::string::npos);
  const std::string rows = ReadFile(csv);
  EXPECT_EQ(rows.rfind("unix_time,targets,connections", 0), 0u) << rows;
  EXPECT_NE(rows.find(",all,"), std::string::npos);
  EXPECT_NE(rows.find(",get,"), std::string::npos);
}

TEST(KvbenchEndToEnd, StaleServerIsCaughtByTheStalenessCheck) {
  FakeKvServer server(FakeKvServer::Mode::kStale);
  test::TempDir dir;
  BenchRun r = RunKvbench(Common(server.target()), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(JsonNumber(r.json, "stale_reads"), 0);
  EXPECT_GT(JsonNumber(r.json, "stale_fraction"), 0.1);
  EXPECT_GE(JsonNumber(r.json, "max_staleness_versions"), 1);
  EXPECT_GT(JsonNumber(r.json, "max_staleness_ms"), 0);
  EXPECT_NE(r.out.find("stale"), std::string::npos);
}

TEST(KvbenchEndToEnd, SiblingsAreJudgedByTheirNewestVersion) {
  FakeKvServer server(FakeKvServer::Mode::kSiblings);
  test::TempDir dir;
  BenchRun r = RunKvbench(Common(server.target()), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(JsonNumber(r.json, "reads_checked"), 10);
  EXPECT_EQ(JsonNumber(r.json, "stale_reads"), 0);
}

TEST(KvbenchEndToEnd, PerRequestConsistencyReachesTheWire) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench(With(Common(server.target()), {"--r", "QUORUM", "--w", "2"}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.levels_seen(), (std::vector<uint8_t>{2, net::kConsistencyQuorum}));
  EXPECT_NE(r.json.find("\"r\": \"QUORUM\""), std::string::npos);
}

TEST(KvbenchEndToEnd, WorkloadFReadModifyWritesHandBackTheContext) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench(With(Common(server.target()), {"--workload", "f"}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(JsonNumber(r.json, "ops", "rmw"), 10);
  EXPECT_GT(server.puts_with_context(), 10u);
  EXPECT_EQ(JsonNumber(r.json, "stale_reads"), 0);
}

TEST(KvbenchEndToEnd, PutsCarryTheContextOfTheirKeysLastReadOrWrite) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench(With(Common(server.target()), {"--keys", "50"}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The preload's first write of each key has no context; every later put of a
  // key carries one the server handed out for that key.
  EXPECT_GE(server.puts_with_context() + 50, server.puts());
  EXPECT_EQ(server.puts_with_foreign_context(), 0u);
  EXPECT_EQ(server.puts_overwriting(), 0u);
  EXPECT_NE(r.json.find("\"write_mode\": \"context\""), std::string::npos);
}

TEST(KvbenchEndToEnd, OverwriteModeSendsTheFlagAndNoContexts) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench(With(Common(server.target()), {"--keys", "50", "--overwrite"}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(server.puts(), 50u);
  EXPECT_EQ(server.puts_overwriting(), server.puts());
  EXPECT_EQ(server.puts_with_context(), 0u);
  EXPECT_NE(r.json.find("\"write_mode\": \"overwrite\""), std::string::npos);
}

TEST(KvbenchEndToEnd, OpenLoopKeepsTheRequestedRate) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", server.target(), "--connections", "4", "--keys", "200", "--value-size", "100",
                      "--rate", "2000", "--duration", "1", "--warmup", "0", "--quiet"},
                     dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(JsonNumber(r.json, "ops_per_sec"), 2000, 300);
  EXPECT_NEAR(JsonNumber(r.json, "ops"), 2000, 300);
  EXPECT_NE(r.json.find("\"mode\": \"open\""), std::string::npos);
}

// --timeline-ms 100: ten points a second, each with the rate of its own 100 ms.
TEST(KvbenchEndToEnd, ATimelineStepOfAHundredMillisecondsGivesTenPointsASecond) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", server.target(), "--connections", "4", "--keys", "200", "--value-size", "100",
                           "--rate", "2000", "--duration", "1.5", "--warmup", "0", "--quiet", "--timeline-ms", "100"},
                          dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t start = r.json.find("\"timeline\"");
  ASSERT_NE(start, std::string::npos);
  size_t points = 0;
  for (size_t at = r.json.find("\"t_s\"", start); at != std::string::npos; at = r.json.find("\"t_s\"", at + 1)) {
    ++points;
  }
  EXPECT_GE(points, 13u);
  EXPECT_LE(points, 17u);
  const double first_rate = JsonNumber(r.json.substr(start), "ops_per_sec");
  EXPECT_NEAR(first_rate, 2000, 600) << "a point's rate is per second, over its 100 ms";
}

TEST(KvbenchEndToEnd, RequestCountRunsExactlyThatMany) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", server.target(), "--connections", "3", "--pipeline", "4", "--threads", "2",
                      "--keys", "100", "--value-size", "64", "--requests", "777", "--warmup", "0", "--quiet"},
                     dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonNumber(r.json, "ops") + JsonNumber(r.json, "errors"), 777);
}

TEST(KvbenchEndToEnd, LoadIsSpreadOverEveryTargetAndThread) {
  FakeKvServer a, b;
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", a.target(), "--target", b.target(), "--connections", "4", "--threads", "2",
                      "--keys", "300", "--value-size", "100", "--duration", "0.3", "--warmup", "0", "--quiet",
                      "--no-staleness"},
                     dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(a.hellos(), 1u + 2u);  // probe + two connections each
  EXPECT_EQ(b.hellos(), 1u + 2u);
  EXPECT_GT(a.gets(), 10u);
  EXPECT_GT(b.gets(), 10u);
  EXPECT_GE(a.puts() + b.puts(), 300u);  // the preload
}

TEST(KvbenchEndToEnd, LostConnectionsAreCountedAndReconnected) {
  FakeKvServer server(FakeKvServer::Mode::kNormal, /*drop_after=*/400);
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", server.target(), "--connections", "2", "--pipeline", "4", "--keys", "100",
                      "--value-size", "100", "--duration", "1", "--warmup", "0", "--quiet"},
                     dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(JsonNumber(r.json, "errors"), 0);
  EXPECT_NE(r.json.find("\"connection lost\""), std::string::npos);
  EXPECT_GT(server.hellos(), 1u + 4u);  // reconnected, with a new handshake each time
  EXPECT_GT(JsonNumber(r.json, "ops"), 800);
}

TEST(KvbenchEndToEnd, ServerDyingMidRunCountsItsSilenceInTheThroughput) {
  auto server = std::make_unique<FakeKvServer>();
  const std::string target = server->target();
  std::thread killer([&server] {
    ::usleep(500'000);
    server.reset();  // closes every connection and stops listening
  });
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", target, "--connections", "2", "--keys", "100", "--value-size", "100",
                           "--duration", "1.2", "--warmup", "0", "--quiet"},
                          dir);
  killer.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double elapsed = JsonNumber(r.json, "elapsed_s");
  EXPECT_GE(elapsed, 1.2);  // the whole window, not just until the last reply
  EXPECT_NEAR(JsonNumber(r.json, "ops_per_sec"), JsonNumber(r.json, "ops") / elapsed, 1.0);
  EXPECT_NE(r.json.find("\"connection lost\""), std::string::npos);
  EXPECT_GT(JsonNumber(r.json, "connect_failures"), 0);
}

TEST(KvbenchEndToEnd, InterruptStopsEarlyAndStillReports) {
  FakeKvServer server;
  std::atomic<bool> interrupt{false};
  std::thread ctrl_c([&interrupt] {
    ::usleep(600'000);
    interrupt = true;
  });
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", server.target(), "--connections", "2", "--keys", "100", "--value-size", "100",
                           "--duration", "30", "--warmup", "0", "--quiet"},
                          dir, &interrupt);
  ctrl_c.join();
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_NE(r.json.find("\"interrupted\": true"), std::string::npos);
  EXPECT_LT(JsonNumber(r.json, "elapsed_s"), 5);
  EXPECT_GT(JsonNumber(r.json, "ops"), 100);
  EXPECT_EQ(JsonNumber(r.json, "errors"), 0);  // in-flight requests drained
  EXPECT_NE(r.out.find("interrupted"), std::string::npos);
}

TEST(KvbenchEndToEnd, WithoutPreloadReadsMissAndNothingIsCheckedUntilWritten) {
  FakeKvServer server;
  test::TempDir dir;
  BenchRun r = RunKvbench(With(Common(server.target()), {"--no-preload", "--keys", "100000"}), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(JsonNumber(r.json, "misses"), 10);
  EXPECT_LT(server.puts(), 100000u);
  EXPECT_EQ(JsonNumber(r.json, "stale_reads"), 0);
}

TEST(KvbenchEndToEnd, UnreachableTargetExitsTwoNamingTheTargetAndCause) {
  test::TempDir dir;
  const std::string target = "kv://127.0.0.1:" + std::to_string(test::PickFreePort());
  BenchRun r = RunKvbench({"--target", target, "--duration", "1"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(target + ": connect: Connection refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no target is reachable"), std::string::npos) << r.err;
}

TEST(KvbenchEndToEnd, AServerNamingAnotherProtocolVersionIsRefusedNamingBothVersions) {
  FakeKvServer server;
  const uint16_t other = net::kProtocolVersion == UINT16_MAX ? net::kProtocolVersion - 1 : net::kProtocolVersion + 1;
  server.set_hello_version(other);
  test::TempDir dir;
  BenchRun r = RunKvbench({"--target", server.target(), "--duration", "1"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(server.target() + ": HELLO reply names protocol version " + std::to_string(other) +
                       ", kvbench speaks version " + std::to_string(net::kProtocolVersion)),
            std::string::npos)
      << r.err;
  EXPECT_EQ(server.puts() + server.gets(), 0u);  // refused at the handshake, before any load
}

TEST(KvbenchEndToEnd, UsageErrorsExitTwoAndHelpExitsZero) {
  test::TempDir dir;
  BenchRun bad = RunKvbench({"--target", "kv://127.0.0.1:1", "--read-ratio", "2"}, dir);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--read-ratio"), std::string::npos) << bad.err;
  BenchRun help = RunKvbench({"--help"}, dir);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--pipeline"), std::string::npos);
}

// --- Against a real redis-server -------------------------------------------------

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/usr/local/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// True when what listens on the port answers a Redis PING (not merely accepts).
bool AnswersPing(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
    char buf[16];
    ssize_t n;
    while (reply.size() < 7 && (n = ::recv(fd, buf, sizeof(buf), 0)) > 0) reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply.rfind("+PONG\r\n", 0) == 0;
}

// Waits until the port answers PING; false when `server` exited first (it could
// not bind the port: whatever took it does not speak Redis) or after timeout_ms.
bool WaitForRedis(int port, int timeout_ms, test::ChildProcess* server) {
  for (int waited = 0; waited < timeout_ms; waited += 20) {
    if (server->Wait(0) != -1) return false;  // exited (and reaped)
    if (AnswersPing(port)) return true;
    ::usleep(20000);
  }
  return false;
}

// Starts a redis-server of the test's own (no system service, nothing saved) on a
// free port, picked again when another process took it first: redis then exits at
// once. Returns the port, or 0.
int StartRedis(const std::string& redis, const test::TempDir& dir, test::ChildProcess* server) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = test::PickFreePort();
    if (!server->Start({redis, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                        "no", "--dir", dir.path(), "--daemonize", "no"},
                       dir.Sub("redis.log"))) {
      return 0;
    }
    if (WaitForRedis(port, 5000, server)) return port;
    server->Kill();  // by pid; a no-op when it exited already
  }
  return 0;
}

TEST(KvbenchEndToEnd, RunAgainstRealRedisServer) {
  const std::string redis = FindOnPath("redis-server");
  if (redis.empty()) {
    GTEST_SKIP() << "redis-server is not on PATH (scripts/deps.sh installs it when run as root; else apt-get "
                    "install redis-server): the RESP end-to-end run is skipped; the RESP codec is still covered "
                    "by KvbenchResp*";
  }
  test::TempDir dir;
  test::ChildProcess server;
  const int port = StartRedis(redis, dir, &server);
  ASSERT_NE(port, 0) << "redis-server did not start; its log:\n" << ReadFile(dir.Sub("redis.log"));
  const std::string target = "redis://127.0.0.1:" + std::to_string(port);
  BenchRun r = RunKvbench(With(Common(target), {"--r", "2"}), dir);
  server.Signal(SIGTERM);
  server.Wait(5000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(JsonNumber(r.json, "ops"), 100);
  EXPECT_EQ(JsonNumber(r.json, "errors"), 0);
  EXPECT_EQ(JsonNumber(r.json, "misses"), 0);
  EXPECT_GT(JsonNumber(r.json, "reads_checked"), 10);
  EXPECT_EQ(JsonNumber(r.json, "stale_reads"), 0);
  EXPECT_GT(JsonNumber(r.json, "ops", "put"), 10);
}

}  // namespace
}  // namespace kvring::cmd::kvbench
