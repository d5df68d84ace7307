// test/cluster/cluster_test_util.h — small helpers shared by the real-process
// tests in test/cluster/: status assertions that print the status, a started
// single node, and key/value naming.
#pragma once

#include <gtest/gtest.h>

#include <sys/types.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/protocol.h"
#include "test/util/kvnode_process.h"
#include "test/util/test_util.h"

namespace kvring::test {

// Works with base::Status and base::Result<T>.
#define KV_ASSERT_OK(expr)                                \
  do {                                                    \
    const auto& kv_assert_ok_ = (expr);                   \
    ASSERT_TRUE(kv_assert_ok_.ok()) << ::kvring::test::StatusText(kv_assert_ok_); \
  } while (0)
#define KV_EXPECT_OK(expr)                                \
  do {                                                    \
    const auto& kv_expect_ok_ = (expr);                   \
    EXPECT_TRUE(kv_expect_ok_.ok()) << ::kvring::test::StatusText(kv_expect_ok_); \
  } while (0)

inline std::string StatusText(const base::Status& s) { return s.ToString(); }
template <typename T>
std::string StatusText(const base::Result<T>& r) {
  return r.status().ToString();
}

// Consistency levels as a test writes them.
constexpr uint8_t kOne = 1;
constexpr uint8_t kTwo = 2;
constexpr uint8_t kThree = 3;
constexpr uint8_t kQuorum = net::kConsistencyQuorum;
constexpr uint8_t kAll = net::kConsistencyAll;

inline std::string Key(const std::string& prefix, int i) { return prefix + "-" + std::to_string(i); }
inline std::string Value(const std::string& prefix, int i) { return prefix + "-value-" + std::to_string(i); }

// Checks that every key reads back with exactly its value through `client`
// at consistency r; returns "" or a description of the first few problems.
inline std::string CheckReadable(KvClient& client, const std::map<std::string, std::string>& pairs, uint8_t r) {
  std::string problems;
  int count = 0;
  for (const auto& [key, value] : pairs) {
    auto get = client.Get(key, r);
    std::string problem;
    if (!get.ok()) {
      problem = get.status().ToString();
    } else if (get->values() != std::vector<std::string>{value}) {
      problem = std::to_string(get->siblings.size()) + " sibling(s), not the acknowledged value";
    }
    if (!problem.empty() && count++ < 5) problems += "  " + key + " via " + client.address() + ": " + problem + "\n";
  }
  if (count > 5) problems += "  ... " + std::to_string(count - 5) + " more\n";
  return problems;
}

// The resident set size of process pid (VmRSS in /proc/PID/status), in bytes;
// -1 when the process is gone.
inline int64_t ProcessRssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmRSS:  1234 kB"
  }
  return -1;
}

// What a sanitizer build adds to a process's RSS beyond the memory it holds:
// ASan keeps up to 256 MiB of freed memory in quarantine, plus shadow memory and
// redzones. RSS bounds of the real-process tests add it (the -O2 build is the
// one that checks the bound; the ASan build checks memory safety).
#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kSanitizerRssSlack = 320ll << 20;
#else
constexpr int64_t kSanitizerRssSlack = 0;
#endif

// Under TSan a kvnode runs 5-15x slower and its shadow memory multiplies its RSS:
// a test of an RSS bound or of a deadline of about a second then measures TSan,
// not kvring. Such tests skip themselves there (the -O2 and ASan builds run them);
// the TSan build is for races.
#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizerBuild = true;
#else
constexpr bool kThreadSanitizerBuild = false;
#endif
#define KV_SKIP_UNDER_TSAN() \
  if (kThreadSanitizerBuild) GTEST_SKIP() << "an RSS bound or a 1 s deadline: not measurable under TSan"

// One kvnode (--n 1) in its own temp dir, started by Start().
class SingleNode {
 public:
  explicit SingleNode(KvnodeOptions options = {}) : node_(dir_.path(), std::move(options)) {}
  base::Status Start() {
    base::Status s = node_.Start();
    if (s.ok()) client_ = std::make_unique<KvClient>(node_.address());
    return s;
  }
  KvnodeProcess& node() { return node_; }
  KvClient& client() { return *client_; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;  // outlives the node (its log is read when a test failed)
  KvnodeProcess node_;
  std::unique_ptr<KvClient> client_;
};

}  // namespace kvring::test
